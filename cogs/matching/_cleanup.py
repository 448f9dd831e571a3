"""Proposals never invited are forgotten by a daily job once out of the rotation window (30 days).

A /match answer is stored for its Invite button and for rotation; uninvited and older than the
rotation window, it serves neither (its Invite then says the proposal is gone). Invited proposals
stay: their invitations, answers and private space are the team's history.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler import JobRun
from cogs.matching._store import ROTATION_WINDOW, forget_proposals

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
KIND = "matching.forget_proposals"
KEEP = ROTATION_WINDOW


async def schedule_next(session: AsyncSession, services: Services) -> None:
    """Tomorrow 03:00 UTC; the dedupe key makes every process and restart schedule it once."""
    due = (services.clock.now() + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    await services.scheduler.schedule(session, kind=KIND, due_at=due, payload={},
                                      dedupe_key=f"{KIND}:{due:%Y-%m-%d}")


async def run(services: Services, job: JobRun | None) -> None:
    async with services.db.transaction() as session:
        removed = await forget_proposals(session, services.clock.now() - KEEP)
        await schedule_next(session, services)
    log.info("matching: %d proposals never invited forgotten", removed)


async def on_start(services: Services) -> None:
    # A missed day runs late once (max_lateness None): it only deletes old rows.
    services.scheduler.register(KIND, functools.partial(run, services))
    async with services.db.transaction() as session:
        await schedule_next(session, services)
