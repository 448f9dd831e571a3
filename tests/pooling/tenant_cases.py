"""Pooling tenant cases (registry: tests/tenant.py): B's group purchase, tried from community A."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import Services
from bot.usecase import run
from cogs.pooling._payments import check_remind, mark_paid, remind_unpaid, show_payments
from cogs.pooling._pools import (
    cancel_pool,
    check_answer,
    check_close,
    check_manage,
    close_pool,
    join_pool,
    leave_pool,
)
from cogs.pooling._rota import cant, check_volunteer, mark_done, stop, volunteer
from cogs.pooling._rota import check_answer as check_turn
from cogs.pooling.models import Pool, PoolMember, RotaTask, RotaTurn, RotaVolunteer
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
    Case("pooling: Payments of a pool id (organizer's private list)", "b_pool_done",
         lambda s, c, i: run(s, c, show_payments, i, 0, write=False), covers=("pooling:payments:42:0",)),
    Case("pooling: ticking who has paid", "b_pool_done",
         lambda s, c, i: run(s, c, mark_paid, i, 0, [str(c.member_id)]), covers=("pooling:paid:42:0",)),
    Case("pooling: the one payment reminder", "b_pool_done", lambda s, c, i: run(s, c, remind_unpaid, i),
         covers=("pooling:remind:42",)),
    Case("pooling: the read-only check before the reminder", "b_pool_done",
         lambda s, c, i: run(s, c, check_remind, i, write=False)),
    Case("pooling: Volunteer for a task id", "b_task", lambda s, c, i: run(s, c, volunteer, i),
         covers=("pooling:task_join:42",)),
    Case("pooling: the read-only check before Volunteer", "b_task",
         lambda s, c, i: run(s, c, check_volunteer, i, write=False)),
    Case("pooling: Stop volunteering for a task id", "b_task", lambda s, c, i: run(s, c, stop, i),
         covers=("pooling:task_stop:42",)),
    Case("pooling: Done on a turn id", "b_turn", lambda s, c, i: run(s, c, mark_done, i),
         covers=("pooling:task_done:42",)),
    Case("pooling: Can't this time on a turn id", "b_turn", lambda s, c, i: run(s, c, cant, i),
         covers=("pooling:task_cant:42",)),
    Case("pooling: the read-only check before Done / Can't", "b_turn",
         lambda s, c, i: run(s, c, check_turn, i, write=False)),
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
        done = Pool(
            community_id=world.b.community_id, organizer_id=world.b.member_id, title="Bureaux B",
            what="Coworking", link="https://b.example/desk", tiers=[[1, 9000]], currency="EUR", minimum=1,
            deadline=datetime(2026, 11, 20, 17, 0, tzinfo=UTC), channel_id="CB", status="happening",
            participant_count=1, join_seq=1, final_count=1,
        )
        task = RotaTask(community_id=world.b.community_id, key="compta", name="Compta", description="",
                        cadence="weekly", weekday="mon", trade_ids=[], active=True)
        session.add_all([done, task])
        await session.flush()
        session.add(PoolMember(community_id=world.b.community_id, pool_id=done.id,
                               member_id=world.b_other.member_id, status="in", position=1))
        session.add(RotaVolunteer(community_id=world.b.community_id, task_id=task.id,
                                  member_id=world.b.member_id, seed=7))
        turn = RotaTurn(community_id=world.b.community_id, task_id=task.id,
                        due_at=datetime(2027, 1, 4, 8, 0, tzinfo=UTC),
                        remind_at=datetime(2027, 1, 2, 8, 0, tzinfo=UTC),
                        assignee_id=world.b.member_id, passes=0, status="pending")
        session.add(turn)
        await session.flush()
        world.ids.update(b_pool=pool.id, b_pool_done=done.id, b_task=task.id, b_turn=turn.id)
