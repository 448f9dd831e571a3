"""Slack's Web API down for a moment (HTTP 500, text body) while cards go out.

Intros and afterworks kept the channels that failed this way (`SyncResult.retrying`) and tried again
a few minutes later; a mission and a pool did not (saved without a card, the author told to call a
moderator), and a feedback request said "nothing saved" was kept. Each test failed before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cogs.missions import FEATURE
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_missions_slack import CHANNELS, SACHA, configure, missions, open_form, submit
from tests.fakes.slack_api import server_error

pytest_plugins = ["tests.e2e.slack_harness"]

ATTEMPTS = 3  # the call and the client's two retries of a 500 (bot/slack_app/client.py)
WANTED = (CHANNELS["Développement"], CHANNELS["missions"])  # a one-trade mission's cards


@pytest.fixture(autouse=True)
async def job_kinds(slack: SlackHarness) -> None:
    await FEATURE.on_start(slack.services)
    slack.fake.add_user(SACHA, "sacha", locale="fr-FR")


async def share_during_outage(slack: SlackHarness) -> str:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    slack.fake.fail_next("chat.postMessage", *[server_error(500)] * (ATTEMPTS * len(WANTED)))
    done = slack.completions.count
    answer = await submit(slack, slack.member_fr, view["private_metadata"], trades=("Développement",))
    assert answer.text == "", answer.text
    await slack.completions.wait(done + 1, within=9)
    note = await slack.fake.wait_for_call("chat.postEphemeral",
                                          lambda c: c.args.get("user") == slack.member_fr)
    return str(note.args.get("text"))


def cards(slack: SlackHarness) -> dict[str, Any]:
    return {c: m for (c, _ts), m in slack.fake.messages.items() if c in CHANNELS.values()}


async def test_a_missions_cards_lost_to_a_short_outage_are_posted_later(slack: SlackHarness) -> None:
    await share_during_outage(slack)
    assert len(await missions(slack)) == 1  # saved, its weekly allowance spent, no card anywhere
    assert cards(slack) == {}

    clock: Any = slack.services.clock
    for _ in range(3):  # Slack is back; intros would have tried again within minutes
        clock.advance(timedelta(minutes=10))
        await slack.services.scheduler.run_due()
    assert sorted(cards(slack)) == sorted(WANTED)


async def test_the_author_is_not_told_to_call_a_moderator_for_an_outage(slack: SlackHarness) -> None:
    note = await share_during_outage(slack)
    assert "may not write there" not in note and "n’a pas le droit" not in note, note


async def test_a_pools_card_lost_to_a_short_outage_is_posted_later(slack: SlackHarness) -> None:
    from cogs.pooling import FEATURE as POOLING
    from tests.e2e.test_pooling_slack import POOLS, channel_messages, pools, use_channel
    from tests.e2e.test_pooling_slack import submit as submit_pool

    await POOLING.on_start(slack.services)
    await use_channel(slack)
    slack.fake.fail_next("chat.postMessage", *[server_error(500)] * ATTEMPTS)
    await submit_pool(slack, slack.member_fr)
    assert len(await pools(slack)) == 1
    assert channel_messages(slack, POOLS) == []  # nobody can Join: the card is the only way in

    clock: Any = slack.services.clock
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        await slack.services.scheduler.run_due()
    assert len(channel_messages(slack, POOLS)) == 1


async def test_a_feedback_request_said_not_saved_during_an_outage_is_really_not_saved(
    slack: SlackHarness,
) -> None:
    from sqlalchemy import func, select

    from cogs.feedback import FEATURE as FEEDBACK
    from cogs.feedback.models import FeedbackRequest
    from tests.e2e.test_feedback_slack import configure as feedback_channel
    from tests.e2e.test_feedback_slack import request_state

    await FEEDBACK.on_start(slack.services)
    await slack.sender.command("avis", user_id=slack.member_fr)  # the community exists
    await slack.completions.wait(1)
    await feedback_channel(slack)
    slack.fake.fail_next("chat.postMessage", *[server_error(500)] * ATTEMPTS)
    done = slack.completions.count
    await slack.sender.view_submission("feedback:ask", request_state(), user_id=slack.member_fr)
    await slack.completions.wait(done + 1, within=8)
    told = await slack.fake.wait_for_call("chat.postMessage",
                                          lambda c: c.args.get("channel") == slack.member_fr)
    assert slack.t("fr", "feedback.asked.outage") in str(told.args.get("text"))  # "nothing was saved: retry"
    async with slack.services.db.transaction() as session:
        kept = await session.scalar(select(func.count(FeedbackRequest.id)))
    assert kept == 0  # else: a request without card, its weekly slot spent, its nudge still due
