"""Nightly clean-ups: one job a day at 03:00 UTC that deletes what a feature no longer needs.

Every process (and every restart) schedules the next one; its dedupe key keeps it one a day. A day
missed while the bot was down runs late once (no lateness limit): it only deletes old rows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler import JobRun

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
HOUR = 3  # UTC: the quietest hour for French collectives
# What a clean-up does: delete in the session what is older than it cares for; how many rows went.
Work = Callable[[AsyncSession, datetime], Awaitable[int]]


async def schedule_next(session: AsyncSession, services: Services, kind: str) -> None:
    """Tomorrow 03:00 UTC, once whatever the number of processes."""
    due = (services.clock.now() + timedelta(days=1)).replace(hour=HOUR, minute=0, second=0, microsecond=0)
    await services.scheduler.schedule(session, kind=kind, due_at=due, payload={},
                                      dedupe_key=f"{kind}:{due:%Y-%m-%d}")


async def run(services: Services, kind: str, work: Work, job: JobRun | None = None) -> None:
    """One clean-up now (the job's handler), then the next one scheduled."""
    async with services.db.transaction() as session:
        removed = await work(session, services.clock.now())
        await schedule_next(session, services, kind)
    log.info("%s: %d rows forgotten", kind, removed)


async def start(services: Services, kind: str, work: Work) -> None:
    """Register the clean-up's job kind and schedule its next run (a feature's start hook)."""
    services.scheduler.register(kind, functools.partial(run, services, kind, work))
    async with services.db.transaction() as session:
        await schedule_next(session, services, kind)
