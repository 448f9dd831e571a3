"""Slack requests through the real Bolt app: signatures, stale timestamps, retried events, uninstall."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot import lifecycle
from bot.slack_app import router
from storage.models import Community, Job, Member, Meta
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import TEAM_ID, HttpFailure, sign

REACTION = {"type": "reaction_added", "user": "UCAMILLE", "reaction": "tada",
            "item": {"type": "message", "channel": "CGENERAL", "ts": "1764150000.000100"}}


async def count_rows(slack: SlackHarness, model: type) -> int:
    async with slack.services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_bad_signature_is_refused_without_side_effect(slack: SlackHarness) -> None:
    calls_before = len(slack.fake.calls)
    payload = slack.sender.command_payload("", user_id=slack.member_fr)
    body = urlencode(payload)
    ts = int(time.time())
    answer = await slack.sender.send(body, "application/x-www-form-urlencoded", timestamp=ts,
                                     signature=sign("not-the-secret", str(ts), body))
    assert answer.status == 401
    tampered = body.replace("CGENERAL", "CRANDOM")
    answer = await slack.sender.send(tampered, "application/x-www-form-urlencoded", timestamp=ts,
                                     signature=sign(slack.sender.signing_secret, str(ts), body))
    assert answer.status == 401
    assert len(slack.fake.calls) == calls_before  # not even users.info
    assert slack.fake.posted == []
    assert await count_rows(slack, Community) == 0


async def test_timestamp_older_than_five_minutes_is_refused(slack: SlackHarness) -> None:
    old = int(time.time()) - 5 * 60 - 5
    answer, _ = await slack.sender.command("", user_id=slack.member_fr, timestamp=old)
    assert answer.status == 401
    answer = await slack.sender.event(REACTION, timestamp=old)
    assert answer.status == 401
    assert slack.fake.posted == []
    assert slack.fake.calls_to("chat.postMessage") == []
    assert await count_rows(slack, Community) == 0
    # the same request, fresh, goes through
    answer, url = await slack.sender.command("", user_id=slack.member_fr)
    assert answer.status == 200
    assert "Collectif — l’aide" in (await slack.fake.wait_for_post(url)).text


async def test_a_retried_event_does_not_repeat_its_side_effect(slack: SlackHarness) -> None:
    answer = await slack.sender.event(REACTION, event_id="Ev0001")
    assert answer.status == 200
    await slack.completions.wait(1)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1

    for retry in (1, 2):
        answer = await slack.sender.event(REACTION, event_id="Ev0001", retry_num=retry)
        assert answer.status == 200
    await slack.completions.wait(3)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1

    await slack.sender.event(REACTION, event_id="Ev0002")  # another event still gets done
    await slack.completions.wait(4)
    assert len(slack.fake.calls_to("chat.postMessage")) == 2


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process retries of a failed event's work, after 50 ms instead of 1, 5 and 30 s."""
    monkeypatch.setattr(router, "EVENT_RETRY_DELAYS", (0.05, 0.05, 0.05))


def refused_once() -> HttpFailure:
    """Slack's answer to a call that failed on its side (HTTP 200, ok: false): not retried by the client."""
    return HttpFailure(200, json.dumps({"ok": False, "error": "fatal_error"}))


async def test_an_event_whose_work_fails_once_is_done_in_process(
    quick_retries: None, slack: SlackHarness, caplog: pytest.LogCaptureFixture,
) -> None:
    # Slack got its 200 before the work: it will not send the event again, so the work is retried here.
    slack.fake.fail_next("chat.postMessage", refused_once())
    assert (await slack.sender.event(REACTION, event_id="Ev0003")).status == 200
    await slack.completions.wait(1)
    calls = slack.fake.calls_to("chat.postMessage")
    assert [c.args["text"] for c in calls] == ["noted", "noted"]  # refused, then done
    assert not slack.fake.failures["chat.postMessage"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # A delivery Slack makes again anyway (our answer lost) finds it done.
    await slack.sender.event(REACTION, event_id="Ev0003", retry_num=1, retry_reason="http_error")
    await slack.completions.wait(2)
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    async with slack.services.db.transaction() as session:
        assert await session.get(Meta, "slack:event:Ev0003") is not None


async def test_an_event_whose_work_keeps_failing_is_given_up_with_an_error_log(
    quick_retries: None, slack: SlackHarness, caplog: pytest.LogCaptureFixture,
) -> None:
    slack.fake.errors["chat.postMessage"] = "ratelimited"
    await slack.sender.event(REACTION, event_id="Ev0004")
    await slack.completions.wait(1)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1 + len(router.EVENT_RETRY_DELAYS)
    failed = [r for r in caplog.records if r.levelno == logging.ERROR and "reaction_added failed" in
              r.getMessage()]
    assert len(failed) == 1
    # Released: should Slack send it again (our 200 never reached it), that delivery does the work.
    del slack.fake.errors["chat.postMessage"]
    await slack.sender.event(REACTION, event_id="Ev0004", retry_num=1, retry_reason="http_error")
    await slack.completions.wait(2)
    assert slack.fake.calls_to("chat.postMessage")[-1].error is None
    async with slack.services.db.transaction() as session:
        assert await session.get(Meta, "slack:event:Ev0004") is not None


async def test_an_uninstall_whose_pause_fails_once_still_pauses_the_community(
    quick_retries: None, slack: SlackHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One SLACK_BOT_TOKEN: this event is the only sign of the uninstall (no installation to delete, no
    # token refused later). Lost, the workspace would never be paused nor purged.
    _, url = await slack.sender.command("", user_id=slack.member_fr)
    await slack.fake.wait_for_post(url)
    deactivate = lifecycle.deactivate
    attempts: list[str] = []

    async def busy_once(services: Any, platform: str, external_id: str) -> bool:
        attempts.append(external_id)
        if len(attempts) == 1:
            raise OperationalError("UPDATE communities", {}, Exception("database is locked"))
        return await deactivate(services, platform, external_id)

    monkeypatch.setattr(lifecycle, "deactivate", busy_once)
    assert (await slack.sender.event({"type": "app_uninstalled"})).status == 200
    await slack.completions.wait(2)
    assert attempts == [TEAM_ID, TEAM_ID]
    async with slack.services.db.transaction() as session:
        community = await session.scalar(select(Community).where(Community.external_id == TEAM_ID))
        assert community is not None and community.active is False
        purges = await session.scalar(select(func.count()).select_from(Job).where(
            Job.community_id == community.id, Job.kind == lifecycle.PURGE_KIND))
        assert purges == 1


async def test_app_uninstalled_marks_the_community_inactive(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("", user_id=slack.member_fr)  # first contact creates it
    await slack.fake.wait_for_post(url)
    answer = await slack.sender.event({"type": "app_uninstalled"})
    assert answer.status == 200
    await slack.completions.wait(2)
    async with slack.services.db.transaction() as session:
        community = await session.scalar(select(Community).where(Community.external_id == TEAM_ID))
        assert community is not None
        assert community.active is False
        assert community.deactivated_at == slack.services.clock.now()
        assert await session.scalar(select(func.count()).select_from(Member)) == 1  # purge comes later


async def test_tokens_revoked_for_the_bot_marks_the_community_inactive(slack: SlackHarness) -> None:
    _, url = await slack.sender.command("", user_id=slack.member_fr)
    await slack.fake.wait_for_post(url)
    await slack.sender.event({"type": "tokens_revoked", "tokens": {"oauth": ["UCAMILLE"]}})
    await slack.completions.wait(2)
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(Community.active)) is True
    await slack.sender.event({"type": "tokens_revoked", "tokens": {"bot": ["UCOLLECTIF"]}})
    await slack.completions.wait(3)
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(Community.active)) is False


async def test_url_verification_challenge_is_answered(slack: SlackHarness) -> None:
    body = '{"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", ' \
           '"type": "url_verification"}'
    answer = await slack.sender.send(body, "application/json")
    assert answer.status == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
