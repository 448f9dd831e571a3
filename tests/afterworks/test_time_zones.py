"""Afterworks seen from Paris, Montréal and Kolkata: times across daylight saving, in the community's zone.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import update

from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._publish import calendar_of, create_afterwork, register_jobs
from storage.models import Community
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
