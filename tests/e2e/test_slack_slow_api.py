"""Slack's Web API slow (not failing) while a form submission is acknowledged: users.info is bounded."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from tests.e2e.slack_harness import SlackHarness

pytest_plugins = ["tests.e2e.slack_harness"]

SLOW = 4.0


def slow_users_info(slack: SlackHarness) -> None:
    """users.info answers after SLOW seconds (a struggling Slack): the fake's answer is held back."""
    fake = slack.fake
    original = fake._notify

    async def notify() -> None:
        if fake.calls and fake.calls[-1].method == "users.info":
            await asyncio.sleep(SLOW)
        await original()

    fake._notify = notify  # type: ignore[method-assign]


async def test_a_slow_users_info_does_not_hold_a_form_past_slacks_3_seconds(slack: SlackHarness) -> None:
    # The member is known (the caller resolved once), then the profile's cache entry expires.
    answer, url = await slack.sender.command("help", user_id=slack.member_en)
    await slack.fake.wait_for_post(url)
    slack.services.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
    slow_users_info(slack)

    started = time.monotonic()
    answer = await slack.sender.view_submission(
        "e2e:form", {"title_block": {"title": {"type": "plain_text_input", "value": "Hello"}}},
        user_id=slack.member_en,
    )
    took = time.monotonic() - started
    await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args.get("text") == "Hello", within=5)
    # The submission was carried out, yet Slack got no answer in time (the member sees the form fail
    # and submits again: a second pool, mission, afterwork…).
    assert answer.status == 200, (answer.status, answer.text, f"{took:.1f} s")
    assert took < 3.0, f"the form was answered after {took:.1f} s: Slack shows an error, the work goes on"
