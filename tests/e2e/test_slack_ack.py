"""Slack hears back as soon as a listener acknowledges, not when Bolt next polls (every 10 ms) nor when
the work ends; forms still answer `response_action` in the ack; retries stay harmless; a shutdown
waits for the work still running, then cancels it."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator

import pytest

from bot.slack_app.request import SlackRequest
from tests.e2e import slack_harness
from tests.e2e.slack_harness import SlackHarness

REACTION = {"type": "reaction_added", "user": "UCAMILLE", "reaction": "eyes",
            "item": {"type": "message", "channel": "CREACT", "ts": "1764150000.000100"}}


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """`/collectif purger` and the reaction event wait for this gate before doing their work."""
    opened = asyncio.Event()
    purge, on_reaction = slack_harness.purge, slack_harness.on_reaction

    async def gated_purge(request: SlackRequest) -> None:
        await opened.wait()
        await purge(request)

    async def gated_reaction(request: SlackRequest) -> None:
        await opened.wait()
        await on_reaction(request)

    monkeypatch.setattr(slack_harness, "purge", gated_purge)
    monkeypatch.setattr(slack_harness, "on_reaction", gated_reaction)
    return opened


@pytest.fixture
async def gated(gate: asyncio.Event, slack: SlackHarness) -> AsyncIterator[SlackHarness]:
    yield slack  # `gate` comes first: the app registers the gated handlers
    gate.set()


async def test_a_command_is_acknowledged_in_a_few_milliseconds(slack: SlackHarness) -> None:
    times = []
    for _ in range(15):
        started = time.perf_counter()
        answer, url = await slack.sender.command("", user_id=slack.member_fr)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status == 200 and answer.text == ""
        await slack.fake.wait_for_post(url)
    assert statistics.median(times) < 8, times  # Bolt's ack polling alone costs 10 ms


async def test_the_answer_does_not_wait_for_the_work(gate: asyncio.Event, gated: SlackHarness) -> None:
    slack = gated
    answer, url = await slack.sender.command("purger", user_id=slack.admin)
    assert answer.status == 200
    assert slack.fake.posted == [] and len(slack.runtime.app.inflight) == 1  # type: ignore[union-attr]
    gate.set()
    assert (await slack.fake.wait_for_post(url)).text == "Purge faite."
    await slack.completions.wait(1)
    assert len(slack.runtime.app.inflight) == 0  # type: ignore[union-attr]


async def test_forms_still_answer_in_the_ack(slack: SlackHarness) -> None:
    invalid = await slack.sender.view_submission("e2e:form", {"title_block": {"title": {"value": " "}}},
                                                 user_id=slack.member_en)
    assert invalid.status == 200
    errors = {"title_block": "The title is required."}
    assert invalid.json() == {"response_action": "errors", "errors": errors}
    valid = await slack.sender.view_submission("e2e:form", {"title_block": {"title": {"value": "Hi"}}},
                                               user_id=slack.member_en)
    assert valid.status == 200 and valid.text == ""
    await slack.completions.wait(2)
    assert [c.args["text"] for c in slack.fake.calls_to("chat.postMessage")] == ["Hi"]


async def test_an_error_after_the_ack_still_reaches_the_user(slack: SlackHarness) -> None:
    answer, url = await slack.sender.command("boum", user_id=slack.member_fr)
    assert answer.status == 200 and answer.text == ""
    assert "erreur" in (await slack.fake.wait_for_post(url)).text


async def test_a_retry_while_the_first_delivery_is_still_running_does_nothing(
        gate: asyncio.Event, gated: SlackHarness) -> None:
    slack = gated
    first = await slack.sender.event(REACTION, event_id="EvInFlight")
    retry = await slack.sender.event(REACTION, event_id="EvInFlight", retry_num=1)
    assert (first.status, retry.status) == (200, 200)
    gate.set()
    await slack.completions.wait(2)
    assert [c.args["text"] for c in slack.fake.calls_to("chat.postMessage")] == ["noted"]


async def test_shutdown_lets_short_work_finish(gate: asyncio.Event, gated: SlackHarness) -> None:
    slack = gated
    _, url = await slack.sender.command("purger", user_id=slack.admin)
    asyncio.get_running_loop().call_later(0.05, gate.set)
    await slack.runtime.stop()
    assert [p.text for p in slack.fake.posted if p.url == url] == ["Purge faite."]


async def test_shutdown_cancels_work_that_does_not_end(gated: SlackHarness) -> None:
    slack = gated
    app = slack.runtime.app
    assert app is not None
    app.inflight.grace = 0.1  # type: ignore[attr-defined]
    await slack.sender.command("purger", user_id=slack.admin)
    [task] = app.inflight.tasks  # type: ignore[attr-defined]
    started = time.monotonic()
    await slack.runtime.stop()
    assert time.monotonic() - started < 2
    assert task.cancelled() and len(app.inflight) == 0  # type: ignore[attr-defined,arg-type]
    assert slack.fake.posted == []
