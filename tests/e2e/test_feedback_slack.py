"""`/collectif feedback`, the forms, Helpful and Close on Slack: the real Bolt app, signed requests."""

from __future__ import annotations

from sqlalchemy import func, select

from cogs.feedback.models import FeedbackAnswer, FeedbackRequest, Kudos
from storage.models import Community
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness


async def configure(slack: SlackHarness) -> None:
    async with slack.services.db.transaction() as session:
        cid = await session.scalar(select(Community.id).where(Community.external_id == slack.fake.team_id))
        assert cid is not None
        (await get_settings(session, cid)).feedback_channel_id = "CFEEDBACK"


def request_state(**texts: str) -> dict:
    values = {"title": "Landing page", "links": "https://jordan.example", "question": "Le CTA ?", **texts}
    state = {name: {"value": {"type": "plain_text_input", "value": v}} for name, v in values.items()}
    state["kind"] = {"value": {"type": "static_select", "selected_option": {"value": "copy"}}}
    state["where"] = {"value": {"type": "static_select", "selected_option": {"value": "feedback"}}}
    return state


async def test_request_answer_helpful_close(slack: SlackHarness) -> None:
    await slack.sender.command("avis", user_id=slack.member_fr)  # creates the community
    await slack.completions.wait(1)
    await configure(slack)
    await slack.sender.command("avis", user_id=slack.member_fr)
    opened = await slack.fake.wait_for_call(
        "views.open", lambda c: c.args["view"]["callback_id"] == "feedback:ask"
    )
    assert [b["block_id"] for b in opened.args["view"]["blocks"]][:3] == ["title", "links", "kind"]

    bad = await slack.sender.view_submission(
        "feedback:ask", request_state(links="ftp://x"), user_id=slack.member_fr
    )
    assert "errors" in bad.json() and "links" in bad.json()["errors"]
    answer = await slack.sender.view_submission("feedback:ask", request_state(), user_id=slack.member_fr)
    assert answer.status == 200
    note = await slack.fake.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("channel") == slack.member_fr
    )
    assert slack.t("fr", "feedback.asked.posted_plain") in note.args["text"]
    async with slack.services.db.transaction() as session:
        request = await session.scalar(select(FeedbackRequest))
    assert request is not None and request.thread_id is not None
    card = slack.fake.messages[("CFEEDBACK", request.message_id)]
    assert "Landing page" in str(card["blocks"])

    await slack.sender.action(f"feedback:answer:{request.id}", user_id=slack.admin)
    form = await slack.fake.wait_for_call(
        "views.open", lambda c: c.args["view"]["callback_id"].startswith("feedback:reply:")
    )
    assert any(b.get("block_id") == "rating_clarity" for b in form.args["view"]["blocks"])
    state = {
        "text": {"value": {"type": "plain_text_input", "value": "Le CTA est flou <!channel>"}},
        "rating_clarity": {"value": {"type": "static_select", "selected_option": {"value": "3"}}},
    }
    sent = await slack.sender.view_submission(f"feedback:reply:{request.id}", state, user_id=slack.admin)
    assert sent.status == 200
    await slack.fake.wait_for_call("chat.postMessage", lambda c: c.args.get("thread_ts") == request.thread_id)
    replies = slack.fake.thread_replies("CFEEDBACK", request.thread_id)
    assert len(replies) == 1 and "<!channel>" not in str(replies[0]["blocks"])
    async with slack.services.db.transaction() as session:
        answer_id = await session.scalar(select(FeedbackAnswer.id))

    await slack.sender.action(f"feedback:helpful:{answer_id}", user_id=slack.member_fr)
    await slack.sender.action(f"feedback:close:{request.id}", user_id=slack.member_fr)
    await slack.completions.wait(8)
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count(Kudos.id))) == 1
        assert await session.scalar(select(FeedbackRequest.state)) == "closed"
