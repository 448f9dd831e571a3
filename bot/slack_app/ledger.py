"""The event_id ledger that makes Slack's event retries harmless.

Why a ledger rather than skipping every request that carries X-Slack-Retry-Num: Slack also retries
when our first answer failed or never arrived, and then the retry is the only delivery that will
ever do the work. So the first delivery of an event_id claims it (one INSERT … ON CONFLICT DO
NOTHING in `meta`, settled by the database across processes); a retry finds it claimed and does
nothing; a handler that still fails after its in-process retries (bot/slack_app/router.py) releases
its claim, in case Slack resends the event because our answer never reached it. Socket Mode retries
carry the same event_id, so both modes are covered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from storage.models import Meta
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from bot.services import Services

EVENT_PREFIX = "slack:event:"
KEEP_EVENTS = timedelta(hours=1)  # Slack retries three times within minutes


async def claim_event(services: Services, event_id: str, team_id: str) -> bool:
    """True for the first delivery of this event, False for a retry of one already claimed."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        await session.execute(
            delete(Meta).where(Meta.key.startswith(EVENT_PREFIX), Meta.updated_at < now - KEEP_EVENTS)
        )
        result = await session.execute(
            dialect_insert(session, Meta)
            .values(key=EVENT_PREFIX + event_id, value=team_id, updated_at=now)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


async def release_event(services: Services, event_id: str) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(Meta).where(Meta.key == EVENT_PREFIX + event_id))
