"""What the outbox's tests share: the community row, the kept rows, time passing for the retries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import outbox
from bot.clock import FrozenClock
from bot.services import Services
from storage.models import Community, Job


async def community_of(services: Services, community_id: int) -> Community:
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
    assert community is not None
    return community


async def kept(services: Services) -> list[Job]:
    """The outbox's job rows, oldest first."""
    async with services.db.transaction(write=False) as session:
        return list(await session.scalars(select(Job).where(Job.kind == outbox.OUTBOX).order_by(Job.id)))


async def retry_for(services: Services, clock: FrozenClock, hours: int = 3) -> None:
    """Let every retry (with its backoff) have its chance: the sweep every quarter of an hour."""
    for _ in range(hours * 4):
        clock.advance(timedelta(minutes=15))
        await services.scheduler.run_due()
