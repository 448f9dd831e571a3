"""Feedback seen from Paris and Montréal: the due-date DM at 09:00 in the community's zone.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.config._context import run as run_config
from cogs.config._settings import set_setting
from cogs.feedback._feedback import ask, close_request
from cogs.privacy._privacy import delete_member_data
from storage.models import Job
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import good_request


def _due_dms(notifier: RecordingNotifier) -> int:
    return len([dm for dm in notifier.dms if dm.card.title.startswith("⏰")])


async def _asked(services: Services, caller: Caller) -> int:
    done = await run(services, caller, ask, good_request(due="2026-11-28"))
    assert done.published is not None and done.published.posted
    return done.request_id


async def test_a_due_date_set_before_the_zone_is_set_to_montreal_is_told_at_9_in_montreal(
    services: Services, notifier: RecordingNotifier, alice: Caller, moderator: Caller, clock: FrozenClock
) -> None:
    """The community starts in Paris (the default), then its moderators set Montréal: a request due on
    28 November is followed up on the 29th at 09:00 in Montréal, not at 03:00 (09:00 in Paris)."""
    await _asked(services, alice)
    await run_config(services, moderator, set_setting, "timezone", "America/Toronto")
    clock.set(datetime(2026, 11, 29, 13, 59, tzinfo=UTC))  # 08:59 in Montréal
    await services.scheduler.run_due()
    assert _due_dms(notifier) == 0
    clock.set(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _due_dms(notifier) == 1


async def test_a_moved_due_date_dm_is_cancelled_with_its_request(
    services: Services, notifier: RecordingNotifier, alice: Caller, moderator: Caller, clock: FrozenClock
) -> None:
    """Closed, or its requester's data deleted, after the move: nothing is left to fire."""
    closed = await _asked(services, alice)
    deleted = await _asked(services, alice)
    await run_config(services, moderator, set_setting, "timezone", "America/Toronto")
    await run(services, alice, close_request, closed)
    async with services.db.transaction(write=False) as session:
        pending = list(await session.scalars(
            select(Job.payload).where(Job.kind == "feedback.due", Job.state == "pending")))
    assert [p["request_id"] for p in pending] == [deleted]
    await delete_member_data(services, alice, alice.member_id)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _due_dms(notifier) == 0
    async with services.db.transaction(write=False) as session:
        assert await session.scalar(
            select(Job.id).where(Job.kind == "feedback.due", Job.state == "pending")) is None
