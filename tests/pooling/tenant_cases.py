"""Pooling tenant cases (registry: tests/tenant.py): B's group purchase, tried from community A."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import Services
from bot.usecase import run
from cogs.pooling._pools import (
    cancel_pool,
    check_answer,
    check_close,
    check_manage,
    close_pool,
    join_pool,
    leave_pool,
)
from cogs.pooling.models import Pool
from tests.tenant import Case, World

CASES = [
    Case("pooling: Join of a pool id", "b_pool", lambda s, c, i: run(s, c, join_pool, i),
         covers=("pooling:join:42",)),
    Case("pooling: Leave of a pool id", "b_pool", lambda s, c, i: run(s, c, leave_pool, i),
         covers=("pooling:leave:42",)),
    Case("pooling: the read-only check before Join / Leave", "b_pool",
         lambda s, c, i: run(s, c, check_answer, i, write=False)),
    Case("pooling: Close now of a pool id", "b_pool", lambda s, c, i: run(s, c, close_pool, i),
         covers=("pooling:close:42",)),
    Case("pooling: the read-only check before Close now", "b_pool",
         lambda s, c, i: run(s, c, check_close, i, write=False)),
    Case("pooling: Cancel of a pool id", "b_pool", lambda s, c, i: run(s, c, cancel_pool, i),
         covers=("pooling:cancel:42",)),
    Case("pooling: the read-only check before Cancel", "b_pool",
         lambda s, c, i: run(s, c, check_manage, i, write=False)),
]


async def seed(services: Services, world: World) -> None:
    """B's open pool, organized by B's first member, its deadline far ahead."""
    async with services.db.transaction() as session:
        pool = Pool(
            community_id=world.b.community_id, organizer_id=world.b.member_id, title="Licences B",
            what="Suite", link="https://b.example", tiers=[[1, 1500]], currency="EUR", minimum=1,
            deadline=datetime(2027, 6, 4, 17, 0, tzinfo=UTC), channel_id="CB", status="open",
            participant_count=0, join_seq=0,
        )
        session.add(pool)
        await session.flush()
        world.ids.update(b_pool=pool.id)
