"""SlackRuntime start and stop: Socket Mode through the fake's WebSocket, refused tokens, clean shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.clock import FrozenClock
from bot.services import Services
from bot.slack_app.runtime import SlackRuntime, SlackStartError
from storage.engine import Database
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
