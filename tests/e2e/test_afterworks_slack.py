"""Afterworks on Slack, through the real Bolt app and signed requests against the fake Slack.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.usecase import run
from cogs.afterworks import FEATURE
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._publish import create_afterwork
from cogs.afterworks.models import Afterwork
from storage.models import Community, Job
from storage.settings import get_settings
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.callers import make_caller
from tests.fakes.slack_api import visible_text

CHANNEL = "CAFTERWORKS"
TEXTS = {"title": "Apéro des rédacteurs", "when": "2026-12-04 19:00", "where": "Le Comptoir, 3 rue X",
         "city": "Lyon", "capacity": "2", "description": "On parle SEO."}
DEC_4_19H_PARIS = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
PEOPLE = {"UALEX": "alex", "UBEA": "bea", "UCHRIS": "chris"}


@pytest.fixture
async def s(slack: SlackHarness) -> SlackHarness:
    """The harness with afterworks' start hook run (its job kinds), three more members, a channel."""
    await FEATURE.on_start(slack.services)
    for user_id, name in PEOPLE.items():
        slack.fake.add_user(user_id, name, locale="fr-FR")
    return slack


async def community_id(s: SlackHarness) -> int:
    async with s.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == s.fake.team_id))
    assert found is not None
    return found


async def use_channel(s: SlackHarness) -> None:
    """The community comes with its first request (here an empty list); then its afterworks channel."""
    _, url = await s.sender.command("afterworks", user_id=s.member_fr)
    assert s.t("fr", "afterworks.list.empty") in (await s.fake.wait_for_post(url)).text
    await s.completions.wait(1)
    cid = await community_id(s)
    async with s.services.db.transaction() as session:
        (await get_settings(session, cid)).afterworks_channel_id = CHANNEL


async def afterworks(s: SlackHarness) -> list[Afterwork]:
    async with s.services.db.transaction() as session:
        return list(await session.scalars(select(Afterwork).order_by(Afterwork.id)))


def state(**texts: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "120"}}},
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "afterwork"}}},
    }
    for name, text in {**TEXTS, **texts}.items():
        values[name] = {"value": {"type": "plain_text_input", "value": text}}
    return values


async def open_form(s: SlackHarness, user: str) -> dict[str, Any]:
    before = len(s.fake.calls_to("views.open"))
    answer, _ = await s.sender.command("afterwork", user_id=user)
    assert answer.status == 200
    call = await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= before
    )
    return call.args["view"]


async def create(s: SlackHarness, user: str, **texts: str) -> dict[str, Any]:
    """The form, then "Post it": the confirmation view that was shown."""
    form = await open_form(s, user)
    answer = await s.sender.view_submission(
        "afterworks:form", state(**texts), user_id=user, private_metadata=form["private_metadata"]
    )
    body = answer.json()
    assert body["response_action"] == "update", body
    confirm = body["view"]
    done = s.completions.count
    posted = await s.sender.view_submission(
        "afterworks:confirm_view", {}, user_id=user, private_metadata=confirm["private_metadata"]
    )
    assert posted.status == 200
    await s.completions.wait(done + 1)
    return confirm


def channel_messages(s: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [m for (c, _ts), m in s.fake.messages.items() if c == channel]


def card(s: SlackHarness) -> dict[str, Any]:
    found = [m for m in channel_messages(s, CHANNEL) if "afterworks:rsvp" in json.dumps(m)
             or "afterworks:ics" in json.dumps(m)]
    assert len(found) == 1, found
    return found[0]


def dms(s: SlackHarness, user: str) -> list[str]:
    return [visible_text(m) for m in channel_messages(s, "D" + user)]


async def click(s: SlackHarness, action_id: str, user: str) -> str:
    """Click a card's button; what the member is told (ephemeral, on the response_url)."""
    done = s.completions.count
    url = await action(s, action_id, user)
    await s.completions.wait(done + 1)
    return (await s.fake.wait_for_post(url)).text


async def action(s: SlackHarness, action_id: str, user: str) -> str:
    """A click on a card in the afterworks channel, signed; its response_url."""
    payload = s.sender.action_payload(action_id, user_id=user, channel_id=CHANNEL)
    body = urlencode({"payload": json.dumps(payload)})
    answer = await s.sender.send(body, "application/x-www-form-urlencoded")
    assert answer.status == 200
    return payload["response_url"]


async def test_create_answer_waitlist_reminder_edit_cancel_and_calendar(s: SlackHarness) -> None:
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    assert form["callback_id"] == "afterworks:form"
    answer = await s.sender.view_submission(
        "afterworks:form", state(when="jeudi 19h"), user_id=s.member_fr,
        private_metadata=form["private_metadata"],
    )
    understood = visible_text(answer.json()["view"])
    assert "jeudi 3 décembre 2026" in understood and "19:00" in understood and "Paris" in understood
    assert await afterworks(s) == []  # nothing saved before "Post it"

    await create(s, s.member_fr)
    [afterwork] = await afterworks(s)
    assert afterwork.starts_at == DEC_4_19H_PARIS
    aid = afterwork.id
    shown = visible_text(card(s))
    assert f"<!date^{int(DEC_4_19H_PARIS.timestamp())}^" in shown
    assert "Le Comptoir, 3 rue X · Lyon" in shown
    assert any(s.t("fr", "afterworks.created.posted_slack") in text for text in dms(s, s.member_fr))

    going = s.t("fr", "afterworks.answered.going")
    assert await click(s, f"afterworks:rsvp:{aid}:going", "UALEX") == going
    assert await click(s, f"afterworks:rsvp:{aid}:going", "UBEA") == going
    assert await click(s, f"afterworks:rsvp:{aid}:going", "UCHRIS") == s.t(
        "fr", "afterworks.answered.waitlist", position=1
    )
    assert await click(s, f"afterworks:rsvp:{aid}:maybe", s.admin) == s.t("fr", "afterworks.answered.maybe")
    shown = visible_text(card(s))
    assert s.t("fr", "afterworks.card.going_of", going=2, capacity=2) in shown
    assert "alex, bea" in shown
    assert s.t("fr", "afterworks.card.waitlist", count=1) in shown

    # Bea leaves: Chris is promoted and told by DM, once.
    assert await click(s, f"afterworks:rsvp:{aid}:cant", "UBEA") == s.t("fr", "afterworks.answered.cant")
    promoted = s.t("fr", "afterworks.dm.promoted_title", title=TEXTS["title"])
    assert sum(promoted in text for text in dms(s, "UCHRIS")) == 1
    assert "alex, chris" in visible_text(card(s))

    # The 24 h reminder: once, however often the due jobs run.
    s.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=24))
    await s.services.scheduler.run_due()
    await s.services.scheduler.run_due()
    reminder = s.t("fr", "afterworks.dm.reminder_title", title=TEXTS["title"])
    assert sum(reminder in text for text in dms(s, "UALEX")) == 1
    assert sum(reminder in text for text in dms(s, "UCHRIS")) == 1
    assert not any(reminder in text for text in dms(s, "UBEA") + dms(s, s.admin))
    coming = s.t("fr", "afterworks.dm.channel_reminder_title", title=TEXTS["title"])
    assert sum(coming in visible_text(m) for m in channel_messages(s, CHANNEL)) == 1

    # Edit: the form comes pre-filled; a day later, the card and the reminders follow.
    opened = len(s.fake.calls_to("views.open"))
    await action(s, f"afterworks:edit:{aid}", s.member_fr)
    edit = (await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= opened
    )).args["view"]
    assert edit["callback_id"] == f"afterworks:edit_form:{aid}"
    when = next(b for b in edit["blocks"] if b["block_id"] == "when")
    assert when["element"]["initial_value"] == "2026-12-04 19:00"
    done = s.completions.count
    answer = await s.sender.view_submission(
        f"afterworks:edit_form:{aid}", state(when="2026-12-05 19:00"), user_id=s.member_fr
    )
    assert answer.status == 200 and answer.text == ""
    await s.completions.wait(done + 1)
    moved = DEC_4_19H_PARIS + timedelta(days=1)
    [afterwork] = await afterworks(s)
    assert afterwork.starts_at == moved
    assert f"<!date^{int(moved.timestamp())}^" in visible_text(card(s))
    changed = s.t("fr", "afterworks.dm.changed_title", title=TEXTS["title"])
    assert sum(changed in text for text in dms(s, "UALEX")) == 1
    async with s.services.db.transaction() as session:
        due = sorted(await session.scalars(
            select(Job.due_at).where(Job.kind == "afterworks.remind", Job.state == "pending")
        ))
    assert due == [moved - timedelta(hours=24), moved - timedelta(hours=1)]

    # Cancel: the card says so, no more answers, no reminder afterwards. Slack fails every DM meanwhile:
    # the notices are kept in the outbox and sent, once each, when it is back.
    s.fake.errors["conversations.open"] = "fatal_error"
    assert await click(s, f"afterworks:cancel:{aid}", s.member_fr) == s.t("fr", "afterworks.cancelled.done")
    gone = s.t("fr", "afterworks.dm.cancelled_title", title=TEXTS["title"])
    assert sum(gone in text for text in dms(s, "UCHRIS")) == 0
    del s.fake.errors["conversations.open"]
    for _ in range(3):
        s.services.clock.advance(timedelta(minutes=1))
        await s.services.scheduler.run_due()
    final = card(s)
    assert s.t("fr", "afterworks.card.cancelled_title", title=TEXTS["title"]) in visible_text(final)
    assert "afterworks:rsvp" not in json.dumps(final)
    assert sum(gone in text for text in dms(s, "UCHRIS")) == 1
    before = {u: len(dms(s, u)) for u in ("UALEX", "UCHRIS")}
    for hours in (24, 1):
        s.services.clock.set(moved - timedelta(hours=hours))
        await s.services.scheduler.run_due()
    assert {u: len(dms(s, u)) for u in ("UALEX", "UCHRIS")} == before
    assert await click(s, f"afterworks:rsvp:{aid}:going", "UBEA") == s.t("fr", "afterworks.errors.cancelled")

    # Add to calendar: the .ics comes by DM and parses back.
    assert await click(s, f"afterworks:ics:{aid}", "UALEX") == s.t("fr", "afterworks.calendar.sent")
    [shared] = s.fake.shared_files
    assert shared["filename"] == f"afterwork-{aid}.ics"
    [vevent] = Calendar.from_ical(shared["content"]).walk("VEVENT")
    assert str(vevent["uid"]) == f"afterwork-{afterwork.community_id}-{aid}@collectif"
    assert str(vevent["status"]) == "CANCELLED"
    assert vevent.decoded("dtstart") == moved
    assert vevent.decoded("dtend") == moved + timedelta(hours=2)


async def test_bad_inputs_come_back_inline_and_save_nothing(s: SlackHarness) -> None:
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    cases = {
        "when": ({"when": "2026-11-20 19:00"}, s.t(
            "fr", "afterworks.problems.when_past",
            date="vendredi 20 novembre 2026", time="19:00", zone="Paris",
        )),
        "unreadable": ({"when": "quand tu veux"}, s.t(
            "fr", "afterworks.problems.when_unreadable", text="quand tu veux"
        )),
        "where": ({"where": "javascript:alert(1)"}, s.t("fr", "afterworks.problems.link_scheme")),
        "ftp": ({"where": "ftp://files.example/plan"}, s.t("fr", "afterworks.problems.link_scheme")),
        "zero": ({"capacity": "0"}, s.t("fr", "afterworks.problems.capacity", max=1000)),
        "too many": ({"capacity": "1001"}, s.t("fr", "afterworks.problems.capacity", max=1000)),
    }
    for name, (texts, problem) in cases.items():
        answer = await s.sender.view_submission(
            "afterworks:form", state(**texts), user_id=s.member_fr, private_metadata=form["private_metadata"]
        )
        body = answer.json()
        assert body["response_action"] == "errors", name
        [shown] = body["errors"].values()
        assert shown == problem.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), name
        block = next(iter(texts)) if next(iter(texts)) != "capacity" else "capacity"
        assert set(body["errors"]) == {block}, name
    assert await afterworks(s) == []
    assert channel_messages(s, CHANNEL) == []


async def test_the_confirmation_step_shows_what_was_typed_escaped(s: SlackHarness) -> None:
    """The "what I understood" step quotes the title and place: as text, never as Slack markup."""
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    typed = {"title": "Apéro <!channel> & <@UJORDAN> <https://evil.example|clic>",
             "where": "Bar <Le Comptoir>"}
    answer = await s.sender.view_submission(
        "afterworks:form", state(**typed), user_id=s.member_fr, private_metadata=form["private_metadata"]
    )
    body = answer.json()
    assert body["response_action"] == "update"
    [section] = body["view"]["blocks"]
    shown = section["text"]["text"]
    assert "Apéro &lt;!channel&gt; &amp; &lt;@UJORDAN&gt; &lt;https://evil.example|clic&gt;" in shown
    assert "Bar &lt;Le Comptoir&gt;" in shown and "<!channel>" not in shown and "<https" not in shown


async def test_only_the_organizer_or_a_moderator_edits_or_cancels(s: SlackHarness) -> None:
    await use_channel(s)
    await create(s, s.member_fr)
    [afterwork] = await afterworks(s)
    refused = s.t("fr", "afterworks.errors.not_organizer")

    assert await click(s, f"afterworks:edit:{afterwork.id}", "UALEX") == refused
    assert await click(s, f"afterworks:cancel:{afterwork.id}", "UALEX") == refused
    answer = await s.sender.view_submission(
        f"afterworks:edit_form:{afterwork.id}", state(title="Piraté"), user_id="UALEX"
    )
    assert refused in visible_text(answer.json()["view"])
    assert s.fake.calls_to("views.open")[-1].args["view"]["callback_id"] == "afterworks:form"
    [unchanged] = await afterworks(s)
    assert (unchanged.title, unchanged.status) == (TEXTS["title"], "scheduled")

    assert await click(s, f"afterworks:cancel:{afterwork.id}", s.admin) == s.t(
        "fr", "afterworks.cancelled.done"
    )
    [done] = await afterworks(s)
    assert done.status == "cancelled"


async def test_fewer_seats_than_those_going_is_refused_on_the_field(s: SlackHarness) -> None:
    await use_channel(s)
    await create(s, s.member_fr, capacity="5")
    [afterwork] = await afterworks(s)
    for user in PEOPLE:
        await click(s, f"afterworks:rsvp:{afterwork.id}:going", user)
    answer = await s.sender.view_submission(
        f"afterworks:edit_form:{afterwork.id}", state(capacity="2"), user_id=s.member_fr
    )
    body = answer.json()
    assert body == {"response_action": "errors", "errors": {
        "capacity": s.t("fr", "afterworks.errors.capacity_below_going", going=3)
    }}
    [unchanged] = await afterworks(s)
    assert (unchanged.capacity, unchanged.going_count) == (5, 3)


async def test_the_edit_form_closes_before_the_save_waits_on_the_write_lock(s: SlackHarness) -> None:
    """Another process holds the write lock (a backup): the edit is checked read-only and the modal
    closes at once (Slack gives up after 3 s); the change is saved once the lock is gone, then told."""
    import asyncio
    import time

    from tests.e2e.test_write_lock import write_locked

    await use_channel(s)
    await create(s, s.member_fr, capacity="5")
    [afterwork] = await afterworks(s)
    with write_locked(s.services.settings.database.url):
        began = time.perf_counter()
        answer = await s.sender.view_submission(
            f"afterworks:edit_form:{afterwork.id}", state(capacity="8"), user_id=s.member_fr
        )
        acked = time.perf_counter() - began
        await asyncio.sleep(0.3)  # the save waits on the lock meanwhile
    assert answer.status == 200 and answer.text == "" and acked < 1.0
    for _ in range(50):
        if (await afterworks(s))[0].capacity == 8:
            break
        await asyncio.sleep(0.1)
    assert (await afterworks(s))[0].capacity == 8


async def test_a_button_of_another_community_finds_nothing(s: SlackHarness) -> None:
    await use_channel(s)
    services = s.services
    stranger = await make_caller(services, "UOTHER", platform="slack", guild="TOTHER", community_name="other",
                                 name="other", locale="fr-FR")
    created = await run(services, stranger, create_afterwork, AfterworkForm(**{
        **TEXTS, "duration": "120", "kind": "afterwork"}), origin_channel_id="COTHER")
    theirs = created.afterwork_id
    not_found = s.t("fr", "afterworks.errors.not_found")

    for action in ("rsvp:{}:going", "ics:{}", "edit:{}", "cancel:{}"):
        assert await click(s, "afterworks:" + action.format(theirs), s.member_fr) == not_found, action
    answer = await s.sender.view_submission(
        f"afterworks:edit_form:{theirs}", state(title="Piraté"), user_id=s.member_fr
    )
    assert not_found in visible_text(answer.json()["view"])
    [still] = await afterworks(s)
    assert (still.title, still.status, still.going_count) == (TEXTS["title"], "scheduled", 0)
    assert s.fake.shared_files == []


def parsed_text(message: dict[str, Any]) -> str:
    """The texts Slack parses for mentions: the fallback `text` and every mrkdwn block text
    (plain_text, e.g. a header, is shown as typed and never pings)."""
    parts = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return "\n".join(parts)


async def test_text_typed_by_members_pings_nobody(s: SlackHarness) -> None:
    await use_channel(s)
    loud = "<!channel> <!here> <@UJORDAN> & co"
    await create(s, s.member_fr, title=f"Apéro {loud}", description=f"Venez {loud}", city="<!everyone>")
    [afterwork] = await afterworks(s)
    await click(s, f"afterworks:rsvp:{afterwork.id}:going", "UALEX")
    s.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=1))
    await s.services.scheduler.run_due()

    sent = [c.args for c in s.fake.calls_to("chat.postMessage") + s.fake.calls_to("chat.update")]
    assert len(sent) >= 4  # the card, its update, the channel reminder, the DM reminder
    for message in sent:
        text = parsed_text(message)
        assert "<!channel>" not in text and "<!here>" not in text and "<!everyone>" not in text, text
        assert "<@UJORDAN>" not in text, text
    assert "&lt;!channel&gt;" in visible_text(card(s))


async def test_a_long_french_form_survives_the_confirmation_step(s: SlackHarness) -> None:
    """The confirmation carries the form in private_metadata (3,000 characters at most on Slack)."""
    await use_channel(s)
    description = ("Soirée « à thème » : café, thé, échanges. " * 30)[:1000]
    where = "https://visio.example/salle-" + "é" * 400
    confirm = await create(s, s.member_fr, description=description, where=where, city="Saint-Étienne")
    assert len(confirm["private_metadata"]) <= 3000
    [afterwork] = await afterworks(s)
    assert (afterwork.description, afterwork.link, afterwork.city) == (description, where, "Saint-Étienne")
    form = await open_form(s, s.member_fr)
    quoted = '"' * 1000  # each one escaped: the form cannot be carried whole
    answer = await s.sender.view_submission(
        "afterworks:form", state(
            description=quoted, where="https://visio.example/" + '"' * 478, title='"' * 100
        ),
        user_id=s.member_fr, private_metadata=form["private_metadata"],
    )
    body = answer.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"description"}


def cutoff_state(minutes: str, **texts: str) -> dict[str, Any]:
    values = state(**texts)
    values["cutoff"] = {"value": {"type": "static_select", "selected_option": {"value": minutes}}}
    return values


async def test_answers_close_at_the_cutoff_shown_on_the_card(s: SlackHarness) -> None:
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    cutoff = next(b for b in form["blocks"] if b["block_id"] == "cutoff")
    assert cutoff["optional"] is True
    assert [o["value"] for o in cutoff["element"]["options"]][:2] == ["0", "60"]
    metadata = form["private_metadata"]
    answer = await s.sender.view_submission(
        "afterworks:form", cutoff_state("1440"), user_id=s.member_fr, private_metadata=metadata
    )
    confirm = answer.json()["view"]
    assert "Réponses jusqu’au : jeudi 3 décembre 2026, 19:00" in visible_text(confirm)
    done = s.completions.count
    await s.sender.view_submission(
        "afterworks:confirm_view", {}, user_id=s.member_fr, private_metadata=confirm["private_metadata"]
    )
    await s.completions.wait(done + 1)
    [afterwork] = await afterworks(s)
    assert afterwork.rsvp_cutoff_minutes == 1440
    closes = DEC_4_19H_PARIS - timedelta(hours=24)
    shown = visible_text(card(s))
    assert s.t("fr", "afterworks.fields.cutoff") in shown and f"<!date^{int(closes.timestamp())}^" in shown
    going = s.t("fr", "afterworks.answered.going")
    assert await click(s, f"afterworks:rsvp:{afterwork.id}:going", "UALEX") == going

    s.services.clock.set(closes)
    await s.services.scheduler.run_due()  # the cutoff's job edits the card: answers closed, no buttons
    final = card(s)
    assert s.t("fr", "afterworks.fields.closed") in visible_text(final)
    assert "afterworks:rsvp" not in json.dumps(final)
    closed = s.t("fr", "afterworks.errors.closed", date="jeudi 3 décembre 2026", time="19:00", zone="Paris")
    assert await click(s, f"afterworks:rsvp:{afterwork.id}:cant", "UALEX") == closed
    assert await click(s, f"afterworks:rsvp:{afterwork.id}:going", "UBEA") == closed
    [still] = await afterworks(s)
    assert still.going_count == 1

    # Bad choice sent by a forged form: refused on its field, nothing saved.
    answer = await s.sender.view_submission(
        "afterworks:form", cutoff_state("17"), user_id=s.member_fr, private_metadata=metadata
    )
    assert answer.json() == {"response_action": "errors", "errors": {
        "cutoff": s.t("fr", "afterworks.problems.cutoff")}}


async def test_a_weekly_series_posts_the_next_date_skips_one_and_ends(s: SlackHarness) -> None:
    await use_channel(s)
    form = await open_form(s, s.member_fr)
    assert {"recurrence", "until"} <= {b["block_id"] for b in form["blocks"]}
    values = state(until="2027-01-31")
    values["recurrence"] = {"value": {"type": "static_select", "selected_option": {"value": "weekly"}}}
    answer = await s.sender.view_submission(
        "afterworks:form", values, user_id=s.member_fr, private_metadata=form["private_metadata"]
    )
    confirm = answer.json()["view"]
    assert "chaque semaine, le vendredi, jusqu’au dimanche 31 janvier 2027" in visible_text(confirm)
    done = s.completions.count
    await s.sender.view_submission(
        "afterworks:confirm_view", {}, user_id=s.member_fr, private_metadata=confirm["private_metadata"]
    )
    await s.completions.wait(done + 1)
    [first] = await afterworks(s)
    shown = json.dumps(card(s))
    assert f"afterworks:end:{first.id}" in shown and s.t("fr", "afterworks.buttons.cancel_date") in shown

    s.services.clock.set(DEC_4_19H_PARIS + timedelta(hours=2))
    await s.services.scheduler.run_due()
    first, second = await afterworks(s)
    assert second.starts_at == DEC_4_19H_PARIS + timedelta(days=7)
    posted = [m for m in channel_messages(s, CHANNEL) if f"afterworks:rsvp:{second.id}" in json.dumps(m)]
    assert len(posted) == 1
    assert f"<!date^{int(second.starts_at.timestamp())}^" in visible_text(posted[0])
    going = s.t("fr", "afterworks.answered.going")
    assert await click(s, f"afterworks:rsvp:{second.id}:going", "UALEX") == going

    refused = s.t("fr", "afterworks.errors.not_organizer")
    assert await click(s, f"afterworks:end:{second.id}", "UALEX") == refused
    assert await click(s, f"afterworks:cancel:{second.id}", s.member_fr) == s.t(
        "fr", "afterworks.cancelled.occurrence"
    )
    gone = s.t("fr", "afterworks.dm.cancelled_title", title=TEXTS["title"])
    assert sum(gone in text for text in dms(s, "UALEX")) == 1
    assert await click(s, f"afterworks:end:{second.id}", s.member_fr) == s.t("fr", "afterworks.ended.done")
    assert await click(s, f"afterworks:end:{second.id}", s.member_fr) == s.t("fr", "afterworks.ended.already")
    s.services.clock.set(second.starts_at + timedelta(days=30))
    await s.services.scheduler.run_due()
    assert len(await afterworks(s)) == 2

    # The edit form changes one date: no recurrence fields there.
    opened = len(s.fake.calls_to("views.open"))
    s.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=1))
    await action(s, f"afterworks:edit:{first.id}", s.member_fr)
    edit = (await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= opened
    )).args["view"]
    assert {"recurrence", "until"}.isdisjoint(b["block_id"] for b in edit["blocks"])


def poll_state(**texts: str) -> dict[str, Any]:
    typed = {"title": "Apéro de Noël", "slot1": "jeudi 19h", "slot2": "2026-12-04 19:00",
             "slot3": "dans 3 jours à 11h", "where": "Le Comptoir", "city": "Lyon", "capacity": "8", **texts}
    values: dict[str, Any] = {
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "120"}}},
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "afterwork"}}},
    }
    for name, text in typed.items():
        values[name] = {"value": {"type": "plain_text_input", "value": text}}
    return values


async def test_a_date_poll_ticked_by_members_becomes_the_afterwork(s: SlackHarness) -> None:
    await use_channel(s)
    before = len(s.fake.calls_to("views.open"))
    answer, _ = await s.sender.command("afterwork sondage", user_id=s.member_fr)
    assert answer.status == 200
    view = (await s.fake.wait_for_call(
        "views.open", lambda c: s.fake.calls_to("views.open").index(c) >= before
    )).args["view"]
    assert view["callback_id"] == "afterworks:poll_form"
    blocks = [b["block_id"] for b in view["blocks"]]
    assert blocks[:6] == ["title", "slot1", "slot2", "slot3", "slot4", "slot5"] and "when" not in blocks

    # Problems come back inline on their slot; nothing saved.
    refused = await s.sender.view_submission(
        "afterworks:poll_form", poll_state(slot2="2026-11-20 19:00", slot3=""), user_id=s.member_fr,
        private_metadata=view["private_metadata"],
    )
    body = refused.json()
    assert body["response_action"] == "errors" and set(body["errors"]) == {"slot2"}
    assert channel_messages(s, CHANNEL) == []

    done = s.completions.count
    posted = await s.sender.view_submission(
        "afterworks:poll_form", poll_state(), user_id=s.member_fr, private_metadata=view["private_metadata"]
    )
    assert posted.status == 200
    await s.completions.wait(done + 1)
    [poll] = channel_messages(s, CHANNEL)
    shown = visible_text(poll)
    assert "Apéro de Noël" in shown
    assert f"<!date^{int(datetime(2026, 12, 3, 18, 0, tzinfo=UTC).timestamp())}^" in shown
    ids = [e["action_id"] for b in poll["blocks"] if b["type"] == "actions" for e in b["elements"]]
    votes = [i for i in ids if i.startswith("afterworks:vote:")]
    picks = [i for i in ids if i.startswith("afterworks:pick:")]
    assert len(votes) == len(picks) == 3
    assert any("• n°3 : dimanche 29 novembre 2026, 11:00" in text for text in dms(s, s.member_fr))

    assert await click(s, votes[1], "UALEX") == s.t("fr", "afterworks.poll.ticked", n=2)
    assert await click(s, votes[1], "UBEA") == s.t("fr", "afterworks.poll.ticked", n=2)
    assert await click(s, votes[1], "UBEA") == s.t("fr", "afterworks.poll.unticked", n=2)
    assert await click(s, picks[1], "UALEX") == s.t("fr", "afterworks.errors.not_organizer")
    assert await click(s, picks[1], s.member_fr) == s.t("fr", "afterworks.poll.picked", n=2)
    [afterwork] = await afterworks(s)
    assert (afterwork.starts_at, afterwork.capacity) == (DEC_4_19H_PARIS, 8)
    assert "afterworks:rsvp" in json.dumps(card(s))
    decided = s.t("fr", "afterworks.dm.poll_decided_title", title="Apéro de Noël")
    assert sum(decided in text for text in dms(s, "UALEX")) == 1
    assert not any(decided in text for text in dms(s, "UBEA"))
    assert await click(s, votes[0], "UBEA") == s.t("fr", "afterworks.errors.poll_closed")



@pytest.mark.parametrize(("user", "words", "locale"), [("member_fr", "afterwork truc", "fr"),
                                                       ("member_en", "afterwork foo", "en")])
async def test_an_unknown_word_after_afterwork_is_told_the_usage_not_given_the_form(
    s: SlackHarness, user: str, words: str, locale: str
) -> None:
    """Before, any word but dms and poll opened the create form, the word silently dropped."""
    _, url = await s.sender.command(words, user_id=getattr(s, user))
    reply = await s.fake.wait_for_post(url)
    assert reply.text == s.t(locale, "afterworks.slack.usage")
    assert "/collectif afterwork" in reply.text
    assert s.fake.calls_to("views.open") == []
    # The words it knows, in either language, still open their forms.
    known = {"afterwork": "afterworks:form", "afterwork creer": "afterworks:form",
             "afterwork create": "afterworks:form", "afterwork poll": "afterworks:poll_form"}
    for count, (typed, callback_id) in enumerate(known.items(), start=1):
        await s.sender.command(typed, user_id=getattr(s, user))
        await s.fake.wait_for_call("views.open", lambda _, n=count: len(s.fake.calls_to("views.open")) == n)
        assert s.fake.calls_to("views.open")[-1].args["view"]["callback_id"] == callback_id, typed
