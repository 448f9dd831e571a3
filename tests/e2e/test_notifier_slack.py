"""The Slack notifier through the real Bolt app's client against the fake: reply threads, group DMs,
files on cards and DMs, and a channel refusing the bot."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.cards import Attachment, Card, when
from bot.notifier import CannotPost, EventSpec
from storage.models import Community
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import HttpFailure, visible_text

TEAM = "T0COLLECT"
START = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def notifier(slack: SlackHarness):  # type: ignore[no-untyped-def]
    return slack.services.notifiers["slack"]


async def test_a_thread_under_a_card_gets_replies(slack: SlackHarness) -> None:
    ref = await notifier(slack).post(TEAM, "CFEEDBACK", Card(title="Demande de retour"))
    assert ref is not None
    thread = await notifier(slack).open_thread(TEAM, ref, "Retours")
    assert thread is not None and (thread.channel_id, thread.thread_id) == ("CFEEDBACK", ref.message_id)

    card = Card(title="Merci", text=f"<!channel> {when(START)}")
    reply = await notifier(slack).post_in_thread(TEAM, thread, card)
    assert reply is not None
    [message] = slack.fake.thread_replies("CFEEDBACK", ref.message_id)
    shown = visible_text(message)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert f"<!date^{int(START.timestamp())}^{{date_long_pretty}} {{time}}|2026-12-04 18:00 UTC>" in shown
    assert await notifier(slack).archive_thread(TEAM, thread) is False  # Slack cannot close a thread


async def test_a_private_space_is_a_group_dm(slack: SlackHarness) -> None:
    space = await notifier(slack).open_private_space(TEAM, "CIGNORED", [slack.member_fr, slack.member_en,
                                                                        slack.member_fr], "Binôme")
    assert space is not None and space.thread_id == ""
    assert slack.fake.conversations[space.channel_id] == sorted([slack.member_fr, slack.member_en])
    posted = await notifier(slack).post_in_thread(TEAM, space, Card(title="Bonjour à vous deux"))
    assert posted is not None and posted.channel_id == space.channel_id
    assert "Bonjour à vous deux" in visible_text(slack.fake.messages[(posted.channel_id, posted.message_id)])


async def test_files_go_with_a_card_and_a_dm(slack: SlackHarness) -> None:
    ics = Attachment("afterwork.ics", b"BEGIN:VCALENDAR", "text/calendar")
    ref = await notifier(slack).post(TEAM, "CAFTERWORK", Card(title="Afterwork", attachments=(ics,)))
    assert ref is not None
    dm = await notifier(slack).dm(TEAM, slack.member_fr, Card(title="Votre export"),
                                  Attachment("export.json", b'{"a": 1}', "application/json"))
    assert dm is not None
    assert [(f["channel"], f["filename"], f["content"]) for f in slack.fake.shared_files] == [
        ("CAFTERWORK", "afterwork.ics", b"BEGIN:VCALENDAR"),
        (dm.channel_id, "export.json", b'{"a": 1}'),
    ]


async def test_a_channel_refusing_the_bot_raises_one_typed_error(slack: SlackHarness) -> None:
    slack.fake.forbidden_channels["CPRIVATE"] = "not_in_channel"
    slack.fake.forbidden_channels["COLD"] = "is_archived"
    with pytest.raises(CannotPost) as refused:
        await notifier(slack).post(TEAM, "CPRIVATE", Card(title="x"))
    assert (refused.value.channel_id, refused.value.reason) == ("CPRIVATE", "forbidden")
    with pytest.raises(CannotPost) as archived:
        await notifier(slack).post(TEAM, "COLD", Card(title="x"))
    assert archived.value.reason == "archived"
    assert slack.t("en", refused.value.key, **refused.value.params).startswith("Collectif may not post")
    slack.fake.missing_channels.add("CGONE")
    assert await notifier(slack).post(TEAM, "CGONE", Card(title="x")) is None  # gone: None, as before


async def test_slack_has_no_native_events(slack: SlackHarness) -> None:
    spec = EventSpec("Afterwork", START, "Lyon")
    assert await notifier(slack).create_event(TEAM, spec) is None
    assert await notifier(slack).cancel_event(TEAM, "E1") is False


async def test_a_refused_bot_token_is_said_once_and_pauses_nothing(slack: SlackHarness,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    # One SLACK_BOT_TOKEN: a refusal means the operator's token is wrong, not that a workspace left.
    _, url = await slack.sender.command("", user_id=slack.member_en)  # the community exists
    await slack.fake.wait_for_post(url)
    await slack.completions.wait(1)
    slack.fake.bot_token = "xoxb-regenerated"  # the app reinstalled: Slack refuses the old token
    for title in ("Rappel", "Rappel 2"):
        with pytest.raises(SlackApiError):  # the job fails and is retried, as for any outage
            await notifier(slack).post(TEAM, "CGENERAL", Card(title=title))
    assert await notifier(slack).departed(TEAM, [slack.member_fr]) == set()
    told = [r for r in caplog.records if r.levelno == logging.ERROR and "SLACK_BOT_TOKEN" in r.getMessage()]
    assert len(told) == 1 and "invalid_auth" in told[0].getMessage()
    async with slack.services.db.transaction(write=False) as session:
        assert (await session.scalars(select(Community.active))).all() == [True]


async def test_a_member_slack_cannot_answer_for_is_kept_not_taken_for_gone(slack: SlackHarness) -> None:
    """users.info dropped (a network error): the member is not taken for gone, and the pairing
    round asking it goes on (it raised, and the whole round failed)."""
    slack.fake.dropped.add("users.info")
    assert await notifier(slack).departed(TEAM, [slack.member_fr, slack.member_en]) == set()


def answered(error: str) -> HttpFailure:
    """Slack's answer to a call it refuses: HTTP 200, `ok` false and the error's code."""
    return HttpFailure(200, json.dumps({"ok": False, "error": error}))


async def test_only_a_message_or_channel_not_found_is_gone_for_an_edit_or_a_delete(
    slack: SlackHarness,
) -> None:
    """A refusal (not in the channel, archived, not the bot's message) leaves the message shown.

    Answered "gone", its `posts` row was dropped and a member's privacy deletion left the card up: it is
    raised instead (bot.posting counts it as retrying and keeps the row).
    """
    ref = await notifier(slack).post(TEAM, "CGENERAL", Card(title="v1"))
    assert ref is not None
    for error in ("not_in_channel", "is_archived", "cant_update_message"):
        slack.fake.fail_next("chat.update", answered(error))
        with pytest.raises(SlackApiError):
            await notifier(slack).edit(TEAM, ref, Card(title="v2"))
    slack.fake.fail_next("chat.delete", answered("not_in_channel"))
    with pytest.raises(SlackApiError):
        await notifier(slack).delete(TEAM, ref)

    assert await notifier(slack).edit(TEAM, ref, Card(title="v3")) is True
    assert await notifier(slack).delete(TEAM, ref) is True
    assert await notifier(slack).edit(TEAM, ref, Card(title="v4")) is False  # message_not_found
    assert await notifier(slack).delete(TEAM, ref) is False
    slack.fake.missing_channels.add("CGENERAL")
    assert await notifier(slack).edit(TEAM, ref, Card(title="v5")) is False  # channel_not_found
