"""The "Remove post" message shortcut on Slack, through the real Bolt app with signed payloads."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from cogs.config.models import AuditEntry
from storage.models import Post
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_intros_slack import configure, open_form, submit
from tests.fakes.slack_api import SlackAnswer, visible_text

REASON = "Hors sujet <!channel>"


async def shortcut(slack: SlackHarness, user: str, channel: str, ts: str) -> tuple[SlackAnswer, str]:
    """A signed `message_action` payload, as Slack sends it when someone picks the shortcut."""
    fake = slack.fake
    payload: dict[str, Any] = {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": fake.team_id, "domain": fake.team_domain},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": fake.team_id},
        "channel": {"id": channel, "name": channel.lower()},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "config:remove_post",
        "trigger_id": f"{next(fake._seq)}.trigger",
        "response_url": fake.response_url(),
        "message_ts": ts,
        "message": {
            "type": "message",
            "user": "UCOLLECTIF",
            "bot_id": "BCOLLECTIF",
            "ts": ts,
            "text": "card",
        },
    }
    body = urlencode({"payload": json.dumps(payload)})
    return await slack.sender.send(body, "application/x-www-form-urlencoded"), payload["response_url"]


def reason_state(text: str) -> dict[str, Any]:
    return {"reason": {"value": {"type": "plain_text_input", "value": text}}}


async def intro_cards(slack: SlackHarness) -> list[Post]:
    """Camille introduces herself: intro cards in the intro channel and her trades' channels."""
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    await submit(slack, slack.member_fr, view["private_metadata"])
    await slack.fake.wait_for_call("chat.postEphemeral")
    return await posts(slack)


async def posts(slack: SlackHarness) -> list[Post]:
    async with slack.services.db.transaction() as session:
        return list(await session.scalars(select(Post).order_by(Post.id)))


async def removals(slack: SlackHarness) -> list[AuditEntry]:
    async with slack.services.db.transaction() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.setting == "post.remove")))


async def test_a_moderator_removes_an_intro_card_with_a_reason(slack: SlackHarness):
    cards = await intro_cards(slack)
    card = next(p for p in cards if p.channel_id == "CINTRO")
    assert ("CINTRO", card.message_id) in slack.fake.messages

    answer, _ = await shortcut(slack, slack.admin, "CINTRO", card.message_id)
    assert answer.status == 200
    opened = await slack.fake.wait_for_call("views.open", lambda c: "removepost" in str(c.args))
    view = opened.args["view"]
    assert view["callback_id"] == f"config:removepost:CINTRO:{card.message_id}"
    assert view["title"]["text"] == slack.t("fr", "config.slack.remove_post.title")
    assert view["blocks"][0]["block_id"] == "reason"

    done = await slack.sender.view_submission(view["callback_id"], reason_state(REASON), user_id=slack.admin)
    assert done.status == 200 and done.text == ""  # the modal closes

    assert [p.id for p in await posts(slack)] == [p.id for p in cards if p.id != card.id]
    deleted = await slack.fake.wait_for_call("chat.delete")  # after the form closed
    assert len(slack.fake.calls_to("chat.delete")) == 1
    assert (deleted.args["channel"], deleted.args["ts"]) == ("CINTRO", card.message_id)
    assert ("CINTRO", card.message_id) not in slack.fake.messages
    told = await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "DUCAMILLE")
    text = visible_text(told.args)
    assert "Hors sujet &lt;!channel&gt;" in text and "<!channel>" not in json.dumps(told.args)
    [entry] = await removals(slack)
    assert (entry.actor_name, entry.new_value, entry.target) == (
        "dominique",
        "Hors sujet <!channel>",
        "camille",
    )
    confirmed = await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == slack.admin)
    assert "Hors sujet" in visible_text(confirmed.args)


async def test_a_member_is_refused_and_nothing_changes(slack: SlackHarness):
    cards = await intro_cards(slack)
    card = cards[0]

    answer, url = await shortcut(slack, slack.member_en, card.channel_id, card.message_id)
    assert answer.status == 200
    refused = await slack.fake.wait_for_post(url)
    assert refused.text == slack.t("en", "errors.forbidden")
    assert refused.body["response_type"] == "ephemeral"
    opened = [c.args["view"]["callback_id"] for c in slack.fake.calls_to("views.open")]
    assert opened == ["intros:form"]  # Camille's own intro form, no reason modal

    # a forged submission of the reason modal is refused too
    forged = await slack.sender.view_submission(
        f"config:removepost:{card.channel_id}:{card.message_id}",
        reason_state("spam"),
        user_id=slack.member_en,
    )
    assert slack.t("en", "errors.forbidden") in visible_text(forged.json())

    assert [p.id for p in await posts(slack)] == [p.id for p in cards]
    assert slack.fake.calls_to("chat.delete") == []
    assert await removals(slack) == []


async def test_a_message_that_is_no_member_post_is_not_found(slack: SlackHarness):
    await intro_cards(slack)
    before = await posts(slack)
    await shortcut(slack, slack.admin, "CGENERAL", "1700000000.000001")
    view = await slack.fake.wait_for_call("views.open", lambda c: "removepost" in str(c.args))
    answer = await slack.sender.view_submission(
        view.args["view"]["callback_id"], reason_state("spam"), user_id=slack.admin
    )
    assert slack.t("fr", "config.errors.unknown_post") in visible_text(answer.json())
    empty = await slack.sender.view_submission(
        view.args["view"]["callback_id"], reason_state("  "), user_id=slack.admin
    )
    assert empty.json()["errors"] == {"reason": slack.t("fr", "config.errors.reason_empty")}
    assert [p.id for p in await posts(slack)] == [p.id for p in before]


async def test_the_reason_form_closes_before_the_message_is_deleted(slack: SlackHarness, monkeypatch):
    """Slack waits 3 s for a form's answer: deleting, DMing and logging come after it."""
    cards = await intro_cards(slack)
    card = next(p for p in cards if p.channel_id == "CINTRO")
    release = asyncio.Event()
    answered = slack.fake._notify

    async def slow_delete() -> None:  # chat.delete answers only once the test lets it
        if slack.fake.calls and slack.fake.calls[-1].method == "chat.delete":
            await release.wait()
        await answered()

    monkeypatch.setattr(slack.fake, "_notify", slow_delete)
    callback_id = f"config:removepost:CINTRO:{card.message_id}"
    try:
        done = await asyncio.wait_for(
            slack.sender.view_submission(callback_id, reason_state("spam"), user_id=slack.admin), 2.5
        )
    finally:
        release.set()
    assert done.status == 200 and done.text == ""
    await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "DUCAMILLE")
    assert ("CINTRO", card.message_id) not in slack.fake.messages
