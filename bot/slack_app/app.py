"""Build the Bolt AsyncApp from Services: one Web API client on a shared aiohttp session, no globals."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.config import SUPPORTED_LOCALES
from bot.slack_app import events
from bot.slack_app.callers import People
from bot.slack_app.client import build_client
from bot.slack_app.errors import ErrorReporter
from bot.slack_app.inflight import InFlight
from bot.slack_app.installations import INSTALLATIONS_KEY, TeamClients, oauth_for
from bot.slack_app.router import Dispatcher, SlackRouter, load_listeners
from bot.slack_app.workspace import OneWorkspace

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.features import Feature
    from bot.services import Services


# Every bot scope and why it is needed; features add theirs with router.need_scope().
BASE_SCOPES = {
    "commands": "the /collectif slash command",
    "chat:write": "answers, cards and reminders in the channels Collectif was added to, and in its DMs",
    "users:read": "users.info: the member's language, whether they are a workspace admin (moderator), "
    "and whether an opted-in member left (a pairing round skips them)",
    "im:write": "conversations.open: reminders and data exports sent as direct messages",
}
def build_router(settings: Settings, features: Iterable[Feature]) -> SlackRouter:
    """The router filled by the runtime's own listeners and every feature's Slack part."""
    router = SlackRouter(command=settings.slack.command)
    events.register(router)
    return load_listeners(router, features)


def scope_reasons(settings: Settings, features: Iterable[Feature]) -> dict[str, list[tuple[str, str]]]:
    """Each bot scope the app asks for -> every (who, why): the runtime's, then each feature's need_scope."""
    router = build_router(settings, list(features))
    reasons = {scope: [("runtime", why)] for scope, why in BASE_SCOPES.items()}
    for scope, asked in router.scopes.items():
        reasons.setdefault(scope, []).extend(asked)
    return dict(sorted(reasons.items()))


def every_language(services: Services, key: str) -> str:
    """A message in every language, the community default first: for when the member's is unknown."""
    default = services.settings.community.locale
    locales = dict.fromkeys([default, *SUPPORTED_LOCALES])
    return "\n".join(dict.fromkeys(services.t(locale, key) for locale in locales))


class CollectifApp(AsyncApp):
    """Bolt's AsyncApp with the listener work still running after Slack got its answer."""

    inflight: InFlight
    teams: TeamClients | None  # distributed: each workspace's client (None: one SLACK_BOT_TOKEN)
    workspace: OneWorkspace | None  # one SLACK_BOT_TOKEN: its workspace, the only one served

    def web_app(self, path: str = "/slack/events", port: int = 3000) -> web.Application:
        """HTTP mode: stopping the server (AppRunner.cleanup) first drains the work in flight."""
        application = super().web_app(path=path, port=port)
        application.on_shutdown.append(self._drain)
        return application

    async def _drain(self, _application: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        """Wait a little for the work in flight, then cancel it: before the HTTP session closes."""
        await self.inflight.drain()


def build_app(services: Services, *, session: aiohttp.ClientSession | None = None) -> CollectifApp:
    """The Bolt app, its listeners and error handler registered.

    For the workspace of SLACK_BOT_TOKEN, or, distributed, for every workspace that installed it
    (bot/slack_app/installations.py).

    `process_before_response=True`: Bolt answers Slack when the listener returns, and the listeners
    return as soon as their work acknowledged, the work going on in a task (bot/slack_app/inflight.py).
    With False, Bolt would poll for the ack every 10 ms: measured ~12 ms per ack instead of ~1 ms.
    """
    secrets = services.secrets
    distributed = secrets.slack_distributed(services.settings.slack.mode)
    if secrets.slack_bot_token is None and not distributed:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    # Retries 429 (after Retry-After), 500/503 and dropped connections; Bolt copies them per request.
    token = secrets.slack_bot_token.get_secret_value() if secrets.slack_bot_token else None
    client = build_client(token, services.settings.slack.api_base, session)
    signing_secret = secrets.slack_signing_secret.get_secret_value() if secrets.slack_signing_secret else ""
    options: dict[str, Any] = {}  # the OAuth flow (distributed), or the one-workspace check
    teams: TeamClients | None = None
    workspace: OneWorkspace | None = None
    if distributed:
        scopes = list(scope_reasons(services.settings, services.features))
        options["oauth_flow"], teams = oauth_for(services, client, scopes)
    else:  # before Bolt's authorization: a request from another workspace costs no API call
        workspace = OneWorkspace(services)
        options["before_authorize"] = workspace.middleware
    app = CollectifApp(
        client=client,
        # Passed explicitly (even empty in Socket Mode, which does not sign): Bolt would read os.environ.
        signing_secret=signing_secret,
        request_verification_enabled=services.settings.slack.mode == "http" or bool(signing_secret),
        process_before_response=True,
        # No installation for the workspace (uninstalled) or a token Slack refuses: Bolt answers the
        # member itself, before any listener; in every language, since the member's is unknown.
        user_facing_authorize_error_message=every_language(services, "slack.not_installed_anymore"),
        name="collectif",
        logger=logging.getLogger("bot.slack_app.bolt"),
        **options,
    )
    app.teams = teams
    app.workspace = workspace
    if teams is not None:
        store = teams.store

        async def with_installations(context: AsyncBoltContext,
                                     next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
            context[INSTALLATIONS_KEY] = store  # for app_uninstalled / tokens_revoked (events.py)
            return await next()

        app.middleware(with_installations)
    people = People(services.clock)
    reporter = ErrorReporter(services, people, session)
    app.inflight = InFlight(reporter)
    router = build_router(services.settings, services.features)
    Dispatcher(services, router, people, session, reporter, app.inflight).install(app)
    reporter.install(app)
    return app
