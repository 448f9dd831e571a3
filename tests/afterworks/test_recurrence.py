"""Recurring afterworks: local wall time across daylight saving, the nth weekday, the next occurrence
posted once by the scheduler, skipping one date, ending the series, the .ics RRULE.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.errors import InvalidInput, UserError
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._form import AfterworkForm, validate
from cogs.afterworks._publish import (
    NEXT,
    answer_afterwork,
    calendar_of,
    cancel_afterwork,
    create_afterwork,
    end_series,
    register_jobs,
)
from cogs.afterworks._recurrence import LAST, nth_of, nth_weekday, occurrence_wall, to_utc
from cogs.afterworks.models import Afterwork, Rsvp, Series
from storage.models import Job
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

PARIS = "Europe/Paris"


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


def form(**changes: str) -> AfterworkForm:
    base = AfterworkForm(
        title="Coworking du dimanche",
        when="2027-03-21 19:00",
        where="La Cantine",
        city="Nantes",
        recurrence="weekly",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def create(services: Services, caller, **changes: str) -> int:
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).afterworks_channel_id = "C-AW"
    created = await run(services, caller, create_afterwork, form(**changes), origin_channel_id="C-HERE")
    return created.afterwork_id


async def occurrences(services: Services) -> list[Afterwork]:
    async with services.db.transaction() as session:
        return list(await session.scalars(select(Afterwork).order_by(Afterwork.occurrence)))


# -- the rule, pure ------------------------------------------------------------------------------


def test_19h_paris_stays_19h_local_across_both_daylight_saving_changes() -> None:
    spring = datetime(2027, 3, 21, 19, 0)  # Sunday; clocks go forward on Sunday 2027-03-28
    assert to_utc(occurrence_wall(spring, "weekly", None, 0), PARIS) == datetime(
        2027, 3, 21, 18, 0, tzinfo=UTC
    )
    assert to_utc(occurrence_wall(spring, "weekly", None, 1), PARIS) == datetime(
        2027, 3, 28, 17, 0, tzinfo=UTC
    )
    autumn = datetime(2027, 10, 24, 19, 0)  # Sunday; clocks go back on Sunday 2027-10-31
    assert to_utc(occurrence_wall(autumn, "weekly", None, 0), PARIS) == datetime(
        2027, 10, 24, 17, 0, tzinfo=UTC
    )
    assert to_utc(occurrence_wall(autumn, "weekly", None, 1), PARIS) == datetime(
        2027, 10, 31, 18, 0, tzinfo=UTC
    )
    every_two = datetime(2027, 3, 18, 19, 0)
    assert to_utc(occurrence_wall(every_two, "biweekly", None, 1), PARIS) == datetime(
        2027, 4, 1, 17, 0, tzinfo=UTC
    )


def test_monthly_on_the_nth_weekday_and_a_5th_one_becomes_the_last() -> None:
    first_thursday = datetime(2026, 12, 3, 19, 0)
    assert nth_of(first_thursday.date()) == 1
    walls = [occurrence_wall(first_thursday, "monthly", 1, k) for k in range(4)]
    assert [w.date() for w in walls] == [
        date(2026, 12, 3),
        date(2027, 1, 7),
        date(2027, 2, 4),
        date(2027, 3, 4),
    ]
    assert all(w.hour == 19 for w in walls)
    # The 5th Thursday of December 2026 (the 31st): January and February 2027 have none -> their last.
    fifth = datetime(2026, 12, 31, 19, 0)
    assert nth_of(fifth.date()) == LAST
    assert [occurrence_wall(fifth, "monthly", LAST, k).date() for k in range(4)] == [
        date(2026, 12, 31),
        date(2027, 1, 28),
        date(2027, 2, 25),
        date(2027, 3, 25),
    ]
    assert nth_weekday(2027, 4, 3, LAST) == date(2027, 4, 29)
    # Across daylight saving, monthly too: 19:00 local in March (CET) and in April (CEST).
    assert to_utc(occurrence_wall(datetime(2027, 3, 4, 19, 0), "monthly", 1, 1), PARIS) == datetime(
        2027, 4, 1, 17, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"recurrence": "daily"}, "recurrence", "afterworks.problems.recurrence"),
        ({"recurrence": "none", "until": "30 juin"}, "until", "afterworks.problems.until_without_recurrence"),
        ({"until": "2027-03-01"}, "until", "afterworks.problems.until_before"),
        ({"until": "quand on veut"}, "until", "afterworks.problems.until_unreadable"),
        # Each date is posted when the previous ends: a week's cutoff would post it already closed.
        ({"cutoff": "10080"}, "cutoff", "afterworks.problems.cutoff_series"),
    ],
)
def test_bad_recurrence_is_refused_on_its_field(changes: dict[str, str], field: str, key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate(form(**changes), PARIS, datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "fr")
    assert list(error.value.problems) == [field]
    assert error.value.problems[field][0] == key


def test_the_until_day_is_read_naturally() -> None:
    details = validate(form(until="30 juin 2027"), PARIS, datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "fr")
    assert (details.recurrence, details.until) == ("weekly", date(2027, 6, 30))


# -- the series through the scheduler ---------------------------------------------------------------


async def test_the_next_occurrence_is_posted_once_when_the_previous_ends_at_19h_local_after_the_change(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    first_id = await create(services, alice)
    [first] = await occurrences(services)
    assert (first.starts_at, first.occurrence) == (datetime(2027, 3, 21, 18, 0, tzinfo=UTC), 0)
    [card] = notifier.in_channel("C-AW")
    shown = {f.name: f.value for f in card.fields}
    assert shown["Répétition"] == "chaque semaine, le dimanche"
    assert [a.label for a in card.actions][-2:] == ["Annuler cette date", "Arrêter la série"]
    await run(services, bob, answer_afterwork, first_id, "going")

    async with services.db.transaction() as session:
        [job] = list(await session.scalars(select(Job).where(Job.kind == NEXT)))
    assert job.due_at == datetime(2027, 3, 21, 20, 0, tzinfo=UTC)  # when the first ends (2 h)
    clock.set(job.due_at - timedelta(minutes=1))
    assert await services.scheduler.run_due() >= 0
    assert len(await occurrences(services)) == 1
    clock.set(job.due_at)
    await services.scheduler.run_due()
    first, second = await occurrences(services)
    assert second.occurrence == 1
    assert second.starts_at == datetime(2027, 3, 28, 17, 0, tzinfo=UTC)  # 19:00 summer time
    assert (second.title, second.place, second.city) == (first.title, first.place, first.city)
    assert second.going_count == 0  # its own answers
    cards = notifier.in_channel("C-AW")
    assert len(cards) == 2 and cards[1].title == cards[0].title
    assert len(notifier.events) == 2  # its own Discord event
    async with services.db.transaction() as session:
        reminders = sorted(
            await session.scalars(
                select(Job.due_at).where(Job.kind == "afterworks.remind", Job.state == "pending")
            )
        )
        rsvps = list(await session.scalars(select(Rsvp.afterwork_id)))
    assert reminders == [second.starts_at - timedelta(hours=24), second.starts_at - timedelta(hours=1)]
    assert rsvps == [first_id]

    # Run again, or a second process running the same job again: no second copy (unique key).
    await services.scheduler.run_due()
    async with services.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == NEXT, Job.state == "done"))
        job.state = "pending"
    await services.scheduler.run_due()
    assert len(await occurrences(services)) == 2
    assert len(notifier.in_channel("C-AW")) == 2

    # The one after: planned when the second ends, at 19:00 local again.
    async with services.db.transaction() as session:
        pending = await session.scalar(select(Job).where(Job.kind == NEXT, Job.state == "pending"))
    assert pending.due_at == datetime(2027, 3, 28, 19, 0, tzinfo=UTC)
    assert pending.payload["occurrence"] == 2


async def test_autumn_change_and_a_monthly_series_posted_seven_days_before(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    await create(services, alice, when="2027-10-24 19:00")
    clock.set(datetime(2027, 10, 24, 19, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    _, second = await occurrences(services)
    assert second.starts_at == datetime(2027, 10, 31, 18, 0, tzinfo=UTC)  # 19:00 winter time

    async with services.db.transaction() as session:
        for job in await session.scalars(select(Job).where(Job.kind == NEXT, Job.state == "pending")):
            job.state = "skipped"
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    monthly = await create(services, alice, when="2026-12-31 19:00", recurrence="monthly")
    async with services.db.transaction() as session:
        series = await session.scalar(select(Series).where(Series.rule == "monthly"))
        job = await session.scalar(select(Job).where(Job.kind == NEXT, Job.state == "pending"))
    assert series.nth == LAST
    assert job.due_at == datetime(2027, 1, 28, 18, 0, tzinfo=UTC) - timedelta(days=7)
    card = notifier.in_channel("C-AW")[-1]
    assert {f.name: f.value for f in card.fields}["Répétition"] == "chaque mois, le dernier jeudi"
    clock.set(job.due_at)
    await services.scheduler.run_due()
    created = [a for a in await occurrences(services) if a.series_id == series.id]
    assert [a.starts_at for a in created] == [
        datetime(2026, 12, 31, 18, 0, tzinfo=UTC),
        datetime(2027, 1, 28, 18, 0, tzinfo=UTC),
    ]
    assert created[0].id == monthly


async def test_skipping_one_date_keeps_the_series_and_ending_it_stops_new_dates(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    first_id = await create(services, alice)
    await run(services, alice, cancel_afterwork, first_id)  # skip this date only
    clock.set(datetime(2027, 3, 21, 20, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    first, second = await occurrences(services)
    assert (first.status, second.status) == ("cancelled", "scheduled")

    with pytest.raises(UserError) as refused:
        await run(services, bob, end_series, second.id)
    assert refused.value.key == "afterworks.errors.not_organizer"
    assert (await run(services, alice, end_series, second.id)).changed is True
    assert (await run(services, alice, end_series, second.id)).changed is False  # once
    card = notifier.in_channel("C-AW")[1]
    assert {f.name: f.value for f in card.fields}["Répétition"].endswith(
        "(série arrêtée : plus de nouvelle date)"
    )
    assert "Arrêter la série" not in [a.label for a in card.actions]
    assert second.status == "scheduled"  # the date already posted stays
    clock.set(datetime(2027, 4, 30, tzinfo=UTC))
    await services.scheduler.run_due()
    assert len(await occurrences(services)) == 2

    # The .ics: the series' RRULE ends at its last date; the skipped date is a cancelled override.
    ics = await run(services, bob, calendar_of, second.id, write=False)
    master, override = Calendar.from_ical(ics.content).walk("VEVENT")
    assert (
        str(master["UID"])
        == str(override["UID"])
        == f"afterwork-series-{alice.community_id}-{first.series_id}@collectif"
    )
    rule = master["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["UNTIL"] == [datetime(2027, 3, 28, 17, 0, tzinfo=UTC)]
    assert master.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 21, 18, 0, tzinfo=UTC)
    assert str(override["STATUS"]) == "CANCELLED"
    assert override.decoded("RECURRENCE-ID").astimezone(UTC) == datetime(2027, 3, 21, 18, 0, tzinfo=UTC)


async def test_no_date_after_the_series_last_day(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    await create(services, alice, until="2027-03-28")
    for day in (21, 28):
        clock.set(datetime(2027, 3, day, 20, 0, tzinfo=UTC))
        await services.scheduler.run_due()
    assert [a.starts_at.date() for a in await occurrences(services)] == [date(2027, 3, 21), date(2027, 3, 28)]
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(Job).where(Job.kind == NEXT, Job.state == "pending"))) == []
    ics = await run(services, alice, calendar_of, (await occurrences(services))[0].id, write=False)
    [master] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert master["RRULE"]["UNTIL"] == [datetime(2027, 3, 28, 21, 59, 59, tzinfo=UTC)]


async def test_a_deleted_organizer_ends_the_series_anonymously(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    from cogs.afterworks import FEATURE

    alice = await make_caller(services, "U1", name="Alice")
    await create(services, alice)
    async with services.db.transaction() as session:
        exported = await FEATURE.privacy.export(session, alice.community_id, alice.member_id)
    assert [(s["rule"], s["first"]) for s in exported["series"]] == [("weekly", "2027-03-21T19:00:00")]
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, alice.community_id, alice.member_id)
    async with services.db.transaction() as session:
        series = await session.scalar(select(Series))
        assert series.organizer_id is None and series.ended_at is not None
        again = await FEATURE.privacy.export(session, alice.community_id, alice.member_id)
    assert again["series"] == []
    clock.set(datetime(2027, 3, 21, 20, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    [only] = await occurrences(services)
    assert only.status == "cancelled"  # a future afterwork of a deleted organizer is cancelled


async def test_a_series_next_date_falls_back_to_where_it_was_asked_when_the_afterworks_channel_is_gone(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """As a new afterwork's card: when the afterworks channel is gone, the next date goes where the
    series was asked and the moderators' log says so. It was created, reminders planned, and posted
    nowhere: nobody could answer it, and nobody was told."""
    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).modlog_channel_id = "C-MODLOG"
    await create(services, alice)
    assert len(notifier.in_channel("C-AW")) == 1
    notifier.gone.add("C-AW")  # the afterworks channel is deleted after the first date was posted
    clock.set(datetime(2027, 3, 21, 20, 0, tzinfo=UTC))  # the first date ended: the next is posted
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    _, second = await occurrences(services)
    assert (second.occurrence, second.status) == (1, "scheduled")
    [card] = notifier.in_channel("C-HERE")
    assert card.title == notifier.in_channel("C-AW")[0].title
    [notice] = notifier.in_channel("C-MODLOG")
    assert notice.title == services.t("fr", "afterworks.channel_gone.title")


@pytest.mark.parametrize("rule", ["biweekly", "monthly"])
async def test_a_series_closing_answers_a_week_before_posts_each_date_open_to_answers(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock, rule: str
) -> None:
    """Posted 7 days before it *started*, a date whose answers close 7 days before was posted closed.
    It is now posted 7 days before its answers close (or when the previous ends, if later)."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    await create(services, alice, recurrence=rule, cutoff="10080")
    async with services.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == NEXT, Job.state == "pending"))
    clock.set(job.due_at)
    await services.scheduler.run_due()
    _, second = await occurrences(services)
    assert second.occurrence == 1
    assert second.closes_at - job.due_at >= timedelta(days=6)
    answered = await run(services, bob, answer_afterwork, second.id, "going")
    assert answered.status == "going"


async def test_a_date_of_a_weekly_series_cannot_be_edited_to_close_answers_a_week_before(
    services: Services, notifier: RecordingNotifier
) -> None:
    """The next dates copy the edited one's cutoff (Slack's edit form has the field)."""
    from cogs.afterworks._cards import form_of
    from cogs.afterworks._publish import check_form

    alice = await make_caller(services, "U1", name="Alice")
    first_id = await create(services, alice)
    [first] = await occurrences(services)
    typed = form_of(first, PARIS)
    typed.cutoff = "10080"
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, check_form, typed, first_id, write=False)
    assert refused.value.problems == {"cutoff": ("afterworks.problems.cutoff_series", {})}
    typed.cutoff = "4320"  # 3 days before: posted when the previous ends, open for 3 days and more
    await run(services, alice, check_form, typed, first_id, write=False)


async def test_a_series_ended_while_its_next_date_is_being_posted_plans_no_date_after_it(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job posting the next date read the series still running; the organizer's Stop committed
    meanwhile (on PostgreSQL nothing held the series): the job posted its date and planned the one after,
    so the series went on after "série arrêtée". The job now holds the series while it posts."""
    import asyncio

    from cogs.afterworks import _publish

    alice = await make_caller(services, "U1", name="Alice")
    first_id = await create(services, alice)
    real, slowed = _publish.get_series, []

    async def slow_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = await real(*args, **kwargs)
        if not slowed:  # the job's read: the Stop arrives while it works
            slowed.append(True)
            await asyncio.sleep(0.3)
        return found

    monkeypatch.setattr(_publish, "get_series", slow_once)
    clock.set(datetime(2027, 3, 21, 20, 0, tzinfo=UTC))
    job = asyncio.create_task(services.scheduler.run_due())
    await asyncio.sleep(0.05)
    assert slowed
    assert (await run(services, alice, end_series, first_id)).changed is True
    await job
    monkeypatch.undo()
    async with services.db.transaction() as session:
        pending = list(await session.scalars(select(Job.id).where(Job.kind == NEXT, Job.state == "pending")))
    assert pending == []
    posted = len(await occurrences(services))
    clock.set(datetime(2027, 4, 30, tzinfo=UTC))
    await services.scheduler.run_due()
    assert len(await occurrences(services)) == posted
