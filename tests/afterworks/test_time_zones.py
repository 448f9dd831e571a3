"""Afterworks seen from Paris, Montréal and Kolkata: times across daylight saving, in the community's zone.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._cards import form_of
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._publish import (
    NEXT,
    calendar_of,
    check_form,
    create_afterwork,
    edit_afterwork,
    edit_form,
    register_jobs,
)
from cogs.afterworks.models import Afterwork
from storage.models import Community, Job
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def create(services: Services, caller, **fields: str) -> int:
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).afterworks_channel_id = "C-AW"
    form = AfterworkForm(title="Nuit du jeu", where="Le Comptoir", city="Paris", **fields)
    created = await run(services, caller, create_afterwork, form, origin_channel_id="C-HERE")
    return created.afterwork_id


async def test_the_ics_end_of_an_afterwork_over_the_spring_change_is_its_duration_later(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Saturday 27 March 2027 23:00 in Paris for 4 hours ends Sunday 04:00 summer time (02:00 UTC), as
    the Discord event says; the night lost an hour, not the afterwork."""
    clock.set(datetime(2027, 3, 20, 10, tzinfo=UTC))
    alice = await make_caller(services, "U1", name="Alice")
    aid = await create(services, alice, when="2027-03-27 23:00", duration="240")
    [event] = notifier.events.values()
    assert event.ends == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    ics = await run(services, alice, calendar_of, aid, write=False)
    [vevent] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 27, 22, 0, tzinfo=UTC)
    assert vevent.decoded("DTEND").astimezone(UTC) == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    assert vevent["DTEND"].to_ical() == b"20270328T040000"


async def test_the_ics_end_of_an_afterwork_over_the_autumn_change_in_montreal_is_its_duration_later(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Saturday 6 November 2027 22:00 in Montréal for 6 hours ends Sunday 03:00 standard time (08:00 UTC):
    the night gained an hour, not the afterwork."""
    clock.set(datetime(2027, 10, 20, 10, tzinfo=UTC))
    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        await session.execute(
            update(Community).where(Community.id == alice.community_id).values(timezone="America/Toronto")
        )
    services.callers.forget(alice.community_id)
    alice = await make_caller(services, "U1", name="Alice")
    aid = await create(services, alice, when="2027-11-06 22:00", duration="360")
    ics = await run(services, alice, calendar_of, aid, write=False)
    [vevent] = Calendar.from_ical(ics.content).walk("VEVENT")
    assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(2027, 11, 7, 2, 0, tzinfo=UTC)
    assert vevent.decoded("DTEND").astimezone(UTC) == datetime(2027, 11, 7, 8, 0, tzinfo=UTC)
    assert vevent["DTEND"].to_ical() == b"20271107T030000"


async def _start(services: Services, notifier: RecordingNotifier, when: str, locale: str = "fr") -> datetime:
    alice = await make_caller(services, "U1", name="Alice", locale=locale)
    await create(services, alice, when=when)
    [event] = notifier.events.values()
    return event.start.astimezone(UTC)


async def test_in_one_hour_on_the_spring_change_night_is_an_hour_later(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """At 01:30 in Paris on Sunday 28 March 2027, "dans 1 heure" is 03:30 summer time (an hour of real
    time); it was read on the clock face as 02:30, which does not exist that night, and refused."""
    clock.set(datetime(2027, 3, 28, 0, 30, tzinfo=UTC))
    alice = await make_caller(services, "U1", name="Alice")
    form = AfterworkForm(title="Nuit du jeu", where="Le Comptoir", when="dans 1 heure")
    checked = await run(services, alice, check_form, form, write=False)
    assert "dimanche 28 mars 2027, 03:30, heure de Paris" in checked.understood
    assert await _start(services, notifier, "dans 1 heure") == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


async def test_in_two_hours_on_the_autumn_change_night_is_two_hours_later(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """At 01:30 summer time in Paris on Sunday 31 October 2027, "dans 2 heures" is two real hours later
    (02:30 winter time, the second 02:30); it was read on the clock face as 03:30, three hours later."""
    clock.set(datetime(2027, 10, 30, 23, 30, tzinfo=UTC))
    assert await _start(services, notifier, "dans 2 heures") == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


async def test_in_one_hour_into_the_repeated_hour_is_that_instant(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """At 01:30 summer time, "in 1 hour" is the first 02:30 (00:30 UTC); it was refused as a time that
    happens twice, though an hour from now is one instant."""
    clock.set(datetime(2027, 10, 30, 23, 30, tzinfo=UTC))
    assert await _start(services, notifier, "in 1 hour", "en") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


async def test_tomorrow_at_an_hour_stays_the_clock_time_across_the_change(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """ "demain 19h" typed at 01:30 on the spring change night is 19:00 summer time on Monday, not 24 hours
    of elapsed time counted from a clock time."""
    clock.set(datetime(2027, 3, 28, 0, 30, tzinfo=UTC))
    assert await _start(services, notifier, "demain 19h") == datetime(2027, 3, 29, 17, 0, tzinfo=UTC)


async def _retitled(services: Services, caller, afterwork_id: int) -> Afterwork:
    """The edit form opened as the platforms pre-fill it, only the title changed, checked then saved."""
    shown = await run(services, caller, edit_form, afterwork_id, write=False)
    form = form_of(shown, caller.timezone)
    assert form.when == "2027-10-31 02:30"  # the repeated hour, as the community reads it
    form.title = "Nuit blanche"
    await run(services, caller, check_form, form, afterwork_id, write=False)
    return await run(services, caller, edit_afterwork, afterwork_id, form)


async def test_a_series_date_in_the_repeated_hour_is_edited_without_touching_its_time(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """A weekly series at 02:30 from Sunday 24 October 2027: its date of the 31st is the first 02:30 (RFC
    5545). Its edit form showed "2027-10-31 02:30" and refused it as a time that happens twice, even for a
    new title; an unchanged time is kept as the same instant."""
    clock.set(datetime(2027, 10, 20, 10, tzinfo=UTC))
    alice = await make_caller(services, "U1", name="Alice")
    await create(services, alice, when="2027-10-24 02:30", recurrence="weekly")
    clock.set(datetime(2027, 10, 24, 2, 30, tzinfo=UTC))  # the first date ends: the next one is posted
    await services.scheduler.run_due()
    async with services.db.transaction(write=False) as session:
        second = await session.scalar(select(Afterwork).where(Afterwork.occurrence == 1))
        assert await session.scalar(select(Job.id).where(Job.kind == NEXT, Job.state == "pending"))
    assert second is not None and second.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    edited = await _retitled(services, alice, second.id)
    assert (edited.title, edited.starts_at) == ("Nuit blanche", datetime(2027, 10, 31, 0, 30, tzinfo=UTC))


async def test_an_afterwork_at_the_second_0230_keeps_it_when_edited(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Set "dans 2 heures" at 01:30 summer time: 02:30 winter time, the second one. Its unchanged time is
    kept as that instant, not read again as the first 02:30, an hour earlier."""
    clock.set(datetime(2027, 10, 30, 23, 30, tzinfo=UTC))
    alice = await make_caller(services, "U1", name="Alice")
    aid = await create(services, alice, when="dans 2 heures")
    edited = await _retitled(services, alice, aid)
    assert (edited.title, edited.starts_at) == ("Nuit blanche", datetime(2027, 10, 31, 1, 30, tzinfo=UTC))
