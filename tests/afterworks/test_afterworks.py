"""Afterworks use cases, frozen clock: create, answers, capacity and waitlist, reminders once, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.errors import InvalidInput, UserError
from bot.scheduler import JobRun
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._form import AfterworkForm, validate
from cogs.afterworks._publish import (
    NO_EVENTS,
    REMIND,
    answer_afterwork,
    calendar_of,
    cancel_afterwork,
    check_answer,
    create_afterwork,
    edit_afterwork,
    export_member,
    no_events_notice,
    register_jobs,
    set_reminder_dms,
)
from cogs.afterworks.models import Afterwork
from storage.models import Community, CommunitySettings, Job
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

# NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


def form(**changes: str) -> AfterworkForm:
    base = AfterworkForm(
        title="Apéro des rédacteurs",
        when="2026-12-04 19:00",
        where="Le Comptoir, 3 rue X",
        city="Lyon",
        capacity="2",
        description="On parle SEO.",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def create(services: Services, caller, **changes: str) -> int:
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).afterworks_channel_id = "C-AW"
    created = await run(services, caller, create_afterwork, form(**changes), origin_channel_id="C-HERE")
    return created.afterwork_id


async def event(services: Services, afterwork_id: int) -> Afterwork:
    async with services.db.transaction() as session:
        found = await session.get(Afterwork, afterwork_id)
        assert found is not None
        return found


async def test_moderators_hear_in_their_log_channel_that_discord_refused_scheduled_events(
    services: Services, notifier: RecordingNotifier
) -> None:
    caller = await make_caller(services)
    job = JobRun(1, NO_EVENTS, {}, services.clock.now(), caller.community_id, 1)
    await no_events_notice(services, job)  # no settings row yet: no log channel, and none written
    async with services.db.transaction(write=False) as session:
        assert await session.get(CommunitySettings, caller.community_id) is None
    assert notifier.posts == []

    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).modlog_channel_id = "C-MODLOG"
        community = await session.get(Community, caller.community_id)
        assert community is not None
    await no_events_notice(services, job)
    assert [(p.channel_id, p.card.title) for p in notifier.posts] == [
        ("C-MODLOG", services.t(community.locale, "afterworks.no_events.title"))
    ]


def test_natural_dates_in_french_and_english_read_in_paris_time() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    thursday = validate(form(when="jeudi 19h"), "Europe/Paris", now, "fr")
    assert thursday.starts_at == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # on a Thursday: next week
    assert validate(form(when="next friday 7pm"), "Europe/Paris", now, "en").starts_at == datetime(
        2026, 11, 27, 18, 0, tzinfo=UTC
    )
    assert validate(form(when="demain 18h30"), "Europe/Paris", now, "fr").starts_at == datetime(
        2026, 11, 27, 17, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("when", "locale", "expected"),
    [
        ("dans 3 jours à 11h", "fr", datetime(2026, 11, 29, 10, 0, tzinfo=UTC)),
        ("demain 11h", "fr", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
        ("in 3 days at 11am", "en", datetime(2026, 11, 29, 10, 0, tzinfo=UTC)),
        ("dans 3 jours à 12h", "fr", datetime(2026, 11, 29, 11, 0, tzinfo=UTC)),
    ],
)
def test_a_typed_hour_equal_to_the_current_hour_is_still_a_time(
    when: str, locale: str, expected: datetime
) -> None:
    """At 11:00 in Paris, "dans 3 jours à 11h" was read as a day without its hour, and refused."""
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 11:00 in Paris
    assert validate(form(when=when), "Europe/Paris", now, locale).starts_at == expected


@pytest.mark.parametrize(
    ("when", "key"),
    [
        ("2026-11-20 19:00", "afterworks.problems.when_past"),
        ("n'importe quoi", "afterworks.problems.when_unreadable"),
        ("2027-03-28 02:30", "afterworks.problems.when_missing"),  # spring forward: 02:00 -> 03:00
        ("2027-10-31 02:30", "afterworks.problems.when_ambiguous"),  # fall back: 02:30 happens twice
    ],
)
def test_bad_times_are_refused_with_what_was_understood(when: str, key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate(form(when=when), "Europe/Paris", datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "fr")
    assert error.value.problems["when"][0] == key


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidInput) as error:
        validate(
            form(title="", where="ftp://x", capacity="1001", duration="7", kind="party"),
            "Europe/Paris",
            datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
            "fr",
        )
    assert set(error.value.problems) == {"title", "where", "capacity", "duration", "kind"}
    with pytest.raises(InvalidInput) as error:
        validate(form(where="javascript:alert(1)"), "Europe/Paris", datetime(2026, 11, 26, tzinfo=UTC), "fr")
    assert error.value.problems["where"][0] == "afterworks.problems.link_scheme"


async def test_create_rsvp_waitlist_promotion_reminder_once_cancel(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    dan = await make_caller(services, "U4", name="Dan")
    aid = await create(services, alice)
    [card] = notifier.in_channel("C-AW")
    assert card.title == "🍻 Apéro des rédacteurs"
    assert notifier.events  # the Discord scheduled event
    [spec] = notifier.events.values()
    assert spec.start == datetime(2026, 12, 4, 18, 0, tzinfo=UTC)

    assert (await run(services, bob, answer_afterwork, aid, "going")).status == "going"
    assert (await run(services, carol, answer_afterwork, aid, "going")).status == "going"
    waiting = await run(services, dan, answer_afterwork, aid, "going")
    assert (waiting.status, waiting.position) == ("waitlist", 1)
    assert (await run(services, dan, answer_afterwork, aid, "going")).changed is False
    assert (await event(services, aid)).going_count == 2

    left = await run(services, carol, answer_afterwork, aid, "cant")
    assert [p.name for p in left.promoted] == ["Dan"]
    assert notifier.dms[-1].user_id == "U4"
    assert (await event(services, aid)).going_count == 2
    shown = {f.name: f.value for f in notifier.in_channel("C-AW")[0].fields}
    assert shown["Participant·es : 2 / 2"] == "Bob, Dan"

    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, edit_afterwork, aid, form(capacity="1"))
    assert refused.value.problems == {
        "capacity": ("afterworks.errors.capacity_below_going", {"going": 2, "count": 2})}

    await run(services, dan, set_reminder_dms, False)
    dms_before = len(notifier.dms)
    clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=UTC))  # 24 h before
    assert await services.scheduler.run_due() == 1
    reminders = notifier.dms[dms_before:]
    assert [d.user_id for d in reminders] == ["U2"]  # Dan turned DMs off
    async with services.db.transaction() as session:  # the member's export shows the reminder sent
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert [(r["afterwork_id"], r["minutes_before"]) for r in exported["reminders_sent"]] == [(aid, 1440)]
    assert "⏰" in notifier.in_channel("C-AW")[-1].title  # the channel's post at the first offset
    assert await services.scheduler.run_due() == 0  # once
    async with services.db.transaction() as session:  # a second process running the same row: nothing
        job = await session.scalar(select(Job).where(Job.kind == REMIND, Job.state == "done"))
        job.state = "pending"
    await services.scheduler.run_due()
    assert len(notifier.dms) == dms_before + 1

    await run(services, alice, cancel_afterwork, aid)
    assert notifier.in_channel("C-AW")[0].title.startswith("❌")
    assert notifier.cancelled_events
    clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    async with services.db.transaction() as session:
        pending = list(await session.scalars(select(Job).where(Job.kind == REMIND, Job.state == "pending")))
    assert pending == []
    ics = await run(services, bob, calendar_of, aid, write=False)
    parsed = Calendar.from_ical(ics.content)
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["UID"]).startswith(f"afterwork-{alice.community_id}-{aid}@")
    assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


async def test_editing_the_time_replans_reminders_and_tells_those_going(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    await run(services, alice, edit_afterwork, aid, form(when="2026-12-05 20:00"))
    assert notifier.dms[-1].card.title.startswith("✏️")
    [spec] = notifier.events.values()
    assert spec.start == datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=UTC))  # the old 24 h mark: nothing any more
    assert await services.scheduler.run_due() == 0
    clock.set(datetime(2026, 12, 5, 18, 30, tzinfo=UTC))  # late for 24 h and 1 h, before the start
    before = len(notifier.dms)
    assert await services.scheduler.run_due() == 2
    assert len(notifier.dms) == before + 1  # the 1 h one: the late 24 h one is not sent beside it
    clock.set(datetime(2026, 12, 5, 19, 30, tzinfo=UTC))
    assert await services.scheduler.run_due() == 0


async def test_other_communities_and_non_organizers_are_refused(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    stranger = await make_caller(services, "U9", guild="g2", name="Eve")
    aid = await create(services, alice)
    with pytest.raises(UserError) as refused:
        await run(services, bob, cancel_afterwork, aid)
    assert refused.value.key == "afterworks.errors.not_organizer"
    with pytest.raises(UserError) as missing:
        await run(services, stranger, answer_afterwork, aid, "going")
    assert missing.value.key == "afterworks.errors.not_found"


async def test_answers_close_when_the_event_starts(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    aid = await create(services, alice)
    clock.set(datetime(2026, 12, 4, 18, 0, tzinfo=UTC) + timedelta(minutes=1))
    with pytest.raises(UserError) as closed:
        await run(services, alice, answer_afterwork, aid, "going")
    assert closed.value.key == "afterworks.errors.started"


async def test_moving_the_time_away_and_back_plans_the_reminders_again(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    await run(services, alice, edit_afterwork, aid, form(when="2026-12-05 19:00"))
    await run(services, alice, edit_afterwork, aid, form(when="2026-12-04 19:00"))  # back as first typed
    async with services.db.transaction() as session:
        pending = select(Job.due_at).where(Job.kind == REMIND, Job.state == "pending")
        due = sorted(await session.scalars(pending))
    start = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert due == [start - timedelta(hours=24), start - timedelta(hours=1)]
    clock.set(start - timedelta(hours=24))
    before = len(notifier.dms)
    assert await services.scheduler.run_due() == 1
    assert [d.user_id for d in notifier.dms[before:]] == ["U2"]


async def test_after_downtime_across_both_offsets_a_member_gets_one_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Down from before the 24 h mark until 30 minutes before: the 1 h reminder, not both at once."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)  # Friday 4 December 19:00 Paris; reminders 24 h and 1 h before
    await run(services, bob, answer_afterwork, aid, "going")
    before = len(notifier.dms)
    clock.set(datetime(2026, 12, 4, 17, 30, tzinfo=UTC))
    assert await services.scheduler.run_due() == 2
    await services.scheduler.run_due()
    assert [d.user_id for d in notifier.dms[before:]] == ["U2"]
    assert len([p for p in notifier.in_channel("C-AW") if "⏰" in p.title]) == 1  # the channel's, once


async def test_a_reminder_missed_while_down_goes_late_when_no_closer_one_is_due(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    before = len(notifier.dms)
    clock.set(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))  # the 24 h mark missed; the 1 h one 5 hours away
    assert await services.scheduler.run_due() == 1
    assert [d.user_id for d in notifier.dms[before:]] == ["U2"]
    clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
    assert await services.scheduler.run_due() == 1
    assert [d.user_id for d in notifier.dms[before:]] == ["U2", "U2"]


async def test_an_afterwork_set_for_tonight_still_gets_its_channel_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Offsets 24 h and 1 h; « ce soir 19h » is 7 h away: only the 1 h reminder is planned, and the
    channel's post belonged to the skipped 24 h one: the channel never heard of it."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice, when="ce soir 19h")  # 19:00 Paris = 18:00 UTC
    await run(services, bob, answer_afterwork, aid, "going")
    clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))  # 1 h before
    before = len(notifier.dms)
    await services.scheduler.run_due()
    assert [d.user_id for d in notifier.dms[before:]] == ["U2"]
    assert len([c for c in notifier.in_channel("C-AW") if "⏰" in c.title]) == 1


async def test_an_afterwork_moved_closer_than_its_first_offset_still_gets_its_channel_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    aid = await create(services, alice)  # Friday 4 December 19:00 Paris: the 24 h post not sent yet
    clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    await run(services, alice, edit_afterwork, aid, form(when="2026-12-04 10:00"))  # 21 h away
    clock.set(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))  # 1 h before
    await services.scheduler.run_due()
    assert len([c for c in notifier.in_channel("C-AW") if "⏰" in c.title]) == 1


async def test_an_afterwork_moved_after_its_channel_reminder_is_not_announced_again_an_hour_before(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The 24 h post went out; the organizer then moves the afterwork an hour later. The 24 h mark of
    the new time has passed, and the 1 h reminder was made the channel's: a second "⏰" post for the
    same afterwork. Those going still get their 1 h DM."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)  # Friday 4 December 19:00 Paris = 18:00 UTC
    await run(services, bob, answer_afterwork, aid, "going")
    clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=UTC))  # 24 h before: the channel's post
    await services.scheduler.run_due()
    assert len([c for c in notifier.in_channel("C-AW") if "⏰" in c.title]) == 1
    clock.set(datetime(2026, 12, 3, 20, 0, tzinfo=UTC))
    await run(services, alice, edit_afterwork, aid, form(when="2026-12-04 20:00"))
    before = len(notifier.dms)
    clock.set(datetime(2026, 12, 4, 18, 0, tzinfo=UTC))  # 1 h before the new time
    await services.scheduler.run_due()
    assert len([c for c in notifier.in_channel("C-AW") if "⏰" in c.title]) == 1
    reminder = services.t("fr", "afterworks.dm.reminder_title", title="Apéro des rédacteurs")
    assert [(d.user_id, d.card.title) for d in notifier.dms[before:]] == [("U2", reminder)]


# -- RSVP cutoff ----------------------------------------------------------------------------------


async def test_answers_close_at_the_cutoff_with_when_in_words(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    aid = await create(services, alice, cutoff="1440", capacity="1")  # the day before, 2026-12-03 19:00
    closes = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    [card] = notifier.in_channel("C-AW")
    shown = {f.name: f.value for f in card.fields}
    stamp = int(closes.timestamp())
    assert shown["Réponses jusqu’au"] == f"\ue000{stamp}:full\ue001 (\ue000{stamp}:relative\ue001)"
    assert (await run(services, bob, answer_afterwork, aid, "going")).status == "going"
    assert (await run(services, carol, answer_afterwork, aid, "going")).status == "waitlist"

    clock.set(closes - timedelta(seconds=1))
    assert (await run(services, carol, answer_afterwork, aid, "maybe")).status == "maybe"
    await run(services, carol, answer_afterwork, aid, "going")
    clock.set(closes)
    for who, choice in ((bob, "cant"), (carol, "going"), (alice, "maybe")):
        with pytest.raises(UserError) as closed:
            await run(services, who, answer_afterwork, aid, choice)
        assert closed.value.key == "afterworks.errors.closed"
        assert closed.value.params == {"date": "jeudi 3 décembre 2026", "time": "19:00", "zone": "Paris"}
    with pytest.raises(UserError):
        await run(services, bob, check_answer, aid, write=False)
    assert (await event(services, aid)).going_count == 1

    # After the cutoff the organizer may still add seats: the waitlist is promoted and told.
    promoted = len(notifier.dms)
    await run(services, alice, edit_afterwork, aid, form(cutoff="1440", capacity="2"))
    assert (await event(services, aid)).going_count == 2
    assert [d.user_id for d in notifier.dms[promoted:]] == ["U3"]


async def test_after_answers_closed_the_organizer_can_still_move_the_time_from_the_discord_edit_form(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Answers close 24 h before; the day of the event the organizer moves it an hour later from
    Discord's edit form, which has no cutoff field. The cutoff moves with the time and is still past:
    the save was refused on that absent field, and the afterwork could not be moved at all."""
    from cogs.afterworks._cards import form_of
    from cogs.afterworks._publish import check_form

    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice, cutoff="1440")  # Friday 4 December 19:00, answers until Thursday
    clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))  # Friday morning: answers closed
    typed = form_of(await event(services, aid), "Europe/Paris")  # what on_edit_submit starts from
    typed.when = "2026-12-04 20:00"  # the only field changed
    await run(services, alice, check_form, typed, aid, write=False)
    await run(services, alice, edit_afterwork, aid, typed)
    moved = await event(services, aid)
    assert (moved.starts_at, moved.rsvp_cutoff_minutes) == (datetime(2026, 12, 4, 19, 0, tzinfo=UTC), 1440)
    with pytest.raises(UserError) as closed:  # answers stay closed
        await run(services, bob, answer_afterwork, aid, "going")
    assert closed.value.key == "afterworks.errors.closed"
    typed.cutoff = "720"  # a newly chosen cutoff already past (07:00 UTC) is still refused
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, check_form, typed, aid, write=False)
    assert refused.value.problems["cutoff"][0] == "afterworks.problems.cutoff_past"


async def test_moving_an_afterwork_earlier_does_not_close_its_open_answers_at_once(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Friday 4 December 19:00, answers until the day before: open now (Thursday 26 November). Moved
    to tomorrow 10:00 with the same cutoff, answers would have closed today at 10:00 (Paris): the
    move was saved and the open answers closed at once, nobody told. It is refused, on Discord's
    edit form (no cutoff field) as a problem of the time; a later time is saved."""
    from cogs.afterworks._cards import form_of, problems_text
    from cogs.afterworks._publish import check_form

    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice, cutoff="1440")
    typed = form_of(await event(services, aid), "Europe/Paris")  # what on_edit_submit starts from
    typed.when = "2026-11-27 10:00"
    past = {"date": "jeudi 26 novembre 2026", "time": "10:00", "zone": "Paris"}
    for use_case, args in ((check_form, (typed, aid)), (edit_afterwork, (aid, typed))):
        with pytest.raises(InvalidInput) as refused:
            await run(services, alice, use_case, *args, write=use_case is edit_afterwork)
        assert refused.value.problems == {"cutoff": ("afterworks.problems.cutoff_past", past)}
    assert (await event(services, aid)).starts_at == datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # unchanged

    from cogs.afterworks._discord import edit_problems

    on_discord = edit_problems(refused.value.problems)
    assert on_discord == {"when": ("afterworks.problems.when_closes_answers", past)}
    shown = problems_text(services.catalog, "fr", on_discord)
    assert services.t("fr", "afterworks.fields.when") in shown
    assert services.t("fr", "afterworks.fields.cutoff") not in shown
    assert "Choisissez une heure plus tardive" in shown

    typed.when = "2026-11-27 12:00"  # answers until today 12:00: still open
    await run(services, alice, edit_afterwork, aid, typed)
    assert (await run(services, bob, answer_afterwork, aid, "going")).status == "going"


def test_the_discord_edit_form_keeps_other_problems_where_they_are() -> None:
    from cogs.afterworks._discord import edit_problems

    problems = {"title": ("afterworks.problems.title_missing", {}),
                "when": ("afterworks.problems.when_unreadable", {"text": "?"})}
    assert edit_problems(problems) == problems


def test_a_cutoff_already_passed_or_not_in_the_list_is_refused() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as error:
        validate(form(when="demain 11h", cutoff="10080"), "Europe/Paris", now, "fr")
    assert error.value.problems == {
        "cutoff": ("afterworks.problems.cutoff_past", {"date": "vendredi 20 novembre 2026", "time": "11:00",
                                                       "zone": "Paris"})
    }
    with pytest.raises(InvalidInput) as error:
        validate(form(cutoff="17"), "Europe/Paris", now, "fr")
    assert error.value.problems == {"cutoff": ("afterworks.problems.cutoff", {})}
    assert validate(form(cutoff=""), "Europe/Paris", now, "fr").cutoff_minutes is None
    assert validate(form(cutoff="60"), "Europe/Paris", now, "fr").closes_at == datetime(
        2026, 12, 4, 17, 0, tzinfo=UTC
    )


async def test_no_reminder_goes_out_once_the_afterwork_is_cancelled_while_they_are_sent(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reminder job read "scheduled" and who is going, then the organizer cancels (Slack paces DMs
    at one a second: tens of seconds for many guests): those not yet reminded are not reminded."""
    import cogs.afterworks._publish as publish

    alice = await make_caller(services, "U1", name="Alice")
    guests = [await make_caller(services, f"U{n}", name=f"G{n}") for n in range(2, 6)]
    aid = await create(services, alice, capacity="10")
    for guest in guests:
        await run(services, guest, answer_afterwork, aid, "going")
    original = publish._claim
    sent: list[int] = []

    async def claim(*args, **kwargs):
        if len(sent) == 1:  # one reminder went out; the organizer cancels before the second
            await run(services, alice, cancel_afterwork, aid)
        sent.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(publish, "_claim", claim)
    clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=UTC))  # 24 h before: the reminder job is due
    before = len(notifier.dms)
    await services.scheduler.run_due()

    titles = [d.card.title for d in notifier.dms[before:]]
    cancelled = next(i for i, title in enumerate(titles) if title.startswith("❌"))
    assert titles[:cancelled] == [titles[0]] and "⏰" in titles[0]  # the one sent before
    assert not [title for title in titles[cancelled:] if "⏰" in title], titles
    assert not [c for c in notifier.in_channel("C-AW") if "⏰" in c.title]  # nor the channel's post


async def test_an_afterwork_with_no_channel_to_go_to_is_refused_and_nothing_saved(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Asked from Slack's Messages tab (a DM nobody else sees: no origin to fall back to) with no
    afterworks channel set: a card posted nowhere would leave nobody able to answer."""
    from cogs.afterworks._polls import PollForm, create_poll

    alice = await make_caller(services, "U1", name="Alice")
    with pytest.raises(UserError) as refused:
        await run(services, alice, create_afterwork, form(), origin_channel_id=None)
    assert refused.value.key == "afterworks.errors.nowhere"
    with pytest.raises(UserError):
        await run(services, alice, create_poll, PollForm(title="Apéro", slot1="2026-12-04 19:00",
                                                         slot2="2026-12-05 19:00", where="Le Comptoir"),
                  origin_channel_id=None)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Afterwork)) == 0
    assert notifier.posts == []


def test_a_slack_dm_is_no_place_to_fall_back_to() -> None:
    from bot.slack_app.request import public_channel

    shown = [public_channel(c) for c in ("C123", "G123", "DU123", None, "")]
    assert shown == ["C123", "G123", None, None, None]


async def test_a_member_who_deleted_their_data_leaves_a_cancelled_afterworks_card(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The cancelled card stays in the channel with its Going list: a deleted member's name goes from
    it too (only afterworks still to come were redrawn)."""
    from cogs.afterworks import FEATURE

    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    await run(services, alice, cancel_afterwork, aid)
    assert "Bob" in " ".join(f.value for f in notifier.in_channel("C-AW")[0].fields)
    assert FEATURE.privacy is not None
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, bob.community_id, bob.member_id)
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # privacy jobs are queued at the real time
    await services.scheduler.run_due()
    [card] = notifier.in_channel("C-AW")
    assert "Bob" not in " ".join(f"{f.name} {f.value}" for f in card.fields)


async def test_an_organizer_deleting_their_data_does_not_give_the_waitlist_a_seat_at_a_cancelled_event(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Alice organizes a full afterwork (1 seat) and goes herself; Bob waits. Her seat was freed and Bob
    promoted before the afterwork was cancelled: Bob was told "a seat freed up for you" about it."""
    from cogs.afterworks import FEATURE
    from cogs.afterworks.models import Rsvp

    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice, capacity="1")
    await run(services, alice, answer_afterwork, aid, "going")
    assert (await run(services, bob, answer_afterwork, aid, "going")).status == "waitlist"
    before = len(notifier.dms)
    assert FEATURE.privacy is not None
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, alice.community_id, alice.member_id)
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # privacy jobs are queued at the real time
    await services.scheduler.run_due()
    promoted = services.t("fr", "afterworks.dm.promoted_title", title="Apéro des rédacteurs")
    assert promoted not in [d.card.title for d in notifier.dms[before:] if d.user_id == "U2"]
    cancelled = await event(services, aid)
    assert cancelled.status == "cancelled"
    async with services.db.transaction() as session:
        assert await session.scalar(select(Rsvp.status).where(Rsvp.member_id == bob.member_id)) == "waitlist"


async def test_an_organizers_deletion_leaves_no_text_of_theirs_in_the_afterworks_they_organized(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Alice organized one afterwork at home (address, phone) and another, past, online; she deletes her
    data. Both cards go and the coming one is cancelled, but their rows kept her description, place,
    link and city for nobody: only the title and the time stay, anonymous."""
    from cogs.afterworks import FEATURE

    clock.set(datetime.now(UTC))  # the deletion reads the wall clock: past and future are real ones
    alice = await make_caller(services, "U1", name="Alice")
    coming = await create(services, alice, when=f"{clock.now() + timedelta(days=7):%Y-%m-%d} 19:00",
                          where="12 rue des Lilas, Lyon", description="Sonnez au 3e : 06 12 34 56 78")
    past = await create(services, alice, when=f"{clock.now() + timedelta(days=2):%Y-%m-%d} 19:00",
                        where="https://meet.example/alice-perso", description="Mon code : 4321")
    async with services.db.transaction() as session:
        held = await session.get(Afterwork, past)
        assert held is not None
        held.starts_at = clock.now() - timedelta(days=2)
    assert FEATURE.privacy is not None
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, alice.community_id, alice.member_id)
    for aid, status in ((coming, "cancelled"), (past, "scheduled")):
        kept = await event(services, aid)
        assert (kept.status, kept.organizer_id, kept.title) == (status, None, "Apéro des rédacteurs")
        assert (kept.description, kept.place, kept.link, kept.city, kept.city_key) == ("", "", "", "", "")


async def test_afterworks_discord_refused_an_event_for_tell_the_moderators_once(
    services: Services, notifier: RecordingNotifier
) -> None:
    """No Create Events permission: each afterwork works without its scheduled event, and the
    moderators' log hears it once (a bot.modlog notice), however many afterworks are made."""
    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).modlog_channel_id = "C-MODLOG"

    async def refused(community_external_id, event):  # Discord: 403 Missing Permissions
        return None

    notifier.create_event = refused  # type: ignore[method-assign]
    await create(services, alice)
    await create(services, alice, title="Apéro bis")
    await services.scheduler.run_due()
    assert [c.title for c in notifier.in_channel("C-MODLOG")] == [
        services.t("fr", "afterworks.no_events.title")]
    assert len(notifier.in_channel("C-AW")) == 2


async def test_the_event_job_makes_the_event_match_the_afterwork_as_it_is_when_it_runs(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Discord failed (a 503) to create the event, then the afterwork was cancelled: the retry creates
    nothing, members never see a scheduled event for an afterwork that will not happen. Created once
    Discord is back, an event for an afterwork still on is created once."""
    from bot.posting import RETRY_AFTER

    alice = await make_caller(services, "U1", name="Alice")
    create_event = notifier.create_event

    async def outage(community_external_id, event):  # Discord: 503 Service Unavailable
        raise RuntimeError("503 Service Unavailable")

    notifier.create_event = outage  # type: ignore[method-assign]
    cancelled = await create(services, alice)
    kept = await create(services, alice, title="Apéro bis")
    await run(services, alice, cancel_afterwork, cancelled)
    notifier.create_event = create_event  # type: ignore[method-assign]

    for _ in range(3):
        clock.advance(RETRY_AFTER)
        await services.scheduler.run_due()

    [spec] = notifier.events.values()
    assert spec.name == "Apéro bis"
    assert ((await event(services, kept)).event_id, (await event(services, cancelled)).event_id) == (
        next(iter(notifier.events)), None)


async def test_cancel_clicked_twice_at_once_cancels_and_tells_those_going_once(services: Services) -> None:
    """A double click (or two devices): both clicks read the afterwork open; on PostgreSQL both
    cancelled it and everyone going got two "Annulé" DMs. The cancellation is claimed by one UPDATE."""
    import asyncio

    from cogs.afterworks._publish import cancel_afterwork, register_jobs

    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    before = len([d for d in recording.dms if d.user_id == "U2"])
    outcomes = await asyncio.gather(*(run(services, alice, cancel_afterwork, aid) for _ in range(2)),
                                    return_exceptions=True)
    await asyncio.sleep(0.3)
    told = [d for d in recording.dms if d.user_id == "U2"][before:]
    assert len(told) == 1, ([d.card.title for d in told], outcomes)
    assert sum(isinstance(o, UserError) for o in outcomes) == 1, outcomes


async def test_an_edit_submitted_twice_at_once_tells_those_going_once(services: Services) -> None:
    """A double submit of the same new time (or two devices): on PostgreSQL both saves read the old
    time and everyone going got two "changed" DMs. The event's turn is taken before comparing."""
    import asyncio

    from cogs.afterworks._publish import register_jobs

    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    aid = await create(services, alice)
    await run(services, bob, answer_afterwork, aid, "going")
    before = len([d for d in recording.dms if d.user_id == "U2"])
    outcomes = await asyncio.gather(
        *(run(services, alice, edit_afterwork, aid, form(when="2026-12-05 20:00")) for _ in range(2)),
        return_exceptions=True)
    await asyncio.sleep(0.3)
    told = [d for d in recording.dms if d.user_id == "U2"][before:]
    assert len(told) == 1, ([d.card.title for d in told], outcomes)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes


async def test_dms_turned_off_twice_at_once_is_no_error_and_stays_off(services: Services) -> None:
    """The member's first choice sent twice (a double submit, a Slack retry): on PostgreSQL both found
    no preference row, both inserted one, and the second answered with an error."""
    import asyncio

    from cogs.afterworks.models import Preference

    dan = await make_caller(services, "U4", name="Dan")
    outcomes = await asyncio.gather(*(run(services, dan, set_reminder_dms, False) for _ in range(2)),
                                    return_exceptions=True)
    assert outcomes == [False, False]
    await run(services, dan, set_reminder_dms, True)
    await run(services, dan, set_reminder_dms, False)
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Preference.dms))) == [False]


async def test_an_afterwork_form_submitted_twice_creates_one_afterwork_and_one_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    """A double click on Post it, a Slack retry: the same form (its key) twice, at once then again later;
    before, each created an afterwork and posted a card. Another form (another key) is another one."""
    import asyncio

    from bot.submissions import AlreadySubmitted

    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"

    def submit(key: str):  # type: ignore[no-untyped-def]
        return run(services, alice, create_afterwork, form(), origin_channel_id="C-HERE", submission=key)

    outcomes = await asyncio.gather(submit("V-FORM-1"), submit("V-FORM-1"), return_exceptions=True)
    again = await asyncio.gather(submit("V-FORM-1"), return_exceptions=True)
    async with services.db.transaction() as session:
        saved = list(await session.scalars(select(Afterwork.id)))
    assert len(saved) == 1, outcomes
    assert [type(o) for o in [*outcomes, *again]].count(AlreadySubmitted) == 2, outcomes
    assert [channel for _, channel, _ in notifier.posts] == ["C-AW"]

    other = await submit("V-FORM-2")  # a second afterwork on purpose
    assert other.afterwork_id not in saved
    assert [channel for _, channel, _ in notifier.posts] == ["C-AW", "C-AW"]
