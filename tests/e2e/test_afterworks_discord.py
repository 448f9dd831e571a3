"""Afterworks on Discord, through the real bot and the fake Discord, with the harness's frozen clock.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from cogs.afterworks import FEATURE
from cogs.afterworks.models import Afterwork, Rsvp
from storage.models import Community, Job
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_discord_outage import fail_route
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import FakeUser

MODAL = 9
OPTIONS = {"title": "Apéro des rédacteurs", "when": "2026-12-04 19:00", "where": "Le Comptoir, 3 rue X",
           "city": "Lyon", "capacity": 2, "description": "On parle SEO."}
DEC_4_19H_PARIS = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
async def h(discord_harness: DiscordHarness) -> DiscordHarness:
    """The harness with afterworks' start hook run (its job kinds), as bot.runner does."""
    await FEATURE.on_start(discord_harness.services)
    return discord_harness


async def community_id(h: DiscordHarness) -> int:
    async with h.services.db.transaction() as session:
        found = await session.scalar(select(Community.id).where(Community.external_id == str(h.guild.id)))
    assert found is not None
    return found


async def use_channel(h: DiscordHarness, name: str = "design") -> int:
    """Make `name` the afterworks channel; its id."""
    channel = h.guild.channel(name).id
    cid = await community_id(h)
    async with h.services.db.transaction() as session:
        (await get_settings(session, cid)).afterworks_channel_id = str(channel)
    return channel


async def afterworks(h: DiscordHarness) -> list[Afterwork]:
    async with h.services.db.transaction() as session:
        return list(await session.scalars(select(Afterwork).order_by(Afterwork.id)))


async def statuses(h: DiscordHarness, afterwork_id: int) -> dict[str, str]:
    async with h.services.db.transaction() as session:
        rows = await session.execute(
            select(Rsvp.member_id, Rsvp.status).where(Rsvp.afterwork_id == afterwork_id)
        )
        return {str(m): s for m, s in rows}


async def create(
    h: DiscordHarness, user: FakeUser, **options: Any
) -> tuple[FakeInteraction, FakeInteraction]:
    """/afterwork create, then "Post it": (the summary, the confirmation)."""
    summary = await h.fake.invoke_slash(h.guild, user, "afterwork create", {**OPTIONS, **options})
    assert summary.original is not None
    [post_it] = buttons(summary.original)
    assert post_it.startswith("afterworks:confirm:")  # names this summary's draft
    confirm = await h.fake.click(summary.original, post_it, user)
    return summary, confirm


def cards(h: DiscordHarness, channel: int) -> list[dict[str, Any]]:
    return [m for m in h.fake.channel_messages(channel) if m.get("embeds")]


def fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def click(h: DiscordHarness, message: dict[str, Any], custom_id: str, user: FakeUser) -> str:
    """Click a button; what the member is told (ephemeral)."""
    answer = await h.fake.click(message, custom_id, user)
    return answer.content


def dm_titles(h: DiscordHarness, user: FakeUser) -> list[str]:
    return [m["embeds"][0]["title"] for m in h.fake.dm_messages(user) if m.get("embeds")]


async def test_create_from_the_form_to_the_card(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    summary, confirm = await create(h, h.member, when="jeudi 19h")

    assert summary.ephemeral
    assert "jeudi 3 décembre 2026" in summary.content and "19:00" in summary.content
    assert "Paris" in summary.content
    assert summary.original["allowed_mentions"] == {"parse": []}
    assert h.t("fr", "afterworks.created.posted", channel=channel) in confirm.content
    [afterwork] = await afterworks(h)
    assert afterwork.starts_at == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    [card] = cards(h, channel)
    assert card["embeds"][0]["title"] == "🍻 Apéro des rédacteurs"
    start = int(afterwork.starts_at.timestamp())
    assert fields(card)["Quand"] == f"<t:{start}:F> (<t:{start}:R>)"
    assert card["allowed_mentions"] == {"parse": []}
    assert buttons(card)[:3] == [f"afterworks:rsvp:{afterwork.id}:{a}" for a in ("going", "maybe", "cant")]
    [event] = h.fake.scheduled_events.values()
    assert event["name"] == "Apéro des rédacteurs"
    assert event["scheduled_start_time"].startswith("2026-12-03T18:00:00")
    assert afterwork.event_id == event["id"]


async def test_answers_waitlist_promotion_reminder_edit_cancel_and_calendar(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex, bea, chris = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea", "Chris"))
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    assert afterwork.starts_at == DEC_4_19H_PARIS
    aid = afterwork.id
    card = cards(h, channel)[0]

    going = h.t("fr", "afterworks.answered.going")
    assert await click(h, card, f"afterworks:rsvp:{aid}:going", alex) == going
    assert await click(h, card, f"afterworks:rsvp:{aid}:going", bea) == going
    assert await click(h, card, f"afterworks:rsvp:{aid}:going", chris) == h.t(
        "fr", "afterworks.answered.waitlist", position=1
    )
    assert await click(h, card, f"afterworks:rsvp:{aid}:going", chris) == h.t(
        "fr", "afterworks.answered.unchanged"
    )
    assert await click(h, card, f"afterworks:rsvp:{aid}:maybe", h.moderator) == h.t(
        "fr", "afterworks.answered.maybe"
    )
    card = cards(h, channel)[0]
    shown = fields(card)
    assert shown[h.t("fr", "afterworks.card.going_of", going=2, capacity=2)] == "Alex, Bea"
    assert h.t("fr", "afterworks.card.waitlist", count=1) in shown[h.t("fr", "afterworks.fields.answers")]
    assert h.t("fr", "afterworks.card.maybe", count=1) in shown[h.t("fr", "afterworks.fields.answers")]

    # Bea cannot come any more: Chris, first on the waitlist, gets the seat and a DM, once.
    assert await click(h, card, f"afterworks:rsvp:{aid}:cant", bea) == h.t("fr", "afterworks.answered.cant")
    assert dm_titles(h, chris) == [h.t("fr", "afterworks.dm.promoted_title", title=OPTIONS["title"])]
    assert dm_titles(h, bea) == []
    assert fields(cards(h, channel)[0])[h.t("fr", "afterworks.card.going_of", going=2, capacity=2)] == (
        "Alex, Chris"
    )

    # The first reminder (24 h before) goes out once, whoever runs the due jobs and however often.
    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=24))
    await h.services.scheduler.run_due()
    await h.services.scheduler.run_due()
    reminder = h.t("fr", "afterworks.dm.reminder_title", title=OPTIONS["title"])
    assert dm_titles(h, alex).count(reminder) == 1
    assert dm_titles(h, chris).count(reminder) == 1
    assert reminder not in dm_titles(h, bea) + dm_titles(h, h.moderator)
    coming = h.t("fr", "afterworks.dm.channel_reminder_title", title=OPTIONS["title"])
    assert [m["embeds"][0]["title"] for m in cards(h, channel)].count(coming) == 1

    # The organizer moves it a day later: the card, the Discord event and the reminders follow.
    opened = await h.fake.click(card, f"afterworks:edit:{aid}", h.member)
    assert opened.response_type == MODAL
    prefilled = {
        c["components"][0]["custom_id"]: c["components"][0].get("value") for c in opened.data["components"]
    }
    assert prefilled["when"] == "2026-12-04 19:00"
    edited = await h.fake.submit_modal(
        h.guild, h.member, f"afterworks:edit_form:{aid}", {**prefilled, "when": "2026-12-05 19:00"},
        message=card,
    )
    assert edited.content == h.t("fr", "afterworks.edited.done")
    moved = DEC_4_19H_PARIS + timedelta(days=1)
    [afterwork] = await afterworks(h)
    assert afterwork.starts_at == moved
    start = int(moved.timestamp())
    assert fields(cards(h, channel)[0])["Quand"] == f"<t:{start}:F> (<t:{start}:R>)"
    [event] = h.fake.scheduled_events.values()
    assert event["scheduled_start_time"].startswith("2026-12-05T18:00:00")
    changed = h.t("fr", "afterworks.dm.changed_title", title=OPTIONS["title"])
    assert dm_titles(h, alex).count(changed) == 1
    assert dm_titles(h, chris).count(changed) == 1
    async with h.services.db.transaction() as session:
        due = sorted(await session.scalars(
            select(Job.due_at).where(Job.kind == "afterworks.remind", Job.state == "pending")
        ))
    assert due == [moved - timedelta(hours=24), moved - timedelta(hours=1)]

    # Cancelled: the card says so and keeps only "Add to calendar", the event is cancelled, no reminder.
    # Discord answers Chris's DM with a 503: the notice is kept in the outbox and sent once it is back.
    h.fake.failing_dms.add(chris.id)
    cancelled = await h.fake.click(card, f"afterworks:cancel:{aid}", h.member)
    assert cancelled.content == h.t("fr", "afterworks.cancelled.done")
    card = cards(h, channel)[0]
    assert card["embeds"][0]["title"] == h.t("fr", "afterworks.card.cancelled_title", title=OPTIONS["title"])
    assert buttons(card) == [f"afterworks:ics:{aid}"]
    assert event["status"] == 4  # CANCELED
    gone = h.t("fr", "afterworks.dm.cancelled_title", title=OPTIONS["title"])
    assert dm_titles(h, alex).count(gone) == 1
    assert dm_titles(h, chris).count(gone) == 0
    h.fake.failing_dms.clear()
    for _ in range(3):
        h.services.clock.advance(timedelta(minutes=1))
        await h.services.scheduler.run_due()
    assert dm_titles(h, chris).count(gone) == 1
    before = {u.name: len(h.fake.dm_messages(u)) for u in (alex, chris)}
    for hours in (24, 1):
        h.services.clock.set(moved - timedelta(hours=hours))
        await h.services.scheduler.run_due()
    assert {u.name: len(h.fake.dm_messages(u)) for u in (alex, chris)} == before
    assert [m["embeds"][0]["title"] for m in cards(h, channel)].count(coming) == 1
    assert await click(h, card, f"afterworks:rsvp:{aid}:going", bea) == h.t(
        "fr", "afterworks.errors.cancelled"
    )

    # The calendar file of the cancelled afterwork parses back, cancelled.
    ics = await h.fake.click(card, f"afterworks:ics:{aid}", alex)
    [vevent] = Calendar.from_ical(calendar_bytes(h, ics)).walk("VEVENT")
    assert str(vevent["uid"]) == f"afterwork-{afterwork.community_id}-{aid}@collectif"
    assert str(vevent["status"]) == "CANCELLED"
    assert vevent.decoded("dtstart") == moved
    assert vevent.decoded("dtstart").tzinfo.key == "Europe/Paris"
    assert str(vevent["summary"]) == OPTIONS["title"]


def calendar_bytes(h: DiscordHarness, answer: FakeInteraction) -> bytes:
    """The .ics file the bot attached to its answer to `answer`."""
    [request] = [r for r in h.fake.requests if r.file_contents and str(answer.id) in r.path]
    [content] = request.file_contents.values()
    return content


async def test_bad_inputs_are_refused_with_what_was_understood_and_save_nothing(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    cases = {
        "when": ({"when": "2026-11-20 19:00"}, h.t(
            "fr", "afterworks.problems.when_past",
            date="vendredi 20 novembre 2026", time="19:00", zone="Paris",
        )),
        "unreadable": ({"when": "quand tu veux"}, h.t(
            "fr", "afterworks.problems.when_unreadable", text="quand tu veux"
        )),
        "link": ({"where": "javascript:alert(1)"}, h.t("fr", "afterworks.problems.link_scheme")),
        "ftp": ({"where": "ftp://files.example/plan"}, h.t("fr", "afterworks.problems.link_scheme")),
        "zero": ({"capacity": 0}, h.t("fr", "afterworks.problems.capacity", max=1000)),
        "too many": ({"capacity": 1001}, h.t("fr", "afterworks.problems.capacity", max=1000)),
    }
    for name, (options, problem) in cases.items():
        answer = await h.fake.invoke_slash(h.guild, h.member, "afterwork create", {**OPTIONS, **options})
        assert answer.ephemeral, name
        assert answer.content.startswith(h.t("fr", "afterworks.problems.heading")), name
        assert problem in answer.content, name
        assert "afterworks:confirm" not in str(answer.data.get("components")), name

    assert await afterworks(h) == []
    assert cards(h, channel) == []
    assert h.fake.scheduled_events == {}


async def test_only_the_organizer_or_a_moderator_edits_or_cancels(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    other = h.fake.add_user("Alex", guild=h.guild)
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    card = cards(h, channel)[0]
    refused = h.t("fr", "afterworks.errors.not_organizer")

    assert await click(h, card, f"afterworks:edit:{afterwork.id}", other) == refused
    assert await click(h, card, f"afterworks:cancel:{afterwork.id}", other) == refused
    forged = await h.fake.submit_modal(
        h.guild, other, f"afterworks:edit_form:{afterwork.id}", {"title": "Piraté", "when": "demain 18h",
                                                                 "where": "Ailleurs"}, message=card,
    )
    assert forged.content == refused
    [unchanged] = await afterworks(h)
    assert (unchanged.title, unchanged.status, unchanged.starts_at) == (
        OPTIONS["title"], "scheduled", DEC_4_19H_PARIS
    )

    # A moderator may: the edit is saved, then the cancellation.
    opened = await h.fake.click(card, f"afterworks:edit:{afterwork.id}", h.moderator)
    assert opened.response_type == MODAL
    edited = await h.fake.submit_modal(
        h.guild, h.moderator, f"afterworks:edit_form:{afterwork.id}",
        {"title": "Apéro (nouvelle adresse)", "when": "2026-12-04 19:00", "where": "Le Bistrot",
         "capacity": "2"}, message=card,
    )
    assert edited.content == h.t("fr", "afterworks.edited.done")
    assert await click(h, card, f"afterworks:cancel:{afterwork.id}", h.moderator) == h.t(
        "fr", "afterworks.cancelled.done"
    )
    [done] = await afterworks(h)
    assert (done.title, done.place, done.status) == ("Apéro (nouvelle adresse)", "Le Bistrot", "cancelled")


async def test_lowering_the_capacity_below_those_going_is_refused(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    await create(h, h.member, capacity=5)
    [afterwork] = await afterworks(h)
    card = cards(h, channel)[0]
    for user in (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea", "Chris")):
        await click(h, card, f"afterworks:rsvp:{afterwork.id}:going", user)
    answer = await h.fake.submit_modal(
        h.guild, h.member, f"afterworks:edit_form:{afterwork.id}",
        {"title": OPTIONS["title"], "when": "2026-12-04 19:00", "where": OPTIONS["where"], "capacity": "2"},
        message=card,
    )
    assert answer.content.startswith(h.t("fr", "afterworks.problems.heading"))
    assert h.t("fr", "afterworks.errors.capacity_below_going", going=3) in answer.content
    [unchanged] = await afterworks(h)
    assert (unchanged.capacity, unchanged.going_count) == (5, 3)


async def test_a_button_of_another_community_finds_nothing(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    other_guild = h.fake.new_guild("Autre collectif")
    await h.fake.join_guild(other_guild)
    stranger = h.fake.add_user("Sacha", guild=other_guild)
    await h.fake.invoke_slash(other_guild, stranger, "afterwork create", OPTIONS)
    summary = h.fake.interactions[max(h.fake.interactions)]
    assert summary.original is not None
    await h.fake.click(summary.original, buttons(summary.original)[0], stranger)
    [theirs] = await afterworks(h)
    await create(h, h.member)
    card = cards(h, channel)[0]
    not_found = h.t("fr", "afterworks.errors.not_found")

    for custom_id in (
        f"afterworks:rsvp:{theirs.id}:going",
        f"afterworks:ics:{theirs.id}",
        f"afterworks:edit:{theirs.id}",
        f"afterworks:cancel:{theirs.id}",
    ):
        assert await click(h, card, custom_id, h.member) == not_found, custom_id
    forged = await h.fake.submit_modal(
        h.guild, h.member, f"afterworks:edit_form:{theirs.id}",
        {"title": "Piraté", "when": "demain 18h", "where": "Ailleurs"}, message=card,
    )
    assert forged.content == not_found
    [still, _mine] = await afterworks(h)
    assert (still.title, still.status, still.going_count) == (OPTIONS["title"], "scheduled", 0)
    assert await statuses(h, theirs.id) == {}


async def test_text_typed_by_members_pings_nobody(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    loud = "@everyone <@&1> @here"
    await create(h, h.member, title=f"Apéro {loud}", description=f"Venez {loud}", city="@here")
    [afterwork] = await afterworks(h)
    card = cards(h, channel)[0]
    await click(h, card, f"afterworks:rsvp:{afterwork.id}:going", alex)
    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=1))
    await h.services.scheduler.run_due()

    sent = [*h.fake.channel_messages(channel), *h.fake.dm_messages(alex)]
    assert len(sent) >= 3  # the card, the channel reminder, the DM reminder
    for message in sent:
        assert message["allowed_mentions"] == {"parse": []}, message
    for request in h.fake.requests_to("PATCH", r"/channels/\d+/messages/\d+"):
        assert request.body["allowed_mentions"] == {"parse": []}


async def test_reminders_follow_the_community_offsets_and_survive_a_restart(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    cid = await community_id(h)
    async with h.services.db.transaction() as session:
        (await get_settings(session, cid)).reminder_offsets_minutes = [180]
    alex = h.fake.add_user("Alex", guild=h.guild)
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    await click(h, cards(h, channel)[0], f"afterworks:rsvp:{afterwork.id}:going", alex)
    reminder = h.t("fr", "afterworks.dm.reminder_title", title=OPTIONS["title"])

    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=3, minutes=1))
    await h.services.scheduler.run_due()
    assert reminder not in dm_titles(h, alex)
    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=3))
    await h.services.scheduler.run_due()
    assert dm_titles(h, alex).count(reminder) == 1

    await h.restart()
    await FEATURE.on_start(h.services)
    h.services.clock.set(DEC_4_19H_PARIS - timedelta(minutes=30))
    await h.services.scheduler.run_due()
    assert dm_titles(h, alex).count(reminder) == 1  # no 24 h / 1 h reminders: this community said 3 h


async def test_answers_close_at_the_cutoff_shown_on_the_card(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex, bea = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea"))
    summary, _ = await create(h, h.member, cutoff=1440)
    assert "Réponses jusqu’au : jeudi 3 décembre 2026, 19:00" in summary.content
    [afterwork] = await afterworks(h)
    assert afterwork.rsvp_cutoff_minutes == 1440
    card = cards(h, channel)[0]
    closes = int((DEC_4_19H_PARIS - timedelta(hours=24)).timestamp())
    assert fields(card)[h.t("fr", "afterworks.fields.cutoff")] == f"<t:{closes}:F> (<t:{closes}:R>)"
    assert await click(h, card, f"afterworks:rsvp:{afterwork.id}:going", alex) == h.t(
        "fr", "afterworks.answered.going"
    )
    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=24))
    await h.services.scheduler.run_due()  # the cutoff's job edits the card: answers closed, no buttons
    shown = cards(h, channel)[0]
    assert fields(shown)[h.t("fr", "afterworks.fields.closed")] == f"<t:{closes}:F> (<t:{closes}:R>)"
    assert not [b for b in buttons(shown) if b.startswith("afterworks:rsvp:")]
    assert f"afterworks:ics:{afterwork.id}" in buttons(shown)
    closed = h.t("fr", "afterworks.errors.closed", date="jeudi 3 décembre 2026", time="19:00", zone="Paris")
    for user, choice in ((alex, "cant"), (bea, "going"), (bea, "maybe")):
        assert await click(h, card, f"afterworks:rsvp:{afterwork.id}:{choice}", user) == closed
    assert list((await statuses(h, afterwork.id)).values()) == ["going"]  # Alex's only: nothing saved
    [still] = await afterworks(h)
    assert still.going_count == 1


async def test_a_weekly_series_posts_the_next_date_skips_one_and_ends(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    summary, _ = await create(h, h.member, recurrence="weekly", until="2027-01-31")
    assert "Répétition : chaque semaine, le vendredi, jusqu’au dimanche 31 janvier 2027" in summary.content
    [first] = await afterworks(h)
    card = cards(h, channel)[0]
    assert fields(card)[h.t("fr", "afterworks.fields.recurrence")].startswith("chaque semaine, le vendredi")
    assert buttons(card)[-2:] == [f"afterworks:cancel:{first.id}", f"afterworks:end:{first.id}"]
    await click(h, card, f"afterworks:rsvp:{first.id}:going", alex)

    h.services.clock.set(DEC_4_19H_PARIS + timedelta(hours=2))  # the first one ends
    await h.services.scheduler.run_due()
    first, second = await afterworks(h)
    assert second.starts_at == DEC_4_19H_PARIS + timedelta(days=7)
    new_card = cards(h, channel)[1]
    assert f"afterworks:rsvp:{second.id}:going" in buttons(new_card)
    start = int(second.starts_at.timestamp())
    assert fields(new_card)["Quand"] == f"<t:{start}:F> (<t:{start}:R>)"
    assert len(h.fake.scheduled_events) == 2
    assert await statuses(h, second.id) == {}  # its own answers

    assert await click(h, new_card, f"afterworks:cancel:{second.id}", alex) == h.t(
        "fr", "afterworks.errors.not_organizer"
    )
    assert await click(h, new_card, f"afterworks:end:{second.id}", alex) == h.t(
        "fr", "afterworks.errors.not_organizer"
    )
    assert await click(h, new_card, f"afterworks:cancel:{second.id}", h.member) == h.t(
        "fr", "afterworks.cancelled.occurrence"
    )
    h.services.clock.set(second.starts_at + timedelta(hours=2))
    await h.services.scheduler.run_due()
    third = (await afterworks(h))[2]
    assert (third.occurrence, third.status) == (2, "scheduled")
    third_card = cards(h, channel)[2]
    ended = await click(h, third_card, f"afterworks:end:{third.id}", h.member)
    assert ended == h.t("fr", "afterworks.ended.done")
    assert f"afterworks:end:{third.id}" not in buttons(cards(h, channel)[2])
    h.services.clock.set(third.starts_at + timedelta(days=30))
    await h.services.scheduler.run_due()
    assert len(await afterworks(h)) == 3
    assert len(cards(h, channel)) == 3


async def test_a_bad_end_date_is_refused_and_saves_nothing(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    answer = await h.fake.invoke_slash(
        h.guild, h.member, "afterwork create", {**OPTIONS, "until": "2027-01-31"}
    )
    assert h.t("fr", "afterworks.problems.until_without_recurrence") in answer.content
    answer = await h.fake.invoke_slash(
        h.guild, h.member, "afterwork create", {**OPTIONS, "recurrence": "weekly", "until": "2026-12-01"}
    )
    assert h.t("fr", "afterworks.problems.until_before", date="mardi 1 décembre 2026") in answer.content
    assert await afterworks(h) == []
    assert cards(h, channel) == []


async def test_a_date_poll_ticked_by_members_becomes_the_afterwork(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex, bea = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea"))
    options = {"title": "Apéro de Noël", "slot1": "jeudi 19h", "slot2": "2026-12-04 19:00",
               "slot3": "dans 3 jours à 11h", "where": "Le Comptoir", "city": "Lyon", "capacity": 8}
    answer = await h.fake.invoke_slash(h.guild, h.member, "afterwork poll", options)
    assert answer.ephemeral
    assert "• n°1 : jeudi 3 décembre 2026, 19:00 (heure de Paris)" in answer.content
    assert "• n°3 : dimanche 29 novembre 2026, 11:00 (heure de Paris)" in answer.content
    assert h.t("fr", "afterworks.poll.posted", channel=channel) in answer.content
    [poll] = cards(h, channel)
    assert poll["embeds"][0]["title"] == "🗳️ Sondage : Apéro de Noël"
    assert poll["allowed_mentions"] == {"parse": []}
    votes = [b for b in buttons(poll) if b.startswith("afterworks:vote:")]
    picks = [b for b in buttons(poll) if b.startswith("afterworks:pick:")]
    assert len(votes) == len(picks) == 3
    start = int(datetime(2026, 12, 3, 18, 0, tzinfo=UTC).timestamp())
    assert fields(poll)["Date n°1"].startswith(f"<t:{start}:F>")

    assert await click(h, poll, votes[1], alex) == h.t("fr", "afterworks.poll.ticked", n=2)
    assert await click(h, poll, votes[1], bea) == h.t("fr", "afterworks.poll.ticked", n=2)
    assert await click(h, poll, votes[0], bea) == h.t("fr", "afterworks.poll.ticked", n=1)
    assert await click(h, poll, votes[0], bea) == h.t("fr", "afterworks.poll.unticked", n=1)
    assert fields(cards(h, channel)[0])["Date n°2"].endswith("2 dispos : Alex, Bea")

    assert await click(h, poll, picks[1], alex) == h.t("fr", "afterworks.errors.not_organizer")
    assert await click(h, poll, picks[1], h.member) == h.t("fr", "afterworks.poll.picked", n=2)
    [afterwork] = await afterworks(h)
    assert (afterwork.starts_at, afterwork.capacity, afterwork.title) == (DEC_4_19H_PARIS, 8, "Apéro de Noël")
    poll_card, card = cards(h, channel)
    assert buttons(poll_card) == []
    assert "Date n°2 ✅" in fields(poll_card)
    assert f"afterworks:rsvp:{afterwork.id}:going" in buttons(card)
    [event] = h.fake.scheduled_events.values()
    assert event["name"] == "Apéro de Noël"
    decided = h.t("fr", "afterworks.dm.poll_decided_title", title="Apéro de Noël")
    assert dm_titles(h, alex) == [decided] and dm_titles(h, bea) == [decided]
    assert await click(h, poll, picks[0], h.member) == h.t("fr", "afterworks.errors.poll_closed")
    assert await click(h, poll, votes[0], alex) == h.t("fr", "afterworks.errors.poll_closed")
    assert len(await afterworks(h)) == 1


async def test_a_bad_date_poll_is_refused_and_saves_nothing(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    options = {"title": "Apéro", "slot1": "hier 19h", "slot2": "2026-12-04 19:00",
               "slot3": "2026-12-04 19:00", "where": "ftp://x"}
    answer = await h.fake.invoke_slash(h.guild, h.member, "afterwork poll", options)
    assert answer.content.startswith(h.t("fr", "afterworks.problems.heading"))
    assert h.t("fr", "afterworks.problems.link_scheme") in answer.content
    assert h.t("fr", "afterworks.problems.slot_twice", date="vendredi 4 décembre 2026", time="19:00",
               zone="Paris") in answer.content
    assert "past" not in answer.content and h.t("fr", "afterworks.fields.slot1") in answer.content
    assert cards(h, channel) == []


async def test_post_it_under_an_older_summary_posts_that_summary(h: DiscordHarness) -> None:
    """Two /afterwork create, then "Post it" under the first summary: the first afterwork is posted,
    and the second summary still posts the second (before: one draft per member, the newer posted)."""
    await use_channel(h)
    first = await h.fake.invoke_slash(h.guild, h.member, "afterwork create", OPTIONS)
    second = await h.fake.invoke_slash(h.guild, h.member, "afterwork create",
                                       {**OPTIONS, "title": "Conférence UX"})
    await (await h.fake.click(first.original, buttons(first.original)[0], h.member)).wait_followups(1)
    assert [a.title for a in await afterworks(h)] == [OPTIONS["title"]]
    await (await h.fake.click(second.original, buttons(second.original)[0], h.member)).wait_followups(1)
    assert sorted(a.title for a in await afterworks(h)) == sorted([OPTIONS["title"], "Conférence UX"])


# -- Discord failing for a moment (a 503): the card, the event and the poll follow once it is back -----


async def settle(h: DiscordHarness) -> None:
    """Lets the effects of a click answered already finish."""
    for _ in range(20):
        await asyncio.sleep(0.05)


async def run_jobs(h: DiscordHarness, rounds: int = 4) -> None:
    """Ten minutes at a time, the jobs due run (the retries come RETRY_AFTER later, then back off)."""
    for _ in range(rounds):
        h.services.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await h.services.scheduler.run_due()
        await settle(h)


async def test_an_rsvp_card_edit_discord_failed_is_edited_later(h: DiscordHarness) -> None:
    """Alex is told "you are going": the card must show it once Discord is back, not at the next answer."""
    channel = await use_channel(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    original = list(h.fake._routes)
    fail_route(h, "PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")  # edits answer 503 for a moment
    assert await click(h, cards(h, channel)[0], f"afterworks:rsvp:{afterwork.id}:going", alex) == h.t(
        "fr", "afterworks.answered.going")
    await settle(h)
    h.fake._routes = original

    await run_jobs(h)

    going = h.t("fr", "afterworks.card.going_of", going=1, capacity=2)
    assert fields(cards(h, channel)[0]).get(going) == "Alex"


async def test_a_scheduled_event_discord_failed_to_create_is_created_later(h: DiscordHarness) -> None:
    """The card went out, the event did not (503): a job creates it, once, and the afterwork knows its id."""
    channel = await use_channel(h)
    original = list(h.fake._routes)
    tried = fail_route(h, "POST", "scheduled-events")
    await create(h, h.member)
    await settle(h)
    h.fake._routes = original
    assert tried and len(cards(h, channel)) == 1 and h.fake.scheduled_events == {}

    await run_jobs(h)

    [afterwork] = await afterworks(h)
    [event] = h.fake.scheduled_events.values()
    assert afterwork.event_id == event["id"] and event["name"] == OPTIONS["title"]


async def test_a_cancelled_afterworks_event_is_cancelled_once_discord_is_back(h: DiscordHarness) -> None:
    """Members who marked the event "interested" must not keep a cancelled afterwork in their Events list."""
    channel = await use_channel(h)
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    [event] = h.fake.scheduled_events.values()
    original = list(h.fake._routes)
    fail_route(h, "PATCH", "scheduled-events")
    assert await click(h, cards(h, channel)[0], f"afterworks:cancel:{afterwork.id}", h.member) == h.t(
        "fr", "afterworks.cancelled.done")
    await settle(h)
    h.fake._routes = original
    assert event["status"] != 4

    await run_jobs(h)

    assert event["status"] == 4


async def test_a_date_poll_card_discord_failed_to_post_is_posted_later(h: DiscordHarness) -> None:
    """A poll saved during a blip must get its card: nobody can tick a date without it."""
    channel = await use_channel(h)
    options = {"title": "Apéro de Noël", "slot1": "jeudi 19h", "slot2": "2026-12-04 19:00",
               "where": "Le Comptoir", "city": "Lyon"}
    original = list(h.fake._routes)
    fail_route(h, "POST", r"/channels/(?P<cid>\d+)/messages")
    await h.fake.invoke_slash(h.guild, h.member, "afterwork poll", options)
    h.fake._routes = original
    assert cards(h, channel) == []

    await run_jobs(h)

    [poll] = cards(h, channel)
    assert poll["embeds"][0]["title"] == "🗳️ Sondage : Apéro de Noël"
    assert len([b for b in buttons(poll) if b.startswith("afterworks:vote:")]) == 2


async def test_a_meeting_link_longer_than_the_events_location_reaches_the_event_whole(
    h: DiscordHarness,
) -> None:
    """Discord's event location holds 100 characters, the form takes a 500-character link: a cut link is
    dead. The location shows the link's host and the city; the whole link opens the description."""
    await use_channel(h)
    link = "https://us02web.zoom.us/j/81234567890?pwd=" + "Zm9vYmFyYmF6cXV4Y29yZ2VncmF1bHRn" * 3

    await create(h, h.member, where=link)

    [afterwork] = await afterworks(h)
    [event] = h.fake.scheduled_events.values()
    assert afterwork.link == link and len(link) > 100
    assert event["entity_metadata"]["location"] == "us02web.zoom.us · Lyon"
    assert event["description"] == f"{link} · Lyon\n\n{OPTIONS['description']}"


async def test_post_it_clicked_twice_at_once_posts_one_afterwork(h: DiscordHarness) -> None:
    """A double click on "Post it" (or a flaky client answering twice): one afterwork, one card, and the
    second click is told the form was sent (before: "this draft expired, run /afterwork create again")."""
    channel = await use_channel(h)
    summary = await h.fake.invoke_slash(h.guild, h.member, "afterwork create", OPTIONS)
    [post_it] = buttons(summary.original)
    first, second = await asyncio.gather(h.fake.click(summary.original, post_it, h.member),
                                         h.fake.click(summary.original, post_it, h.member))
    await settle(h)
    assert len(await afterworks(h)) == 1, (first.all_texts(), second.all_texts())
    assert len(cards(h, channel)) == 1
    told = sorted({text for text in answer.all_texts() if text}.pop() for answer in (first, second))
    assert told == sorted([h.t("fr", "afterworks.created.posted", channel=channel),
                           h.t("fr", "errors.already_submitted")])


async def test_post_it_clicked_again_after_it_posted_is_told_the_form_was_sent(h: DiscordHarness) -> None:
    """"Post it" clicked again once the first click answered (the summary keeps its button): the draft is
    gone with the first click, and the second was told "this draft expired, run /afterwork create again",
    inviting a second afterwork. It is told the form was sent; nothing more is created."""
    channel = await use_channel(h)
    summary = await h.fake.invoke_slash(h.guild, h.member, "afterwork create", OPTIONS)
    [post_it] = buttons(summary.original)
    first = await h.fake.click(summary.original, post_it, h.member)
    await settle(h)
    again = await h.fake.click(summary.original, post_it, h.member)
    await settle(h)
    assert {text for text in first.all_texts() if text} == {
        h.t("fr", "afterworks.created.posted", channel=channel)}
    assert {text for text in again.all_texts() if text} == {h.t("fr", "errors.already_submitted")}
    assert len(await afterworks(h)) == 1
    assert len(cards(h, channel)) == 1
