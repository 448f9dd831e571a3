"""End-to-end fixtures: the real Bolt app (SlackRuntime, HTTP mode) against a fake Slack on 127.0.0.1.

    pytest_plugins = ["tests.e2e.slack_harness"]

    async def test_something(slack):                  # SlackHarness: running, three people
        answer, url = await slack.sender.command("", user_id=slack.member_fr)
        post = await slack.fake.wait_for_post(url)   # what the user sees
        assert "Collectif — l’aide" in post.text

The harness adds a throwaway feature `e2e` (a moderator-only `purge`, a failing `boom`, a `missing`
raising NotFound, a button, a form and an event with a visible side effect) next to the real ones.
`slack.completions.wait(n)` waits until Bolt finished n listeners and the work they left running
(bot/slack_app/inflight.py) is done: acks, work and error handling.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_completion_handler import AsyncListenerCompletionHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.clock import FrozenClock
from bot.config import Secrets, Settings, load_settings
from bot.errors import InvalidInput, NotFound
from bot.features import CommandSpec, Feature
from bot.i18n import expand_commands
from bot.services import Services
from bot.slack_app.request import SlackRequest
from bot.slack_app.router import SlackRouter
from bot.slack_app.runtime import SlackRuntime
from storage.engine import Database
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackSender

E2E_FEATURE = Feature(
    name="e2e",
    package="tests.e2e",
    commands=(
        CommandSpec("purge", "e2e", moderator_only=True),
        CommandSpec("boom", "e2e"),
        CommandSpec("missing", "e2e"),
    ),
    slack_listeners=__name__,
)
E2E_MESSAGES = {
    "fr": {
        "e2e.commands.purge.name": "purger",
        "e2e.commands.purge.description": "Purge de test réservée aux modérateurs",
        "e2e.commands.boom.name": "boum",
        "e2e.commands.boom.description": "Échoue exprès",
        "e2e.commands.missing.name": "absent",
        "e2e.commands.missing.description": "Cherche ce qui n’existe pas",
        "e2e.purged": "Purge faite.",
        "e2e.title_required": "Le titre est obligatoire.",
    },
    "en": {
        "e2e.commands.purge.name": "purge",
        "e2e.commands.purge.description": "Moderators-only test purge",
        "e2e.commands.boom.name": "boom",
        "e2e.commands.boom.description": "Fails on purpose",
        "e2e.commands.missing.name": "missing",
        "e2e.commands.missing.description": "Looks for what does not exist",
        "e2e.purged": "Purge done.",
        "e2e.title_required": "The title is required.",
    },
}
FORM_VIEW = {"type": "modal", "callback_id": "e2e:form", "title": {"type": "plain_text", "text": "Form"},
             "blocks": []}


# -- the throwaway feature's Slack part ------------------------------------------------------------


async def purge(request: SlackRequest) -> None:
    await request.reply(request.t("e2e.purged"))


async def boom(request: SlackRequest) -> None:
    raise RuntimeError("kaboom")


async def missing(request: SlackRequest) -> None:
    raise NotFound()


async def open_form(request: SlackRequest) -> None:
    assert request.match is not None
    await request.open_modal({**FORM_VIEW, "private_metadata": request.match["n"]})


async def submit_form(request: SlackRequest) -> None:
    values = request.body["view"]["state"]["values"]
    title = values.get("title_block", {}).get("title", {}).get("value") or ""
    if title.startswith("slow"):  # a handler stuck behind a write lock for longer than Slack waits
        await asyncio.sleep(2.5)
    if not title.strip() or title == "slow but empty":
        raise InvalidInput({"title_block": ("e2e.title_required", {})})
    await request.client.chat_postMessage(channel="CGENERAL", text=title)


async def on_reaction(request: SlackRequest) -> None:
    """A visible side effect per event, to see whether a retry repeats it."""
    await request.client.chat_postMessage(channel=request.body["event"]["item"]["channel"], text="noted")


def register(router: SlackRouter) -> None:
    router.subcommand("purge", purge)
    router.subcommand("boom", boom)
    router.subcommand("missing", missing)
    router.action(r"e2e:open:(?P<n>[0-9]+)", open_form)
    router.view(r"e2e:form", submit_form)
    router.event("reaction_added", on_reaction)


# -- harness ---------------------------------------------------------------------------------------


class Completions(AsyncListenerCompletionHandler):
    """Counts the listeners Bolt finished (it calls this after the work and any error handling)."""

    def __init__(self, app: AsyncApp) -> None:
        self.app = app
        self.inner = app.listener_runner.listener_completion_handler
        self.count = 0
        self._changed = asyncio.Condition()
        app.listener_runner.listener_completion_handler = self

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        await self.inner.handle(request=request, response=response)
        self.count += 1
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, count: int, *, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: self.count >= count)
            inflight = getattr(self.app, "inflight", None)  # Bolt answered at the ack: the rest runs on
            if inflight is not None:
                await inflight.wait_idle()


@dataclass
class SlackHarness:
    fake: FakeSlack
    services: Services
    runtime: SlackRuntime
    sender: SlackSender
    completions: Completions
    member_fr: str = "UCAMILLE"
    member_en: str = "UJORDAN"
    admin: str = "UDOMINIQUE"

    async def form_from(self, command: str, callback_id: str,
                        values: Callable[[], Awaitable[dict[str, Any]]], *, user_id: str,
                        channel_id: str) -> tuple[Any, str]:
        """`command` typed in `channel_id`, its form submitted with `await values()` (read once the
        community exists): (the answer, the form's metadata)."""
        assert (await self.sender.command(command, user_id=user_id, channel_id=channel_id))[0].status == 200
        metadata = (await self.fake.wait_for_call("views.open")).args["view"]["private_metadata"]
        answer = await self.sender.view_submission(callback_id, await values(), user_id=user_id,
                                                   private_metadata=metadata)
        return answer, metadata

    def t(self, locale: str, key: str, **params: Any) -> str:
        """A message as Slack shows it (commands as `/collectif …`: bot.i18n.expand_commands)."""
        return expand_commands(self.services.t(locale, key, **params), "slack")


def slack_settings(database_url: str, fake: FakeSlack, **env: str) -> Settings:
    settings, _ = load_settings(env={
        "COLLECTIF_DATABASE__URL": database_url,
        "COLLECTIF_SLACK__MODE": "http",
        "COLLECTIF_SLACK__HTTP_HOST": "127.0.0.1",
        "COLLECTIF_SLACK__HTTP_PORT": "0",
        "COLLECTIF_SLACK__API_BASE_URL": fake.api_base_url,
        **env,
    })
    return settings


def slack_secrets(*, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> Secrets:
    return Secrets(slack_bot_token=SecretStr(bot_token), slack_app_token=SecretStr(app_token),
                   slack_signing_secret=SecretStr(SIGNING_SECRET))


def add_e2e_feature(services: Services) -> None:
    services.features = [*services.features, E2E_FEATURE]
    for locale, messages in E2E_MESSAGES.items():
        services.catalog.messages[locale].update(messages)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user("UCAMILLE", "camille", locale="fr-FR")
    fake.add_user("UJORDAN", "jordan", locale="en-US")
    fake.add_user("UDOMINIQUE", "dominique", locale="fr-FR", is_admin=True)
    yield fake
    await fake.stop()


@pytest.fixture
async def slack_services(fake_slack: FakeSlack, sqlite_url: str, db: Database,
                         clock: FrozenClock) -> AsyncIterator[Services]:
    services = Services.build(slack_settings(sqlite_url, fake_slack), slack_secrets(), clock=clock, db=db)
    add_e2e_feature(services)
    yield services
    await services.scheduler.stop()


@pytest.fixture
async def slack(fake_slack: FakeSlack, slack_services: Services) -> AsyncIterator[SlackHarness]:
    """The real SlackRuntime in HTTP mode on 127.0.0.1, port 0, talking to the fake Slack."""
    runtime = SlackRuntime(slack_services)
    await runtime.start()
    assert runtime.app is not None
    completions = Completions(runtime.app)
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"http://127.0.0.1:{runtime.port}/slack/events", fake_slack, session)
        yield SlackHarness(fake_slack, slack_services, runtime, sender, completions)
        await runtime.stop()
    # Whatever a test checks, the bot never built a call Slack refuses (a form that would not open).
    assert [(c.method, c.error) for c in fake_slack.malformed_calls()] == []
