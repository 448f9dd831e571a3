"""Pooling's data: one pool in its community, Join / Leave and the seat race, the waitlist, the decision.

Races are settled by the database: every Join or Leave starts with a conditional UPDATE of the pool's
row (`_turn`), which serializes them (PostgreSQL row lock; SQLite's write lock); a seat is taken by
another conditional UPDATE (`participant_count < maximum`), and (pool, member) is unique. So the count
never exceeds the maximum and the waitlist keeps click order (`join_seq`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, bindparam, delete, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.errors import NotFound, UserError
from cogs.pooling._form import Tiers
from cogs.pooling.models import CANCELLED, FAILED, HAPPENING, IN, OPEN, WAITLIST, Pool, PoolMember
from storage.models import Member, Trade

# Core tables for the hot statements that load no object: no ORM work on them at each execution.
_POOLS: Table = Pool.__table__  # type: ignore[assignment]
_ENTRIES: Table = PoolMember.__table__  # type: ignore[assignment]
_MEMBERS: Table = Member.__table__  # type: ignore[assignment]

FEATURE = "pooling"
NAMES_SHOWN = 15


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: str
    name: str
    locale: str | None


class Payer(NamedTuple):
    """A participant on the organizer's payment list, in join order (`position`, unique in a pool)."""

    who: Person
    paid: bool
    position: int


@dataclass
class View:
    """One pool as its card shows it."""

    pool: Pool
    organizer: Person | None
    participants: list[Person] = field(default_factory=list)  # the first NAMES_SHOWN in, in join order
    participants_total: int = 0
    waitlisted: int = 0

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


# The statements of a click (check, Join / Leave, the card's view) are built once with bound parameters:
# building a statement costs more Python time than SQLite takes to run these.


@functools.cache
def _pool_query() -> Select[Pool]:
    return select(Pool).where(Pool.community_id == bindparam("community_id"), Pool.id == bindparam("pool_id"))


async def get_pool(session: AsyncSession, community_id: int, pool_id: int) -> Pool:
    """The pool of this community (NotFound otherwise: the same answer whether it exists elsewhere)."""
    found = await session.scalar(_pool_query(), {"community_id": community_id, "pool_id": pool_id})
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


@functools.cache
def _person_query() -> Select[int, str, str, str | None]:
    m = _MEMBERS.c
    return select(m.id, m.platform_user_id, m.display_name, m.locale).where(
        m.community_id == bindparam("community_id"), m.id == bindparam("member_id"))


async def person(session: AsyncSession, community_id: int, member_id: int | None) -> Person | None:
    if member_id is None:
        return None
    values = {"community_id": community_id, "member_id": member_id}
    row = (await session.execute(_person_query(), values)).first()
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


@functools.cache
def _names_query() -> Select[int, str, str, str | None]:
    """The first NAMES_SHOWN in, in the order the card lists them (the rest are counted).

    Only what the card shows: reading every entry made each Join of a storm cost more than the last.
    """
    e, m = _ENTRIES.c, _MEMBERS.c
    return (
        select(m.id, m.platform_user_id, m.display_name, m.locale)
        .select_from(_MEMBERS.join(_ENTRIES, e.member_id == m.id))
        .where(e.community_id == bindparam("community_id"), e.pool_id == bindparam("pool_id"), e.status == IN)
        .order_by(e.position, e.id)
        .limit(NAMES_SHOWN)
    )


@functools.cache
def _status_counts_query() -> Select[str, int]:
    e = _ENTRIES.c
    return (
        select(e.status, func.count())
        .where(e.community_id == bindparam("community_id"), e.pool_id == bindparam("pool_id"))
        .group_by(e.status)
    )


async def load_view(session: AsyncSession, pool: Pool) -> View:
    cid = pool.community_id
    values = {"community_id": cid, "pool_id": pool.id}
    counts: dict[str, int] = dict((await session.execute(_status_counts_query(), values)).all())
    participants = [Person(*row) for row in await session.execute(_names_query(), values)]
    return View(pool, await person(session, cid, pool.organizer_id), participants=participants,
                participants_total=counts.get(IN, 0), waitlisted=counts.get(WAITLIST, 0))


@functools.cache
def _count_query() -> Any:
    return select(_POOLS.c.participant_count).where(_POOLS.c.id == bindparam("pool_id"))


async def current_view(session: AsyncSession, pool: Pool) -> View:
    """The view after this transaction's Join / Leave: the count in as stored now (seats taken or freed)."""
    count = await session.scalar(_count_query(), {"pool_id": pool.id})
    set_committed_value(pool, "participant_count", int(count or 0))
    return await load_view(session, pool)


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


@functools.cache
def _turn_query() -> Any:
    """Take this pool's turn (the conditional UPDATE each Join / Leave starts with), returning the pool."""
    return (
        update(Pool)
        .where(Pool.community_id == bindparam("b_community_id"), Pool.id == bindparam("b_pool_id"),
               Pool.status == OPEN, Pool.deadline > bindparam("b_now"))
        .values(join_seq=Pool.join_seq + 1)
        .returning(Pool)
        .execution_options(synchronize_session=False)
    )


async def _turn(session: AsyncSession, community_id: int, pool_id: int, now: datetime) -> Pool:
    """The pool, its turn taken (its next click number in `join_seq`), read by the same statement.

    Refused (gone, cancelled, decided, past its deadline): the use case rolls the turn back with it.
    """
    values = {"b_community_id": community_id, "b_pool_id": pool_id, "b_now": now}
    pool = await session.scalar(_turn_query(), values)
    if pool is None:  # says which: gone here, cancelled, or closed
        check_open(await get_pool(session, community_id, pool_id), now)
        raise UserError("pooling.errors.closed")
    check_open(pool, now)
    return pool


@functools.cache
def _take_seat_query() -> Any:
    p = _POOLS.c
    return (
        _POOLS.update()
        .where(p.id == bindparam("b_pool_id"), p.maximum.is_(None) | (p.participant_count < p.maximum))
        .values(participant_count=p.participant_count + 1)
    )


async def _take_seat(session: AsyncSession, pool_id: int) -> bool:
    result = await session.execute(_take_seat_query(), {"b_pool_id": pool_id})
    return result.rowcount == 1  # type: ignore[attr-defined]


async def _free_seat(session: AsyncSession, pool_id: int) -> None:
    await session.execute(
        update(Pool).where(Pool.id == pool_id, Pool.participant_count > 0)
        .values(participant_count=Pool.participant_count - 1).execution_options(synchronize_session=False)
    )


@functools.cache
def _position_query() -> Any:
    e = _ENTRIES.c
    return select(func.count()).select_from(_ENTRIES).where(
        e.pool_id == bindparam("pool_id"), e.status == WAITLIST, e.position < bindparam("position"))


async def _position(session: AsyncSession, pool_id: int, position: int) -> int:
    ahead = await session.scalar(_position_query(), {"pool_id": pool_id, "position": position})
    return int(ahead or 0) + 1


async def waitlist_position(session: AsyncSession, entry: PoolMember) -> int:
    return await _position(session, entry.pool_id, entry.position)


@functools.cache
def _entry_query() -> Select[int, str, int]:
    e = _ENTRIES.c
    return select(e.id, e.status, e.position).where(
        e.community_id == bindparam("community_id"), e.pool_id == bindparam("pool_id"),
        e.member_id == bindparam("member_id"))


async def _entry(session: AsyncSession, community_id: int, pool_id: int, member_id: int) -> Any:
    """The member's row in this pool (id, status, position), or None."""
    values = {"community_id": community_id, "pool_id": pool_id, "member_id": member_id}
    return (await session.execute(_entry_query(), values)).first()


@functools.cache
def _insert_entry() -> Any:
    return _ENTRIES.insert()


async def join(session: AsyncSession, community_id: int, pool_id: int, member_id: int, now: datetime
               ) -> Joined:
    """In while seats are free, else on the waitlist in click order; a repeated click changes nothing."""
    return (await join_held(session, community_id, pool_id, member_id, now))[0]


async def join_held(session: AsyncSession, community_id: int, pool_id: int, member_id: int, now: datetime
                    ) -> tuple[Joined, Pool]:
    """`join`, and the pool as this Join's turn left it (its join_seq just taken)."""
    pool = await _turn(session, community_id, pool_id, now)
    seq = pool.join_seq
    entry = await _entry(session, community_id, pool_id, member_id)
    if entry is not None:  # a double click (or a Slack retry)
        position = await _position(session, pool_id, entry.position) if entry.status == WAITLIST else None
        return Joined(entry.status, position, False), pool
    status = IN if await _take_seat(session, pool_id) else WAITLIST
    await session.execute(_insert_entry(), {"community_id": community_id, "pool_id": pool_id,
                                            "member_id": member_id, "status": status, "position": seq,
                                            "joined_at": now})
    return Joined(status, await _position(session, pool_id, seq) if status == WAITLIST else None, True), pool


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
    return (await leave_held(session, community_id, pool_id, member_id, now))[0]


async def leave_held(session: AsyncSession, community_id: int, pool_id: int, member_id: int, now: datetime
                     ) -> tuple[Left, Pool]:
    """`leave`, and the pool as this Leave's turn left it (its join_seq just taken)."""
    pool = await _turn(session, community_id, pool_id, now)
    entry = await _entry(session, community_id, pool_id, member_id)
    if entry is None:
        return Left(False, []), pool
    was_in = entry.status == IN
    await session.execute(delete(PoolMember).where(PoolMember.id == entry.id))
    if not was_in:
        return Left(True, []), pool
    await _free_seat(session, pool_id)
    return Left(True, await promote(session, community_id, pool_id)), pool


async def decide(session: AsyncSession, community_id: int, pool_id: int, status: str, now: datetime) -> bool:
    """Move an open pool to `status` once (conditional UPDATE): True only for the caller that did it.

    Happening needs the minimum reached and failed needs it missed, both checked by the UPDATE itself:
    a Leave or a Join committed since the caller read the count (PostgreSQL) is never decided past.
    `join_seq` moves on too: the decided card is newer than any Join / Leave card still on its way
    (`bot.posting.edit_posted`'s version).
    """
    reached = Pool.participant_count >= Pool.minimum
    condition = {HAPPENING: reached, FAILED: ~reached}.get(status, true())
    result = await session.execute(
        update(Pool)
        .where(Pool.community_id == community_id, Pool.id == pool_id, Pool.status == OPEN, condition)
        .values(status=status, decided_at=now, join_seq=Pool.join_seq + 1,
                final_count=None if status == CANCELLED else Pool.participant_count)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def outcome_of(session: AsyncSession, community_id: int, pool_id: int) -> str:
    """What the deadline decides now: happening when the minimum is reached, else failed.

    Read from the row each time (not the session's copy): a Join or Leave may have changed it.
    """
    counts = select(Pool.participant_count, Pool.minimum)
    row = (await session.execute(
        counts.where(Pool.community_id == community_id, Pool.id == pool_id)
    )).one_or_none()
    if row is None:
        raise NotFound("pooling.errors.not_found")
    return HAPPENING if row.participant_count >= row.minimum else FAILED
