"""Slack refusing views.open (the trigger_id expired: it lives 3 s and works once): told, not a bug."""

from __future__ import annotations

from tests.e2e.slack_harness import SlackHarness

pytest_plugins = ["tests.e2e.slack_harness"]


async def test_an_expired_trigger_id_is_told_as_try_again_not_as_a_bug(slack: SlackHarness) -> None:
    slack.fake.errors["views.open"] = "expired_trigger_id"
    done = slack.completions.count
    _, url = await slack.sender.command("afterwork", user_id=slack.member_en)
    await slack.completions.wait(done + 1)
    reply = await slack.fake.wait_for_post(url)
    assert "something went wrong on our side" not in reply.text, reply.text
