"""`/collectif pairing` on Slack through the real Bolt app: what members type that is not what is asked."""

from __future__ import annotations

import pytest

from tests.e2e.slack_harness import SlackHarness


@pytest.mark.parametrize("typed", ["²", "٣", "1²", "12", "-1", "x"])
async def test_a_snooze_not_written_in_plain_digits_gets_the_range_answer(
    slack: SlackHarness, typed: str
) -> None:
    """`/collectif binomes pause ²` (the ² key is the top-left key of a French AZERTY keyboard):
    "²".isdigit() is True but int("²") raises, so the member got the generic error instead of the range."""
    _, url = await slack.sender.command(f"binomes pause {typed}", user_id=slack.member_fr)
    answer = (await slack.fake.wait_for_post(url)).text
    assert answer == slack.t("fr", "pairing.errors.snooze_range", low=1, high=8)
