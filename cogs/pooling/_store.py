"""Pooling's data: one pool in its community, Join / Leave and the seat race, the waitlist, the decision.

Races are settled by the database: every Join or Leave starts with a conditional UPDATE of the pool's
row (`_turn`), which serializes them (PostgreSQL row lock; SQLite's write lock); a seat is taken by
another conditional UPDATE (`participant_count < maximum`), and (pool, member) is unique. So the count
never exceeds the maximum and the waitlist keeps click order (`join_seq`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from cogs.pooling._form import Tiers
from cogs.pooling.models import CANCELLED, FAILED, HAPPENING, IN, OPEN, WAITLIST, Pool, PoolMember
from storage.models import Member, Trade

FEATURE = "pooling"
NAMES_SHOWN = 15


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: str
    name: str
    locale: str | None


@dataclass
class View:
    """One pool as its card shows it."""

    pool: Pool
    organizer: Person | None
    participants: list[Person] = field(default_factory=list)
    waitlist: list[Person] = field(default_factory=list)

    @property
    def tiers(self) -> Tiers:
        return tiers_of(self.pool)


@dataclass(frozen=True)
class Joined:
    status: str  # "in" or "waitlist"
    position: int | None  # place on the waitlist (1 = next)
    changed: bool


@dataclass(frozen=True)
class Left:
    changed: bool
    promoted: list[Person]


def tiers_of(pool: Pool) -> Tiers:
    return tuple((int(start), int(cents)) for start, cents in pool.tiers)


async def get_pool(session: AsyncSession, community_id: int, pool_id: int) -> Pool:
    """The pool of this community (NotFound otherwise: the same answer whether it exists elsewhere)."""
    found = await session.scalar(select(Pool).where(Pool.community_id == community_id, Pool.id == pool_id))
    if found is None:
        raise NotFound("pooling.errors.not_found")
    return found


def check_open(pool: Pool, now: datetime) -> None:
    """Join and Leave are taken until the deadline, on a pool not yet decided or cancelled."""
    if pool.status == CANCELLED:
        raise UserError("pooling.errors.cancelled")
    if pool.status in (HAPPENING, FAILED) or now >= pool.deadline:
        raise UserError("pooling.errors.closed")


def check_manager(pool: Pool, member_id: int, is_moderator: bool) -> None:
    if pool.organizer_id != member_id and not is_moderator:
        raise UserError("pooling.errors.not_organizer")


async def person(session: AsyncSession, community_id: int, member_id: int | None) -> Person | None:
    if member_id is None:
        return None
    row = (await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .where(Member.community_id == community_id, Member.id == member_id)
    )).first()
    return Person(row[0], row[1], row[2], row[3]) if row else None


async def people(session: AsyncSession, community_id: int, pool_id: int, status: str) -> list[Person]:
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .join(PoolMember, PoolMember.member_id == Member.id)
        .where(PoolMember.community_id == community_id, PoolMember.pool_id == pool_id,
               PoolMember.status == status)
        .order_by(PoolMember.position, PoolMember.id)
    )
    return [Person(r[0], r[1], r[2], r[3]) for r in rows]


async def load_view(session: AsyncSession, pool: Pool) -> View:
    cid = pool.community_id
    return View(
        pool,
        await person(session, cid, pool.organizer_id),
        participants=await people(session, cid, pool.id, IN),
        waitlist=await people(session, cid, pool.id, WAITLIST),
    )


async def destinations(session: AsyncSession, community_id: int, pool_channel: str | None
                       ) -> list[tuple[str, str | None, str]]:
    """Where a pool may be posted: (value, trade name or None, channel id); the pooling channel first."""
    found: list[tuple[str, str | None, str]] = []
    if pool_channel:
        found.append(("pool", None, pool_channel))
    rows = await session.execute(
        select(Trade.id, Trade.name, Trade.channel_id)
        .where(Trade.community_id == community_id, Trade.channel_id.is_not(None))
        .order_by(Trade.position, Trade.id)
    )
    found.extend((f"trade:{tid}", name, str(channel)) for tid, name, channel in rows)
    return found


async def _turn(session: AsyncSession, community_id: int, pool_id: int, now: datetime) -> int:
    """Take this pool's turn (the conditional UPDATE each Join / Leave starts with); the next click number."""
    seq = await session.scalar(
        update(Pool)
        .where(Pool.community_id == community_id, Pool.id == pool_id, Pool.status == OPEN,
               Pool.deadline > now)
        .values(join_seq=Pool.join_seq + 1)
        .returning(Pool.join_seq)
        .execution_options(synchronize_session=False)
    )
    if seq is None:
        raise UserError("pooling.errors.closed")
    return int(seq)


async def _take_seat(session: AsyncSession, pool_id: int) -> bool:
    result = await session.execute(
        update(Pool)
        .where(Pool.id == pool_id, Pool.maximum.is_(None) | (Pool.participant_count < Pool.maximum))
        .values(participant_count=Pool.participant_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def _free_seat(session: AsyncSession, pool_id: int) -> None:
    await session.execute(
        update(Pool).where(Pool.id == pool_id, Pool.participant_count > 0)
        .values(participant_count=Pool.participant_count - 1).execution_options(synchronize_session=False)
    )


async def waitlist_position(session: AsyncSession, entry: PoolMember) -> int:
    ahead = await session.scalar(
        select(func.count()).select_from(PoolMember).where(
            PoolMember.pool_id == entry.pool_id, PoolMember.status == WAITLIST,
            PoolMember.position < entry.position)
    )
    return int(ahead or 0) + 1


async def _entry(session: AsyncSession, community_id: int, pool_id: int, member_id: int) -> PoolMember | None:
    return await session.scalar(
        select(PoolMember).where(PoolMember.community_id == community_id, PoolMember.pool_id == pool_id,
                                 PoolMember.member_id == member_id)
    )


async def join(session: AsyncSession, community_id: int, pool_id: int, member_id: int, now: datetime
               ) -> Joined:
    """In while seats are free, else on the waitlist in click order; a repeated click changes nothing."""
    check_open(await get_pool(session, community_id, pool_id), now)
    seq = await _turn(session, community_id, pool_id, now)
    entry = await _entry(session, community_id, pool_id, member_id)
    if entry is not None:  # a double click (or a Slack retry)
        position = await waitlist_position(session, entry) if entry.status == WAITLIST else None
        return Joined(entry.status, position, False)
    status = IN if await _take_seat(session, pool_id) else WAITLIST
    entry = PoolMember(community_id=community_id, pool_id=pool_id, member_id=member_id, status=status,
                       position=seq, joined_at=now)
    session.add(entry)
    await session.flush()
    return Joined(status, await waitlist_position(session, entry) if status == WAITLIST else None, True)


async def promote(session: AsyncSession, community_id: int, pool_id: int) -> list[Person]:
    """Move the first on the waitlist in while seats are free (call with the pool's turn taken)."""
    promoted: list[int] = []
    while True:
        first = await session.scalar(
            select(PoolMember).where(PoolMember.community_id == community_id, PoolMember.pool_id == pool_id,
                                     PoolMember.status == WAITLIST)
            .order_by(PoolMember.position, PoolMember.id).limit(1)
        )
        if first is None or not await _take_seat(session, pool_id):
            break
        first.status = IN
        promoted.append(first.member_id)
        await session.flush()
    found = [await person(session, community_id, member_id) for member_id in promoted]
    return [p for p in found if p is not None]


async def leave(session: AsyncSession, community_id: int, pool_id: int, member_id: int, now: datetime
                ) -> Left:
    """Out of the pool (or off the waitlist); a seat freed goes to the first waiting."""
    check_open(await get_pool(session, community_id, pool_id), now)
    await _turn(session, community_id, pool_id, now)
    entry = await _entry(session, community_id, pool_id, member_id)
    if entry is None:
        return Left(False, [])
    was_in = entry.status == IN
    await session.execute(delete(PoolMember).where(PoolMember.id == entry.id))
    if not was_in:
        return Left(True, [])
    await _free_seat(session, pool_id)
    return Left(True, await promote(session, community_id, pool_id))


async def decide(session: AsyncSession, community_id: int, pool_id: int, status: str, now: datetime) -> bool:
    """Move an open pool to `status` once (conditional UPDATE): True only for the caller that did it."""
    result = await session.execute(
        update(Pool)
        .where(Pool.community_id == community_id, Pool.id == pool_id, Pool.status == OPEN)
        .values(status=status, decided_at=now,
                final_count=None if status == CANCELLED else Pool.participant_count)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def outcome_of(session: AsyncSession, community_id: int, pool_id: int) -> str:
    """What the deadline decides now: happening when the minimum is reached, else failed."""
    pool = await get_pool(session, community_id, pool_id)
    return HAPPENING if pool.participant_count >= pool.minimum else FAILED
