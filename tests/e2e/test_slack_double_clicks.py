"""the same button clicked twice at once (a double click, two devices), on Slack."""

from __future__ import annotations

import asyncio

from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_privacy_slack import introduce

pytest_plugins = ["tests.e2e.slack_harness"]


def unexpected(slack: SlackHarness) -> list[str]:
    marker = slack.t("fr", "errors.unexpected", error_id="X").split("X")[0]
    return [p.text for p in slack.fake.posted if marker in p.text] + [
        str(c.args.get("text")) for c in slack.fake.calls
        if c.method.startswith("chat.post") and marker in str(c.args.get("text"))]


async def test_privacy_delete_confirmed_twice_at_once(slack: SlackHarness) -> None:
    member_id, _ts = await introduce(slack)
    done = slack.completions.count
    await asyncio.gather(*(slack.sender.action(f"privacy:confirm:{member_id}", user_id=slack.member_fr)
                           for _ in range(2)))
    await slack.completions.wait(done + 2)
    assert unexpected(slack) == []
