"""The rota's data: tasks, volunteers, turns, and the fair pick of who holds the next turn.

Fairness: among the task's volunteers who may take it (its trades, if any), the one who held it least
recently (never first), ties by fewest turns done (the whole history), then by the volunteer's stored
random seed. Who declined the turn ("Can't this time") is left out of its next pick.
Every change of a turn is a conditional UPDATE (status, holder), so two clicks or two processes
cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from cogs.intros.models import Profile, ProfileTrade
from cogs.pooling._store import Person, person
from cogs.pooling.models import DONE, PENDING, STOPPED, RotaTask, RotaTurn, RotaVolunteer
from storage.models import Member, Trade


@dataclass(frozen=True)
class TaskRow:
    """One task as /tasks shows it: its next turn and holder, its volunteers, the caller's part."""

    task: RotaTask
    turn: RotaTurn | None
    holder: Person | None
    volunteers: int
    mine: bool
    trades: tuple[str, ...]


@dataclass(frozen=True)
class Tally:
    """One volunteer's history of a task (the moderators' view)."""

    name: str
    done: int
    last_done: datetime | None


async def get_task(session: AsyncSession, community_id: int, task_id: int) -> RotaTask:
    """An active task of this community (NotFound otherwise, the same whether it exists elsewhere)."""
    found = await session.scalar(select(RotaTask).where(
        RotaTask.community_id == community_id, RotaTask.id == task_id, RotaTask.active.is_(True)))
    if found is None:
        raise NotFound("pooling.tasks.errors.not_found")
    return found


async def get_turn(session: AsyncSession, community_id: int, turn_id: int) -> RotaTurn:
    found = await session.scalar(
        select(RotaTurn).where(RotaTurn.community_id == community_id, RotaTurn.id == turn_id))
    if found is None:
        raise NotFound("pooling.tasks.errors.turn_not_found")
    return found


async def known_trades(session: AsyncSession, community_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(select(Trade.id, Trade.name).where(Trade.community_id == community_id)
                                 .order_by(Trade.position, Trade.id))
    return [(int(i), str(n)) for i, n in rows]


async def trade_names(session: AsyncSession, community_id: int, trade_ids: list[int]) -> tuple[str, ...]:
    if not trade_ids:
        return ()
    rows = await session.execute(select(Trade.name).where(Trade.community_id == community_id,
                                                          Trade.id.in_(trade_ids)).order_by(Trade.position))
    return tuple(str(n) for (n,) in rows)


async def may_take(session: AsyncSession, task: RotaTask, member_ids: list[int]) -> set[int]:
    """Those of `member_ids` who may take this task: anyone, or those whose profile has one of its trades."""
    if not task.trade_ids:
        return set(member_ids)
    rows = await session.execute(
        select(Profile.member_id).join(ProfileTrade, ProfileTrade.profile_id == Profile.id)
        .where(Profile.community_id == task.community_id, Profile.member_id.in_(member_ids),
               ProfileTrade.trade_id.in_([int(t) for t in task.trade_ids]))
    )
    return {int(m) for (m,) in rows}


async def pick(session: AsyncSession, task: RotaTask, exclude: set[int]) -> int | None:
    """The volunteer who should hold the task's next turn (see the module's docstring), or None."""
    volunteers = {int(m): int(seed) for m, seed in await session.execute(
        select(RotaVolunteer.member_id, RotaVolunteer.seed).where(
            RotaVolunteer.community_id == task.community_id, RotaVolunteer.task_id == task.id))}
    allowed = await may_take(session, task, [m for m in volunteers if m not in exclude])
    if not allowed:
        return None
    held = {int(m): (last, int(done or 0)) for m, last, done in await session.execute(
        select(RotaTurn.assignee_id, func.max(RotaTurn.due_at),
               func.sum(case((RotaTurn.status == DONE, 1), else_=0)))
        .where(RotaTurn.community_id == task.community_id, RotaTurn.task_id == task.id,
               RotaTurn.assignee_id.in_(allowed), RotaTurn.status.in_((PENDING, DONE)))
        .group_by(RotaTurn.assignee_id))}

    def order(member_id: int) -> tuple[int, float, int, int, int]:
        last, done = held.get(member_id, (None, 0))
        return (last is not None, last.timestamp() if last else 0.0, done, volunteers[member_id], member_id)

    for member_id in sorted(allowed, key=order):
        if await _still_volunteering(session, task, member_id):
            return member_id
    return None


async def _still_volunteering(session: AsyncSession, task: RotaTask, member_id: int) -> bool:
    """Whether they still volunteer, their row locked until the caller commits.

    FOR SHARE on PostgreSQL (SQLite's write lock already serializes): a Stop clicked meanwhile waits,
    then finds the turn it must hand on; one committed before the pick leaves them out.
    """
    return await session.scalar(
        select(RotaVolunteer.member_id).where(
            RotaVolunteer.community_id == task.community_id, RotaVolunteer.task_id == task.id,
            RotaVolunteer.member_id == member_id).with_for_update(read=True)) is not None


async def assign(session: AsyncSession, turn: RotaTurn, member_id: int | None, *, expected: int | None,
                 **values: object) -> bool:
    """Give a pending turn to `member_id` if it is still held by `expected` (conditional UPDATE)."""
    holder = RotaTurn.assignee_id.is_(None) if expected is None else RotaTurn.assignee_id == expected
    result = await session.execute(
        update(RotaTurn).where(RotaTurn.id == turn.id, RotaTurn.status == PENDING, holder)
        .values(assignee_id=member_id, **values).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def upcoming(session: AsyncSession, community_id: int, task_id: int) -> RotaTurn | None:
    """The task's latest turn still pending (the one /tasks shows)."""
    return await session.scalar(
        select(RotaTurn).where(RotaTurn.community_id == community_id, RotaTurn.task_id == task_id,
                               RotaTurn.status == PENDING)
        .order_by(RotaTurn.due_at.desc()).limit(1))


async def last_turn(session: AsyncSession, community_id: int, task_id: int) -> RotaTurn | None:
    """The task's latest turn, leaving out those its removal stopped (they never happened)."""
    return await session.scalar(
        select(RotaTurn).where(RotaTurn.community_id == community_id, RotaTurn.task_id == task_id,
                               RotaTurn.status != STOPPED)
        .order_by(RotaTurn.due_at.desc()).limit(1))


async def task_rows(session: AsyncSession, community_id: int, member_id: int) -> list[TaskRow]:
    tasks = list(await session.scalars(
        select(RotaTask).where(RotaTask.community_id == community_id, RotaTask.active.is_(True))
        .order_by(RotaTask.id)))
    rows: list[TaskRow] = []
    for task in tasks:
        turn = await upcoming(session, community_id, task.id)
        count = await session.scalar(select(func.count()).select_from(RotaVolunteer).where(
            RotaVolunteer.community_id == community_id, RotaVolunteer.task_id == task.id))
        mine = await session.scalar(select(RotaVolunteer.id).where(
            RotaVolunteer.community_id == community_id, RotaVolunteer.task_id == task.id,
            RotaVolunteer.member_id == member_id))
        holder = await person(session, community_id, turn.assignee_id) if turn else None
        names = await trade_names(session, community_id, [int(t) for t in task.trade_ids])
        rows.append(TaskRow(task, turn, holder, int(count or 0), mine is not None, names))
    return rows


async def tallies(session: AsyncSession, community_id: int, task_id: int) -> list[Tally]:
    """Who did the task how often and when last (the volunteers, and anyone who did it)."""
    done = {int(m): (int(n), last) for m, n, last in await session.execute(
        select(RotaTurn.assignee_id, func.count(), func.max(RotaTurn.due_at))
        .where(RotaTurn.community_id == community_id, RotaTurn.task_id == task_id, RotaTurn.status == DONE,
               RotaTurn.assignee_id.is_not(None))
        .group_by(RotaTurn.assignee_id))}
    volunteers = {int(m) for (m,) in await session.execute(select(RotaVolunteer.member_id).where(
        RotaVolunteer.community_id == community_id, RotaVolunteer.task_id == task_id))}
    ids = sorted(volunteers | set(done))
    if not ids:
        return []
    names = {int(i): str(n) for i, n in await session.execute(
        select(Member.id, Member.display_name)
        .where(Member.community_id == community_id, Member.id.in_(ids)))}
    found = [Tally(names.get(m, "—"), *done.get(m, (0, None))) for m in ids]
    return sorted(found, key=lambda t: (-t.done, t.name.casefold()))


async def recent_turns(session: AsyncSession, community_id: int, task_id: int, limit: int
                       ) -> list[tuple[RotaTurn, str | None]]:
    rows = await session.execute(
        select(RotaTurn, Member.display_name).outerjoin(Member, Member.id == RotaTurn.assignee_id)
        .where(RotaTurn.community_id == community_id, RotaTurn.task_id == task_id)
        .order_by(RotaTurn.due_at.desc()).limit(limit))
    return [(turn, name) for turn, name in rows]


def check_holder(turn: RotaTurn, member_id: int) -> None:
    """Only the turn's holder answers Done / Can't, and only while it is pending."""
    if turn.status == DONE:
        raise UserError("pooling.tasks.errors.already_done")
    if turn.status != PENDING:
        raise UserError("pooling.tasks.errors.turn_closed")
    if turn.assignee_id != member_id:
        raise UserError("pooling.tasks.errors.not_holder")
FEATURE_ROTA = "pooling"
