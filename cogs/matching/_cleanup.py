"""Proposals never invited are forgotten by a daily job once out of the rotation window (30 days).

A /match answer is stored for its Invite button and for rotation; uninvited and older than the
rotation window, it serves neither (its Invite then says the proposal is gone). Invited proposals
stay: their invitations, answers and private space are the team's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import nightly
from bot.scheduler import JobRun
from cogs.matching._store import ROTATION_WINDOW, forget_proposals

if TYPE_CHECKING:
    from bot.services import Services

KIND = "matching.forget_proposals"
KEEP = ROTATION_WINDOW


async def _forget(session: AsyncSession, now: datetime) -> int:
    return await forget_proposals(session, now - KEEP)


async def run(services: Services, job: JobRun | None) -> None:
    await nightly.run(services, KIND, _forget, job)


async def on_start(services: Services) -> None:
    await nightly.start(services, KIND, _forget)
