"""Slack distribution end to end: the real SlackRuntime (HTTP mode) with SLACK_CLIENT_ID / SECRET.

An admin of workspace A, then of B, goes through /slack/install -> Slack's consent screen -> the
redirect URL with a code; the fake's oauth.v2.access trades it for the workspace's token, which is
stored. Then each workspace's slash commands and notifier posts use that workspace's token only, and
A uninstalling deletes A's installation and pauses A's community while B goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.cards import Card
from bot.clock import FrozenClock
from bot.config import Secrets
from bot.notifier import PostRef
from bot.services import Services
from bot.slack_app.runtime import SlackRuntime
from storage.engine import Database
from storage.models import Community, slack_bots, slack_installations
from tests.e2e.slack_harness import Completions, add_e2e_feature, slack_settings
from tests.fakes.slack_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    FakeSlack,
    FakeWorkspace,
    SlackSender,
)

pytest_plugins = ["tests.e2e.slack_harness"]

REQUEST_URL = "https://bot.example.org/slack/events"
REDIRECT_URI = "https://bot.example.org/slack/oauth_redirect"
STATE_COOKIE = "slack-app-oauth-state"


def distribution_secrets() -> Secrets:
    return Secrets(slack_signing_secret=SecretStr(SIGNING_SECRET), slack_client_id=SecretStr(CLIENT_ID),
                   slack_client_secret=SecretStr(CLIENT_SECRET))


@pytest.fixture
async def distributed(fake_slack: FakeSlack, sqlite_url: str, db: Database,
                      clock: FrozenClock) -> AsyncIterator[tuple[Services, SlackRuntime, str]]:
    settings = slack_settings(sqlite_url, fake_slack, COLLECTIF_SLACK__REQUEST_URL=REQUEST_URL)
    services = Services.build(settings, distribution_secrets(), clock=clock, db=db)
    add_e2e_feature(services)
    runtime = SlackRuntime(services)
    await runtime.start()
    try:
        yield services, runtime, f"http://127.0.0.1:{runtime.port}"
    finally:
        await runtime.stop()
        await services.scheduler.stop()


async def install(session: aiohttp.ClientSession, base: str, fake: FakeSlack, team_id: str) -> str:
    """The admin's browser: /slack/install, Slack's consent (a code), back to the redirect URL."""
    async with session.get(f"{base}/slack/install", allow_redirects=False) as answer:
        assert answer.status == 302
        consent = urlsplit(answer.headers["Location"])
        cookie = answer.cookies[STATE_COOKIE].value
    assert f"{consent.scheme}://{consent.netloc}{consent.path}" == "https://slack.com/oauth/v2/authorize"
    query = parse_qs(consent.query)
    assert query["client_id"] == [CLIENT_ID]
    assert {"commands", "chat:write", "users:read"} <= set(query["scope"][0].split(","))
    assert query["redirect_uri"] == [REDIRECT_URI]
    params = {"code": fake.install_code(team_id), "state": query["state"][0]}
    async with session.get(f"{base}/slack/oauth_redirect", params=params,
                           headers={"Cookie": f"{STATE_COOKIE}={cookie}"}) as answer:
        assert answer.status == 200, await answer.text()
        return await answer.text()


async def stored_tokens(db: Database) -> dict[str, str]:
    async with db.transaction(write=False) as session:
        rows = (await session.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token))).all()
        installs = (await session.execute(select(slack_installations.c.team_id))).scalars().all()
    assert sorted(installs) == sorted(team for team, _ in rows)
    return dict(rows)


async def community(db: Database, team_id: str) -> Community | None:
    async with db.transaction(write=False) as session:
        return await session.scalar(select(Community).where(Community.platform == "slack",
                                                            Community.external_id == team_id))


async def command(sender: SlackSender, fake: FakeSlack, team: FakeWorkspace, user_id: str) -> str:
    payload = sender.command_payload("", user_id=user_id, team=team)
    answer = await sender.send(urlencode(payload), "application/x-www-form-urlencoded")
    assert answer.status == 200
    return (await fake.wait_for_post(payload["response_url"])).text


def refreshes(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]


def teams_seen(fake: FakeSlack, workspace: FakeWorkspace) -> set[str]:
    return {c.method for c in fake.calls_with_token(workspace.bot_token)}


async def test_two_workspaces_install_each_answered_with_its_own_token_and_an_uninstall_pauses_one(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # even at DEBUG, no token nor the client secret is logged
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    alpha = fake_slack.add_workspace("TALPHA", "alpha")
    beta = fake_slack.add_workspace("TBETA", "beta")
    assert not fake_slack.calls_to("auth.test")  # no token of its own to check at start

    async with aiohttp.ClientSession() as browser:
        # A redirect without the state cookie (a forged or replayed link) installs nothing.
        forged = {"code": fake_slack.install_code("TALPHA"), "state": "forged"}
        async with browser.get(f"{base}/slack/oauth_redirect", params=forged) as answer:
            assert answer.status == 400
        assert await stored_tokens(services.db) == {}
        assert not fake_slack.calls_to("oauth.v2.access")

        await install(browser, base, fake_slack, "TALPHA")
        await install(browser, base, fake_slack, "TBETA")
    exchanged = fake_slack.calls_to("oauth.v2.access")
    assert [c.args["redirect_uri"] for c in exchanged] == [REDIRECT_URI, REDIRECT_URI]
    assert await stored_tokens(services.db) == {"TALPHA": alpha.bot_token, "TBETA": beta.bot_token}

    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"{base}/slack/events", fake_slack, session)
        # Each workspace's command is answered, every Web API call made with its own token.
        assert "Collectif — help" in await command(sender, fake_slack, alpha, "UJORDAN")
        assert "Collectif — help" in await command(sender, fake_slack, beta, "UJORDAN")
        await completions.wait(2)
        assert {"auth.test", "users.info"} <= teams_seen(fake_slack, alpha)
        assert {"auth.test", "users.info"} <= teams_seen(fake_slack, beta)
        assert not fake_slack.calls_with_token(fake_slack.bot_token)  # no single-workspace token in use
        alpha_community, beta_community = await community(services.db, "TALPHA"), await community(
            services.db, "TBETA")
        assert alpha_community is not None and beta_community is not None
        assert alpha_community.id != beta_community.id

        # The notifier (reminders, cards from jobs) posts with the community's workspace token.
        notifier = services.notifiers["slack"]
        ref = await notifier.post("TBETA", "CGENERAL", Card(title="Pour B"))
        assert ref is not None
        posted = fake_slack.calls_to("chat.postMessage")[-1]
        assert posted.token == beta.bot_token

        # A uninstalls: its installation is deleted, its community paused; B is untouched.
        fake_slack.revoke("TALPHA")
        event = sender.event_payload({"type": "app_uninstalled"}, team=alpha)
        assert (await sender.send(json.dumps(event), "application/json")).status == 200
        await completions.wait(3)
        assert await stored_tokens(services.db) == {"TBETA": beta.bot_token}
        paused = await community(services.db, "TALPHA")
        assert paused is not None and not paused.active
        still = await community(services.db, "TBETA")
        assert still is not None and still.active

        calls_before = len(fake_slack.calls)
        assert await notifier.post("TALPHA", "CGENERAL", Card(title="Pour A")) is None
        assert len(fake_slack.calls) == calls_before  # nothing sent without a token for A
        assert "reinstall" in await command(sender, fake_slack, alpha, "UJORDAN")
        assert "Collectif — help" in await command(sender, fake_slack, beta, "UJORDAN")
        assert not any(c.token == alpha.bot_token for c in fake_slack.calls[calls_before:])

    # Installing again brings A's community back (its purge cancelled) without waiting for a command.
    async with aiohttp.ClientSession() as browser:
        fake_slack.workspaces[alpha.bot_token] = alpha
        await install(browser, base, fake_slack, "TALPHA")
    back = await community(services.db, "TALPHA")
    assert back is not None and back.active
    assert await stored_tokens(services.db) == {"TALPHA": alpha.bot_token, "TBETA": beta.bot_token}
    assert any("oauth.v2.access" in r.getMessage() or "TALPHA" in r.getMessage() for r in caplog.records)
    for secret in (alpha.bot_token, beta.bot_token, CLIENT_SECRET):
        assert not [r for r in caplog.records if secret in r.getMessage()]


async def test_tokens_revoked_for_a_user_token_only_keeps_the_installation(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    alpha = fake_slack.add_workspace("TALPHA", "alpha")
    async with aiohttp.ClientSession() as browser:
        await install(browser, base, fake_slack, "TALPHA")
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"{base}/slack/events", fake_slack, session)
        revoked: dict[str, Any] = {"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER"]}}
        await sender.send(json.dumps(sender.event_payload(revoked, team=alpha)), "application/json")
        await completions.wait(1)
        assert await stored_tokens(services.db) == {"TALPHA": alpha.bot_token}
        revoked = {"type": "tokens_revoked", "tokens": {"bot": [alpha.bot_user_id]}}
        await sender.send(json.dumps(sender.event_payload(revoked, team=alpha)), "application/json")
        await completions.wait(2)
        assert await stored_tokens(services.db) == {}


async def test_a_rotating_token_is_refreshed_before_it_expires_for_posts_and_requests(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    rotating = fake_slack.add_workspace("TROT", "rot", expires_in=60)  # expires within the 2-hour margin
    first = rotating.bot_token
    async with aiohttp.ClientSession() as browser:
        await install(browser, base, fake_slack, "TROT")
    assert await stored_tokens(services.db) == {"TROT": first}

    # A post from a job: the token is refreshed first, the post made with the new one, which is stored.
    assert await services.notifiers["slack"].post("TROT", "CGENERAL", Card(title="Rappel")) is not None
    assert len(refreshes(fake_slack)) == 1
    second = rotating.bot_token
    assert second != first
    assert fake_slack.calls_to("chat.postMessage")[-1].token == second
    assert await stored_tokens(services.db) == {"TROT": second}

    # A command: Bolt finds the stored new token (valid 12 hours): no second refresh, answered.
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"{base}/slack/events", fake_slack, session)
        assert "Collectif — help" in await command(sender, fake_slack, rotating, "UJORDAN")
        await completions.wait(1)
    assert fake_slack.calls_to("users.info")[-1].token == second
    assert len(refreshes(fake_slack)) == 1


async def test_a_request_refreshes_a_rotating_token_through_bolt_and_the_notifier_uses_the_new_one(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    rotating = fake_slack.add_workspace("TROT", "rot", expires_in=60)
    first = rotating.bot_token
    async with aiohttp.ClientSession() as browser:
        await install(browser, base, fake_slack, "TROT")
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"{base}/slack/events", fake_slack, session)
        assert "Collectif — help" in await command(sender, fake_slack, rotating, "UJORDAN")
        await completions.wait(1)
    assert len(refreshes(fake_slack)) == 1  # by Bolt's authorize, on the fake (not slack.com)
    second = rotating.bot_token
    assert second != first
    assert fake_slack.calls_to("users.info")[-1].token == second
    assert await stored_tokens(services.db) == {"TROT": second}
    assert await services.notifiers["slack"].post("TROT", "CGENERAL", Card(title="Rappel")) is not None
    assert fake_slack.calls_to("chat.postMessage")[-1].token == second
    assert len(refreshes(fake_slack)) == 1


async def test_a_token_slack_refuses_is_forgotten_as_if_the_uninstall_event_had_come(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str], caplog: pytest.LogCaptureFixture,
) -> None:
    # Slack gives up on an event after three retries within the hour: an uninstall while Collectif is
    # down is never told. Every later call with the token is refused; the first refusal must do the
    # event's work, and nothing may be sent with that token again.
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    alpha = fake_slack.add_workspace("TALPHA", "alpha")
    beta = fake_slack.add_workspace("TBETA", "beta")
    async with aiohttp.ClientSession() as browser:
        await install(browser, base, fake_slack, "TALPHA")
        await install(browser, base, fake_slack, "TBETA")
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"{base}/slack/events", fake_slack, session)
        await command(sender, fake_slack, alpha, "UJORDAN")  # A's community exists
        await completions.wait(1)
    notifier = services.notifiers["slack"]
    teams = runtime.app.teams
    assert teams is not None
    # A token that is no longer the stored one (rotated, installed again since) changes nothing.
    await teams.refused("TALPHA", "xoxb-talpha-an-older-token", "invalid_auth")
    assert await stored_tokens(services.db) == {"TALPHA": alpha.bot_token, "TBETA": beta.bot_token}

    fake_slack.revoke("TALPHA")  # uninstalled; the app_uninstalled event was lost
    # Jobs running at once all meet the refusal: answered as for a gone workspace, handled once.
    posts = [notifier.post("TALPHA", "CGENERAL", Card(title=f"Rappel {n}")) for n in range(3)]
    assert await asyncio.gather(*posts, notifier.dm("TALPHA", "UJORDAN", Card(title="DM"))) == [None] * 4
    assert await stored_tokens(services.db) == {"TBETA": beta.bot_token}
    paused = await community(services.db, "TALPHA")
    assert paused is not None and not paused.active
    warned = [r for r in caplog.records if "refused the token of workspace TALPHA" in r.getMessage()]
    assert len(warned) == 1 and "invalid_auth" in warned[0].getMessage()

    used = len(fake_slack.calls_with_token(alpha.bot_token))
    assert await notifier.post("TALPHA", "CGENERAL", Card(title="Rappel 2")) is None
    assert await notifier.edit("TALPHA", PostRef("CGENERAL", "1.2"), Card(title="x")) is False
    assert await notifier.departed("TALPHA", ["UJORDAN"]) == set()
    assert fake_slack.calls_with_token(alpha.bot_token)[used:] == []
    assert await notifier.post("TBETA", "CGENERAL", Card(title="Pour B")) is not None  # B goes on


async def consent(browser: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    """/slack/install: the state cookie and the state Slack's consent screen is given."""
    async with browser.get(f"{base}/slack/install", allow_redirects=False) as answer:
        cookie = answer.cookies[STATE_COOKIE].value
        return cookie, parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]


async def back_from_slack(browser: aiohttp.ClientSession, base: str, cookie: str | None,
                          **params: str) -> tuple[int, str, str]:
    headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie else {}
    async with browser.get(f"{base}/slack/oauth_redirect", params=params, headers=headers) as answer:
        return answer.status, await answer.text(), answer.headers.get("Set-Cookie", "")


async def test_a_cancelled_or_broken_install_is_told_plainly_in_french_and_english(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    services, _, base = distributed
    fake_slack.add_workspace("TALPHA", "alpha")
    again = 'href="https://bot.example.org/slack/install"'  # built from slack.request_url
    async with aiohttp.ClientSession() as browser:
        # The admin presses Cancel on Slack's consent screen.
        cookie, state = await consent(browser, base)
        status, page, set_cookie = await back_from_slack(browser, base, cookie, error="access_denied",
                                                         state=state)
        assert status == 200 and again in page
        assert "Something Went Wrong" not in page and "Refer to the documents" not in page
        for locale in ("fr", "en"):
            assert html.escape(services.t(locale, "slack.install_cancelled")) in page
        assert set_cookie.startswith(f"{STATE_COOKIE}=deleted")

        # The same state used twice (a reload, a replayed link): expired, start again.
        cookie, state = await consent(browser, base)
        code = fake_slack.install_code("TALPHA")
        assert (await back_from_slack(browser, base, cookie, code=code, state=state))[0] == 200
        status, page, _ = await back_from_slack(browser, base, cookie, code=code, state=state)
        assert status == 401 and again in page
        assert html.escape(services.t("en", "slack.install_expired")) in page

        # Back in a browser without the install's cookie.
        _, state = await consent(browser, base)
        status, page, _ = await back_from_slack(browser, base, None, code="c", state=state)
        assert status == 400 and html.escape(services.t("fr", "slack.install_other_browser")) in page

        # Whatever else Slack (or a forged link) says is named, escaped.
        cookie, state = await consent(browser, base)
        status, page, _ = await back_from_slack(browser, base, cookie, error="<script>x</script>",
                                                state=state)
        assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page and again in page
    assert list(await stored_tokens(services.db)) == ["TALPHA"]  # the one install that went through


GRID = "E0GRID"


def grid_installs(fake: FakeSlack, team_id: str) -> None:
    """`team_id` is a workspace of an Enterprise Grid organization (a plain, not org-wide, install):
    Slack's oauth.v2.access then names the organization, stored as the installation's enterprise_id."""
    original = fake._oauth_v2_access

    def oauth_v2_access(args: dict[str, Any], auth: str) -> dict[str, Any]:
        answer = original(args, auth)
        if answer.get("ok") and (answer.get("team") or {}).get("id") == team_id:
            answer = {**answer, "enterprise": {"id": GRID, "name": "Grid Org"}}
        return answer

    fake._oauth_v2_access = oauth_v2_access  # type: ignore[method-assign]


async def grid_command(sender: SlackSender, fake: FakeSlack, team: FakeWorkspace) -> str:
    """/collectif from the Grid workspace: Slack names the organization in every request."""
    payload = {**sender.command_payload("", user_id="UJORDAN", team=team), "enterprise_id": GRID,
               "enterprise_name": "Grid Org"}
    assert (await sender.send(urlencode(payload), "application/x-www-form-urlencoded")).status == 200
    return (await fake.wait_for_post(payload["response_url"])).text


async def stored_enterprises(db: Database) -> dict[str, str | None]:
    async with db.transaction(write=False) as session:
        return dict((await session.execute(select(slack_bots.c.team_id, slack_bots.c.enterprise_id))).all())


@dataclass
class Installed:
    """Workspaces installed through the real OAuth flow, and a way to send them requests."""

    services: Services
    completions: Completions
    sender: SlackSender
    teams: dict[str, FakeWorkspace]


@contextlib.asynccontextmanager
async def installed(fake: FakeSlack, distributed: tuple[Services, SlackRuntime, str], *teams: str,
                    grid: str | None = None) -> AsyncIterator[Installed]:
    """Installs each of `teams` ("TALPHA:alpha": id and domain); `grid`: that one is a Grid workspace."""
    services, runtime, base = distributed
    assert runtime.app is not None
    completions = Completions(runtime.app)
    workspaces = {team_id: fake.add_workspace(team_id, domain)
                  for team_id, domain in (team.split(":") for team in teams)}
    if grid is not None:
        grid_installs(fake, grid)
    async with aiohttp.ClientSession() as browser:
        for team_id in workspaces:
            await install(browser, base, fake, team_id)
    async with aiohttp.ClientSession() as session:
        yield Installed(services, completions, SlackSender(f"{base}/slack/events", fake, session), workspaces)


async def test_a_workspace_of_an_enterprise_grid_gets_its_cards_and_dms(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    # README supports installing in the workspaces of a Grid (only org-wide installs are not): the
    # installation is stored with the organization's id, and the notifier must still find its token.
    async with installed(fake_slack, distributed, "TGRID:gridteam", grid="TGRID") as it:
        grid = it.teams["TGRID"]
        assert await stored_tokens(it.services.db) == {"TGRID": grid.bot_token}
        assert await stored_enterprises(it.services.db) == {"TGRID": GRID}
        assert "Collectif — help" in await grid_command(it.sender, fake_slack, grid)
        await it.completions.wait(1)

    notifier = it.services.notifiers["slack"]
    assert await notifier.post("TGRID", "CGENERAL", Card(title="Carte")) is not None
    assert fake_slack.calls_to("chat.postMessage")[-1].token == grid.bot_token
    assert await notifier.dm("TGRID", "UJORDAN", Card(title="DM")) is not None
    assert fake_slack.calls_to("chat.postMessage")[-1].token == grid.bot_token


async def test_a_workspace_of_an_enterprise_grid_that_uninstalls_loses_its_tokens(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    async with installed(fake_slack, distributed, "TGRID:gridteam", "TBETA:beta", grid="TGRID") as it:
        grid = it.teams["TGRID"]
        assert "Collectif — help" in await grid_command(it.sender, fake_slack, grid)
        await it.completions.wait(1)
        fake_slack.revoke("TGRID")
        event = {**it.sender.event_payload({"type": "app_uninstalled"}, team=grid), "enterprise_id": GRID}
        assert (await it.sender.send(json.dumps(event), "application/json")).status == 200
        await it.completions.wait(2)
    assert await stored_tokens(it.services.db) == {"TBETA": it.teams["TBETA"].bot_token}
    await paused(it.services.db, "TGRID")


async def test_a_refused_token_of_an_enterprise_grid_workspace_is_forgotten(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    # The uninstall event was lost: the first refusal of the token does its work, Grid or not.
    async with installed(fake_slack, distributed, "TGRID:gridteam", grid="TGRID") as it:
        await grid_command(it.sender, fake_slack, it.teams["TGRID"])  # the community exists
        await it.completions.wait(1)
    fake_slack.revoke("TGRID")
    assert await it.services.notifiers["slack"].post("TGRID", "CGENERAL", Card(title="Rappel")) is None
    assert await stored_tokens(it.services.db) == {}
    await paused(it.services.db, "TGRID")


async def test_a_late_retry_of_an_uninstall_from_before_a_reinstall_changes_nothing(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    # Slack retries an event whose delivery failed 1 then 5 minutes later: meanwhile the admin
    # installed the app again. The old app_uninstalled must not delete the new installation.
    async with installed(fake_slack, distributed, "TALPHA:alpha") as it:  # installed (again) just now
        alpha, sender = it.teams["TALPHA"], it.sender
        assert "Collectif — help" in await command(sender, fake_slack, alpha, "UJORDAN")
        await it.completions.wait(1)
        then = time.time() - 180
        late = sender.event_payload({"type": "app_uninstalled", "event_ts": f"{then:.6f}"}, team=alpha)
        late["event_time"] = int(then)
        retried = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
        assert (await sender.send(json.dumps(late), "application/json", headers=retried)).status == 200
        await it.completions.wait(2)
        assert await stored_tokens(it.services.db) == {"TALPHA": alpha.bot_token}
        kept = await community(it.services.db, "TALPHA")
        assert kept is not None and kept.active
        assert "Collectif — help" in await command(sender, fake_slack, alpha, "UJORDAN")
        await it.completions.wait(3)

        # An uninstall after the install (its event_time in the same second or later) is done.
        fake_slack.revoke("TALPHA")
        now = sender.event_payload({"type": "app_uninstalled"}, team=alpha)
        assert (await sender.send(json.dumps(now), "application/json")).status == 200
        await it.completions.wait(4)
    assert await stored_tokens(it.services.db) == {}
    await paused(it.services.db, "TALPHA")


async def test_a_command_from_an_uninstalled_workspace_is_answered_in_french_and_english(
    fake_slack: FakeSlack, distributed: tuple[Services, SlackRuntime, str],
) -> None:
    # Bolt answers itself when a workspace has no installation: not its English-only apology.
    async with installed(fake_slack, distributed, "TALPHA:alpha") as it:
        alpha, sender = it.teams["TALPHA"], it.sender
        fake_slack.revoke("TALPHA")
        event = sender.event_payload({"type": "app_uninstalled"}, team=alpha)
        assert (await sender.send(json.dumps(event), "application/json")).status == 200
        await it.completions.wait(1)
        told = await command(sender, fake_slack, alpha, "UCAMILLE")
    french = it.services.t("fr", "slack.not_installed_anymore")
    english = it.services.t("en", "slack.not_installed_anymore")
    assert told == f"{french}\n{english}"  # the community's default language (French) first
    assert "We apologize" not in told


async def paused(db: Database, team_id: str) -> None:
    found = await community(db, team_id)
    assert found is not None and not found.active
