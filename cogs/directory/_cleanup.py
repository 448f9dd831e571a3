"""Stored searches unused for 30 days are forgotten by a daily job (their buttons then say "search again")."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler import JobRun
from cogs.directory._search import forget_searches

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
KIND = "directory.forget_searches"
KEEP = timedelta(days=30)


async def schedule_next(session: AsyncSession, services: Services) -> None:
    """Tomorrow 03:00 UTC; the dedupe key makes every process and restart schedule it once."""
    due = (services.clock.now() + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    await services.scheduler.schedule(session, kind=KIND, due_at=due, payload={},
                                      dedupe_key=f"{KIND}:{due:%Y-%m-%d}")


async def run(services: Services, job: JobRun) -> None:
    async with services.db.transaction() as session:
        removed = await forget_searches(session, services.clock.now() - KEEP)
        await schedule_next(session, services)
    log.info("directory: %d stored searches forgotten", removed)


async def on_start(services: Services) -> None:
    # A missed day runs late once (max_lateness None): it only deletes old rows.
    services.scheduler.register(KIND, functools.partial(run, services))
    async with services.db.transaction() as session:
        await schedule_next(session, services)
