"""SlackRuntime start and stop: Socket Mode through the fake's WebSocket, refused tokens, clean shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import lifecycle
from bot.clock import FrozenClock
from bot.context import Origin
from bot.services import Services
from bot.slack_app.runtime import SlackRuntime, SlackStartError
from storage.engine import Database
from storage.models import Community, Job
from tests.e2e.slack_harness import Completions, add_e2e_feature, slack_secrets, slack_settings
from tests.fakes.slack_api import APP_TOKEN, FakeSlack, SlackSender


@pytest.fixture
async def socket_services(fake_slack: FakeSlack, sqlite_url: str, db: Database,
                          clock: FrozenClock) -> AsyncIterator[Services]:
    settings = slack_settings(sqlite_url, fake_slack, COLLECTIF_SLACK__MODE="socket")
    services = Services.build(settings, slack_secrets(), clock=clock, db=db)
    add_e2e_feature(services)
    yield services
    await services.scheduler.stop()


async def test_socket_mode_answers_a_slash_command_and_dedupes_retried_events(
    fake_slack: FakeSlack, socket_services: Services,
) -> None:
    runtime = SlackRuntime(socket_services)
    await runtime.start()
    assert runtime.app is not None
    completions = Completions(runtime.app)
    try:
        await asyncio.wait_for(fake_slack.socket_connected.wait(), 5)
        assert fake_slack.calls_to("apps.connections.open")[0].token == APP_TOKEN
        payloads = SlackSender("http://unused", fake_slack, session=None)  # type: ignore[arg-type]

        command = payloads.command_payload("", user_id="UJORDAN")
        envelope = await fake_slack.send_envelope("slash_commands", command)
        assert (await fake_slack.wait_for_ack(envelope))["envelope_id"] == envelope
        post = await fake_slack.wait_for_post(command["response_url"])
        assert "Collectif — help" in post.text

        event = payloads.event_payload({"type": "reaction_added", "user": "UJORDAN",
                                        "item": {"type": "message", "channel": "CGENERAL", "ts": "1.2"}},
                                       event_id="EvSOCKET")
        await fake_slack.wait_for_ack(await fake_slack.send_envelope("events_api", event))
        await fake_slack.wait_for_call("chat.postMessage")
        retry = await fake_slack.send_envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
        await fake_slack.wait_for_ack(retry)
        await completions.wait(3)  # the command, the event, its retry
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
    finally:
        await runtime.stop()
        await runtime.stop()  # idempotent
    assert runtime.app.client.session is not None
    assert runtime.app.client.session.closed


async def test_a_refused_bot_token_stops_start_with_a_clear_error(fake_slack: FakeSlack,
                                                                  socket_services: Services) -> None:
    socket_services.secrets = slack_secrets(bot_token="xoxb-wrong")
    runtime = SlackRuntime(socket_services)
    with pytest.raises(SlackStartError, match=r"SLACK_BOT_TOKEN \(invalid_auth\)"):
        await runtime.start()
    assert runtime.app is not None
    assert runtime.app.client.session.closed


async def test_a_refused_app_token_stops_start_with_a_clear_error(fake_slack: FakeSlack,
                                                                  socket_services: Services) -> None:
    socket_services.secrets = slack_secrets(app_token="xapp-wrong")
    runtime = SlackRuntime(socket_services)
    with pytest.raises(SlackStartError, match=r"SLACK_APP_TOKEN \(invalid_auth\)"):
        await runtime.start()
    assert not fake_slack.socket_connected.is_set()


async def test_the_token_s_workspace_that_uninstalled_then_reinstalled_is_restored_at_start(
    fake_slack: FakeSlack, slack_services: Services,
) -> None:
    """One SLACK_BOT_TOKEN: the app was uninstalled (community paused, purge scheduled), installed again,
    and Collectif restarted with the new token. Slack accepting it at start restores the workspace at
    once, its purge cancelled, without waiting for a member's command within the grace period."""
    services = slack_services
    origin = Origin(platform="slack", community_external_id=fake_slack.team_id, community_name="collectif",
                    user_id="UJORDAN", display_name="jordan", user_locale="en-US", community_locale=None,
                    is_platform_admin=False)
    await services.caller(origin)
    assert await lifecycle.on_slack_event(services, fake_slack.team_id, {"type": "app_uninstalled"})

    async def state() -> tuple[bool | None, list[str]]:
        async with services.db.transaction(write=False) as session:
            community = await session.scalar(select(Community).where(
                Community.platform == "slack", Community.external_id == fake_slack.team_id))
            assert community is not None
            jobs = list(await session.scalars(select(Job.state).where(
                Job.community_id == community.id, Job.kind == lifecycle.PURGE_KIND)))
        return community.active, jobs

    assert await state() == (False, ["pending"])
    runtime = SlackRuntime(services)
    await runtime.start()
    try:
        active, jobs = await state()
        assert active is True
        assert "pending" not in jobs
        assert not fake_slack.calls_to("users.info")  # no member's request was needed
    finally:
        await runtime.stop()
