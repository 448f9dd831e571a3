"""Slack requests through the real Bolt app: signatures, stale timestamps, retried events, uninstall."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from storage.models import Community, Member, Meta
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import TEAM_ID, sign

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


async def test_an_event_that_failed_is_done_by_its_retry(slack: SlackHarness) -> None:
    slack.fake.errors["chat.postMessage"] = "ratelimited"
    await slack.sender.event(REACTION, event_id="Ev0003")
    await slack.completions.wait(1)
    del slack.fake.errors["chat.postMessage"]
    await slack.sender.event(REACTION, event_id="Ev0003", retry_num=1, retry_reason="http_error")
    await slack.completions.wait(2)
    calls = slack.fake.calls_to("chat.postMessage")
    assert len(calls) == 2
    assert [c.args["text"] for c in calls] == ["noted", "noted"]  # the failed attempt, then the retry
    async with slack.services.db.transaction() as session:
        assert await session.get(Meta, "slack:event:Ev0003") is not None


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
