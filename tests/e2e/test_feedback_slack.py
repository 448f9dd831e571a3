"""`/collectif feedback`, the forms, Helpful and Close on Slack: the real Bolt app, signed requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from cogs.feedback import FEATURE
from cogs.feedback.models import FeedbackAnswer, FeedbackRequest, Kudos
from storage.models import Community
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import visible_text


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


# -- the longer stories: two answers, the nudge, the due date, refusals, privacy --------------------


def answer_state(text: str, **ratings: str) -> dict:
    state: dict = {"text": {"value": {"type": "plain_text_input", "value": text}}}
    for item, value in ratings.items():
        state[f"rating_{item}"] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
    return state


async def start(slack: SlackHarness) -> None:
    """The community created by a first command, its feedback channel set, the job kinds registered."""
    await FEATURE.on_start(slack.services)
    await slack.sender.command("avis", user_id=slack.member_fr)
    await slack.completions.wait(1)
    await configure(slack)


async def ask(slack: SlackHarness, user: str, **texts: str) -> FeedbackRequest:
    due = texts.pop("due", "")
    state = request_state(**texts)
    state["anonymous"] = {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}
    if due:
        state["due"] = {"value": {"type": "datepicker", "selected_date": due}}
    done = slack.completions.count
    answer = await slack.sender.view_submission("feedback:ask", state, user_id=user)
    assert answer.status == 200 and not answer.text
    await slack.completions.wait(done + 1)
    async with slack.services.db.transaction() as session:
        request = await session.scalar(select(FeedbackRequest).order_by(FeedbackRequest.id.desc()))
    assert request is not None and request.message_id is not None
    return request


async def reply(
    slack: SlackHarness, user: str, request_id: int, state: dict, *, anonymous: bool = False
) -> Any:
    done = slack.completions.count
    callback = f"feedback:reply:{request_id}" + (":anon" if anonymous else "")
    answer = await slack.sender.view_submission(callback, state, user_id=user)
    await slack.completions.wait(done + 1)
    return answer


async def click(slack: SlackHarness, action_id: str, user: str) -> str:
    """A button clicked; the text the clicker was answered with."""
    _, url = await slack.sender.action(action_id, user_id=user)
    return (await slack.fake.wait_for_post(url)).text


def channel_texts(slack: SlackHarness, channel: str, *, top_level: bool = True) -> list[str]:
    return [
        visible_text(m) for (c, _), m in slack.fake.messages.items()
        if c == channel and (not top_level or "thread_ts" not in m)
    ]


async def test_two_answers_one_anonymous_then_helpful_and_kudos(slack: SlackHarness) -> None:
    await start(slack)
    request = await ask(slack, slack.member_fr)
    await reply(slack, slack.admin, request.id, answer_state("Anonyme : le CTA est flou."), anonymous=True)
    await reply(slack, slack.member_en, request.id, answer_state("Signed: clear tone.", tone="5"))
    replies = slack.fake.thread_replies("CFEEDBACK", request.message_id)
    assert len(replies) == 2
    assert "un·e pair anonyme" in visible_text(replies[0]) and "dominique" not in visible_text(replies[0])
    assert "jordan" in visible_text(replies[1]) and "★★★★★" in visible_text(replies[1])
    card = slack.fake.messages[("CFEEDBACK", request.message_id)]
    assert "2 réponses" in visible_text(card)
    dms = channel_texts(slack, f"D{slack.member_fr}")
    assert sum("Nouvel avis" in text for text in dms) == 2

    async with slack.services.db.transaction() as session:
        ids = await session.scalars(select(FeedbackAnswer.id).order_by(FeedbackAnswer.id))
        anonymous_id, signed_id = ids.all()
    assert await click(slack, f"feedback:helpful:{signed_id}", slack.admin) == slack.t(
        "fr", "feedback.errors.only_requester_helpful"
    )
    assert await click(slack, f"feedback:helpful:{signed_id}", slack.member_fr) == slack.t(
        "fr", "feedback.helpful.done", name="jordan"
    )
    assert await click(slack, f"feedback:helpful:{signed_id}", slack.member_fr) == slack.t(
        "fr", "feedback.errors.already_helpful"
    )
    assert await click(slack, f"feedback:who:{anonymous_id}", slack.member_en) != ""
    _, url = await slack.sender.command("kudos <@UJORDAN|jordan>", user_id=slack.member_fr)
    shown = await slack.fake.wait_for_post(url)
    assert "1 kudos pour des avis utiles" in shown.text or "1 kudos pour des avis utiles" in str(shown.body)
    _, url = await slack.sender.command("kudos top", user_id=slack.member_en)
    top = await slack.fake.wait_for_post(url)
    assert "Most helpful reviewers, November 2026" in str(top.body) and "jordan: 1 kudos" in str(top.body)
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count(Kudos.id))) == 1


async def test_nudge_once_after_the_delay_not_after_an_answer(slack: SlackHarness) -> None:
    await start(slack)
    lonely = await ask(slack, slack.member_fr, title="Personne ne répond")
    answered = await ask(slack, slack.member_fr, title="Déjà répondu")
    await reply(slack, slack.admin, answered.id, answer_state("Voilà."))
    clock: Any = slack.services.clock
    clock.advance(timedelta(hours=47, minutes=59))
    await slack.services.scheduler.run_due()
    assert not [t for t in channel_texts(slack, "CFEEDBACK") if "🔔" in t]
    clock.advance(timedelta(minutes=2))
    await slack.services.scheduler.run_due()
    await slack.services.scheduler.run_due()
    [nudge] = [t for t in channel_texts(slack, "CFEEDBACK") if "🔔" in t]
    assert "Toujours en attente d’avis : Personne ne répond" in nudge
    clock.advance(timedelta(hours=12))
    await slack.services.scheduler.run_due()
    assert len([t for t in channel_texts(slack, "CFEEDBACK") if "🔔" in t]) == 1
    async with slack.services.db.transaction() as session:
        assert (await session.get(FeedbackRequest, lonely.id)).nudged  # type: ignore[union-attr]


async def test_due_date_dm_offers_close(slack: SlackHarness) -> None:
    await start(slack)
    request = await ask(slack, slack.member_fr, due="2026-11-28")
    clock: Any = slack.services.clock
    clock.set(datetime(2026, 11, 29, 7, 59, tzinfo=UTC))
    await slack.services.scheduler.run_due()
    assert not [t for t in channel_texts(slack, f"D{slack.member_fr}") if "⏰" in t]
    clock.set(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    await slack.services.scheduler.run_due()
    await slack.services.scheduler.run_due()
    dm = f"D{slack.member_fr}"
    dms = [m for (c, _), m in slack.fake.messages.items() if c == dm and "⏰" in visible_text(m)]
    assert len(dms) == 1
    assert f"feedback:close:{request.id}" in str(dms[0]["blocks"])
    done = await click(slack, f"feedback:close:{request.id}", slack.member_fr)
    assert done == slack.t("fr", "feedback.closed.done", title="Landing page")
    thanks = slack.fake.thread_replies("CFEEDBACK", request.message_id)
    assert "Clôturée : Landing page" in visible_text(thanks[-1])
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.state)) == "closed"


async def test_refusals_save_nothing(slack: SlackHarness) -> None:
    await start(slack)
    blank = request_state(title="   ")
    empty = await slack.sender.view_submission("feedback:ask", blank, user_id=slack.member_fr)
    assert empty.json()["errors"]["title"] == slack.t("fr", "feedback.problems.title_empty")
    past = request_state()
    past["due"] = {"value": {"type": "datepicker", "selected_date": "2026-11-01"}}
    refused = await slack.sender.view_submission("feedback:ask", past, user_id=slack.member_fr)
    assert refused.json()["errors"]["due"] == slack.t("fr", "feedback.problems.due_past")
    request = await ask(slack, slack.member_fr)

    too_long = await reply(slack, slack.admin, request.id, answer_state("x" * 4001))
    assert "4001" in too_long.json()["errors"]["text"]
    out_of_range = await reply(slack, slack.admin, request.id, answer_state("Bien.", clarity="9"))
    assert out_of_range.json()["errors"]["rating_clarity"] == slack.t(
        "fr", "feedback.problems.rating_range", low=1, high=5
    )
    own = await reply(slack, slack.member_fr, request.id, answer_state("Moi-même."))
    assert own.json()["response_action"] == "update"  # the form turns into the refusal
    assert slack.t("fr", "feedback.errors.own_request") in own.json()["view"]["blocks"][0]["text"]["text"]
    assert await click(slack, f"feedback:close:{request.id}", slack.admin) == slack.t(
        "fr", "feedback.closed.done", title="Landing page"
    )  # a moderator may close it
    late = await reply(slack, slack.member_en, request.id, answer_state("Too late."))
    assert slack.t("en", "feedback.errors.closed") in late.json()["view"]["blocks"][0]["text"]["text"]
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackAnswer.id))) == 0
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 1


async def export(slack: SlackHarness, user: str) -> dict[str, Any]:
    before = len(slack.fake.calls_to("files.completeUploadExternal"))
    _, url = await slack.sender.command("confidentialite exporter", user_id=user)
    await slack.fake.wait_for_post(url)
    call = await slack.fake.wait_for_call(
        "files.completeUploadExternal",
        lambda c: slack.fake.calls_to("files.completeUploadExternal").index(c) >= before,
    )
    [uploaded] = call.args["files"]
    return json.loads(slack.fake.uploads[uploaded["id"]])


async def test_export_then_delete(slack: SlackHarness) -> None:
    await start(slack)
    mine = await ask(slack, slack.member_fr, title="Ma page")
    await reply(slack, slack.admin, mine.id, answer_state("Anonyme."), anonymous=True)
    await reply(slack, slack.member_en, mine.id, answer_state("Signed."))
    theirs = await ask(slack, slack.member_en, title="Their page")
    await reply(slack, slack.member_fr, theirs.id, answer_state("Mon avis <!channel>", clarity="4"))
    async with slack.services.db.transaction() as session:
        signed, written = (
            await session.scalars(
                select(FeedbackAnswer.id).where(FeedbackAnswer.anonymous.is_(False)).order_by(FeedbackAnswer.id)
            )
        ).all()
    await click(slack, f"feedback:helpful:{signed}", slack.member_fr)
    await click(slack, f"feedback:helpful:{written}", slack.member_en)

    data = (await export(slack, slack.member_fr))["features"]["feedback"]
    assert [r["title"] for r in data["requests"]] == ["Ma page"]
    assert [(a["request_id"], a["text"], a["ratings"]) for a in data["answers"]] == [
        (theirs.id, "Mon avis <!channel>", {"clarity": 4})
    ]
    assert [k["answer_id"] for k in data["kudos_given"]] == [signed]
    assert [k["answer_id"] for k in data["kudos_received"]] == [written]

    _, url = await slack.sender.command("confidentialite supprimer", user_id=slack.member_fr)
    asked = await slack.fake.wait_for_post(url)
    async with slack.services.db.transaction() as session:
        member_id = await session.scalar(
            select(FeedbackRequest.member_id).where(FeedbackRequest.id == mine.id)
        )
    assert f"privacy:confirm:{member_id}" in str(asked.body)
    done = slack.completions.count
    await slack.sender.action(f"privacy:confirm:{member_id}", user_id=slack.member_fr)
    await slack.completions.wait(done + 1)
    clock: Any = slack.services.clock
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the clean-up job is due at once (wall clock)
    await slack.services.scheduler.run_due()

    assert ("CFEEDBACK", mine.message_id) not in slack.fake.messages  # the card
    assert slack.fake.thread_replies("CFEEDBACK", mine.message_id) == []  # the answers under it
    their_thread = slack.fake.thread_replies("CFEEDBACK", theirs.message_id)
    assert their_thread == []  # the member's own answer message is removed too
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count(FeedbackRequest.id))) == 1
        stub = await session.get(FeedbackAnswer, written)
        assert stub is not None and stub.member_id is None and stub.text == "" and stub.ratings == {}
        assert await session.scalar(select(func.count(Kudos.id))) == 0
    assert (await export(slack, slack.member_en))["features"]["feedback"]["kudos_given"] == []


async def test_an_answer_slack_failed_to_post_is_posted_later_and_its_requester_told(
    slack: SlackHarness,
) -> None:
    """`publish_answer` caught only CannotPost: a 500 on posting the answer stopped everything after it, the
    card's count and the requester's DM, and nothing posted it later. Now the requester is told at once
    (the DM cannot link to the answer yet) and a job posts the answer, once, and counts it on the card."""
    from tests.fakes.slack_api import server_error

    await start(slack)
    request = await ask(slack, slack.member_fr)
    slack.fake.fail_next("chat.postMessage", *[server_error(500)] * 3)  # the call and the client's 2 retries
    await reply(slack, slack.admin, request.id, answer_state("Le CTA est flou."))
    assert slack.fake.thread_replies("CFEEDBACK", request.message_id) == []
    dms = channel_texts(slack, f"D{slack.member_fr}")
    assert sum("Nouvel avis" in text for text in dms) == 1  # told at once
    for _ in range(3):
        slack.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await slack.services.scheduler.run_due()
    replies = slack.fake.thread_replies("CFEEDBACK", request.message_id)
    assert len(replies) == 1 and "Le CTA est flou." in visible_text(replies[0])
    assert "1 réponse" in visible_text(slack.fake.messages[("CFEEDBACK", request.message_id)])
    assert sum("Nouvel avis" in text for text in channel_texts(slack, f"D{slack.member_fr}")) == 1


async def test_kudos_of_a_word_that_names_no_member_is_told_the_usage(slack: SlackHarness) -> None:
    """Before, `/collectif kudos foo` answered "This member has no kudos here.", as if foo were a member."""
    for typed, user, locale in (("kudos foo", slack.member_en, "en"), ("kudos truc", slack.member_fr, "fr"),
                                ("kudos UFO", slack.member_en, "en")):  # a word, not a user id
        _, url = await slack.sender.command(typed, user_id=user)
        reply = await slack.fake.wait_for_post(url)
        assert reply.text == slack.t(locale, "feedback.slack.kudos_usage")
        assert "/collectif kudos" in reply.text and reply.text != slack.t(locale, "feedback.errors.no_member")
    # A mention of someone who is not a member here is still told so.
    _, url = await slack.sender.command("kudos <@UNOBODY|nobody>", user_id=slack.member_en)
    assert (await slack.fake.wait_for_post(url)).text == slack.t("en", "feedback.errors.no_member")


async def test_the_same_request_form_submitted_twice_at_once_asks_once(slack: SlackHarness) -> None:
    """A double click on Submit (or Slack sending the submission again): one modal, its view id twice;
    before, two requests and two cards. The second is told the form was taken once."""
    import asyncio

    await slack.sender.command("avis", user_id=slack.member_fr)  # creates the community
    await slack.completions.wait(1)
    await configure(slack)
    done = slack.completions.count
    answers = await asyncio.gather(*(
        slack.sender.view_submission("feedback:ask", request_state(), user_id=slack.member_fr,
                                     view_id="VASKFORM1")
        for _ in range(2)))
    await slack.completions.wait(done + 2)
    assert [a.status for a in answers] == [200, 200]
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(FeedbackRequest)) == 1
    cards = [c for c in slack.fake.calls
             if c.method == "chat.postMessage" and c.args.get("channel") == "CFEEDBACK"]
    assert len(cards) == 1
    told = [c.args["text"] for c in slack.fake.calls
            if c.method.startswith("chat.post") and c.args.get("channel") == slack.member_fr]
    assert len(told) == 2 and slack.t("fr", "errors.already_submitted") in told, told
    assert any(slack.t("fr", "feedback.asked.posted_plain") in text for text in told), told


async def test_the_same_answer_form_submitted_twice_at_once_answers_once(slack: SlackHarness) -> None:
    """The answer form's Submit twice (a double click, a retry): its view id twice; before, two answers
    in the thread. The second is told the form was taken once."""
    import asyncio

    await slack.sender.command("avis", user_id=slack.member_fr)  # creates the community
    await slack.completions.wait(1)
    await configure(slack)
    request = await ask(slack, slack.member_fr)
    done = slack.completions.count
    answers = await asyncio.gather(*(
        slack.sender.view_submission(f"feedback:reply:{request.id}", answer_state("Le CTA est flou."),
                                     user_id=slack.admin, view_id="VREPLY1")
        for _ in range(2)))
    await slack.completions.wait(done + 2)
    assert [a.status for a in answers] == [200, 200]
    async with slack.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(FeedbackAnswer)) == 1
    assert len(slack.fake.thread_replies("CFEEDBACK", request.thread_id)) == 1
    told = [c.args["text"] for c in slack.fake.calls
            if c.method.startswith("chat.post") and c.args.get("channel") == slack.admin]
    assert told == [slack.t("fr", "errors.already_submitted")], told
