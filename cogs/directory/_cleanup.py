"""Stored searches unused for 30 days are forgotten nightly (their buttons then say "search again")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import nightly
from bot.scheduler import JobRun
from cogs.directory._search import forget_searches

if TYPE_CHECKING:
    from bot.services import Services

KIND = "directory.forget_searches"
KEEP = timedelta(days=30)


async def _forget(session: AsyncSession, now: datetime) -> int:
    return await forget_searches(session, now - KEEP)


async def run(services: Services, job: JobRun | None) -> None:
    await nightly.run(services, KIND, _forget, job)


async def on_start(services: Services) -> None:
    await nightly.start(services, KIND, _forget)
