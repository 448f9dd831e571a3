"""Afterworks' data: loading one event in its community, the answers and the capacity race, reminders' jobs.

Races are settled by the database: every change of answers to one event starts with a conditional
UPDATE of its row (`_lock`), which serializes them (PostgreSQL row lock; SQLite's write lock), so the
count going never exceeds the capacity and the waitlist keeps click order (`rsvp_seq`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, delete, func, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.errors import InvalidInput, NotFound, UserError
from bot.scheduler import PENDING, Scheduler
from cogs.afterworks._form import wall_words
from cogs.afterworks.models import (
    CANCELLED,
    GOING,
    SCHEDULED,
    WAITLIST,
    Afterwork,
    Delivery,
    Preference,
    Rsvp,
    Series,
)
from storage.models import Job, Member

# Core tables for the hot statements that load no object: no ORM work on them at each execution.
_AFTERWORKS: Table = Afterwork.__table__  # type: ignore[assignment]
_RSVPS: Table = Rsvp.__table__  # type: ignore[assignment]
_MEMBERS: Table = Member.__table__  # type: ignore[assignment]

FEATURE = "afterworks"
REMIND = "afterworks.remind"
NAMES_SHOWN = 15


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: str
    name: str
    locale: str | None


@dataclass
class View:
    """One afterwork as the cards show it."""

    afterwork: Afterwork
    organizer: Person | None
    going: list[Person] = field(default_factory=list)  # the first NAMES_SHOWN going, in answer order
    going_total: int = 0
    maybe: int = 0
    cant: int = 0
    waitlisted: int = 0
    series: Series | None = None


@dataclass(frozen=True)
class Answered:
    status: str  # what the member's answer became (going, maybe, cant, waitlist)
    position: int | None  # place on the waitlist (1 = next)
    changed: bool
    promoted: list[Person]


# The statements of a click (check, answer, the card's view) are built once with bound parameters:
# building a statement costs more Python time than SQLite takes to run these.


@functools.cache
def _afterwork_query() -> Select[Afterwork]:
    return select(Afterwork).where(
        Afterwork.community_id == bindparam("community_id"), Afterwork.id == bindparam("afterwork_id")
    )


async def get_afterwork(session: AsyncSession, community_id: int, afterwork_id: int) -> Afterwork:
    """The afterwork of this community (NotFound otherwise: same answer whether it exists elsewhere)."""
    found = await session.scalar(
        _afterwork_query(), {"community_id": community_id, "afterwork_id": afterwork_id}
    )
    if found is None:
        raise NotFound("afterworks.errors.not_found")
    return found


def check_open(afterwork: Afterwork, now: datetime) -> None:
    """Answers are taken until the event starts, and never on a cancelled one."""
    if afterwork.status == CANCELLED:
        raise UserError("afterworks.errors.cancelled")
    if now >= afterwork.starts_at:
        raise UserError("afterworks.errors.started")


def check_answers_open(afterwork: Afterwork, now: datetime, timezone: str, locale: str) -> None:
    """As check_open, and answers close at the RSVP cutoff (told when, in the community's time)."""
    check_open(afterwork, now)
    if afterwork.rsvp_cutoff_minutes and now >= afterwork.closes_at:
        wall = afterwork.closes_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
        raise UserError("afterworks.errors.closed", **wall_words(wall, timezone, locale))


def check_manager(afterwork: Afterwork, member_id: int, is_moderator: bool) -> None:
    if afterwork.organizer_id != member_id and not is_moderator:
        raise UserError("afterworks.errors.not_organizer")


@functools.cache
def _people_query() -> Any:
    """The organizer (kind 0) and the first NAMES_SHOWN going (kind 1), in one statement.

    Only what the card shows: reading every answer made each click of a storm on a big event cost
    more than the one before (500 clicks: 250 rows read per click); the others are counted.
    """
    r, m = _RSVPS.c, _MEMBERS.c
    going = (
        select(literal_column("1").label("kind"), r.position.label("pos"), r.id.label("rsvp"),
               m.id, m.platform_user_id, m.display_name, m.locale)
        .select_from(_MEMBERS.join(_RSVPS, r.member_id == m.id))
        .where(
            r.community_id == bindparam("community_id"),
            r.afterwork_id == bindparam("afterwork_id"),
            r.status == GOING,
        )
        .order_by(r.position, r.id)
        .limit(NAMES_SHOWN)
        .subquery()
    )
    zero = literal_column("0")
    organizer = select(
        zero.label("kind"), zero.label("pos"), zero.label("rsvp"),
        m.id, m.platform_user_id, m.display_name, m.locale,
    ).where(m.community_id == bindparam("community_id"), m.id == bindparam("organizer_id"))
    people = union_all(organizer, select(going)).subquery()
    return select(people).order_by(people.c.kind, people.c.pos, people.c.rsvp)


@functools.cache
def _person_query() -> Select[int, str, str, str | None]:
    m = _MEMBERS.c
    return select(m.id, m.platform_user_id, m.display_name, m.locale).where(
        m.community_id == bindparam("community_id"), m.id == bindparam("member_id")
    )


@functools.cache
def _counts_query() -> Select[str, int]:
    r = _RSVPS.c
    return (
        select(r.status, func.count())
        .where(r.community_id == bindparam("community_id"), r.afterwork_id == bindparam("afterwork_id"))
        .group_by(r.status)
    )


async def person(session: AsyncSession, community_id: int, member_id: int | None) -> Person | None:
    if member_id is None:
        return None
    values = {"community_id": community_id, "member_id": member_id}
    row = (await session.execute(_person_query(), values)).first()
    return Person(row[0], row[1], row[2], row[3]) if row else None


async def answer_counts(session: AsyncSession, community_id: int, afterwork_id: int) -> dict[str, int]:
    """How many answered each way (going, maybe, cant, waitlist)."""
    values = {"community_id": community_id, "afterwork_id": afterwork_id}
    return dict((await session.execute(_counts_query(), values)).all())


async def load_view(
    session: AsyncSession, afterwork: Afterwork, counts: dict[str, int] | None = None
) -> View:
    """What the card shows; `counts` when this transaction read them already (answer_held)."""
    cid, aid = afterwork.community_id, afterwork.id
    values = {"community_id": cid, "afterwork_id": aid}
    if counts is None:
        counts = await answer_counts(session, cid, aid)
    organizer: Person | None = None
    going: list[Person] = []
    people = await session.execute(_people_query(), {**values, "organizer_id": afterwork.organizer_id})
    for kind, _pos, _rsvp, *who in people:
        if kind == 0:
            organizer = Person(*who)
        else:
            going.append(Person(*who))
    return View(
        afterwork,
        organizer,
        going=going,
        going_total=counts.get(GOING, 0),
        maybe=counts.get("maybe", 0),
        cant=counts.get("cant", 0),
        waitlisted=counts.get(WAITLIST, 0),
        series=await get_series(session, cid, afterwork.series_id),
    )



async def current_view(session: AsyncSession, afterwork: Afterwork, counts: dict[str, int]) -> View:
    """The view after this transaction's answer (`counts` read after it): seats taken or freed."""
    set_committed_value(afterwork, "going_count", counts.get(GOING, 0))
    return await load_view(session, afterwork, counts)


async def get_series(session: AsyncSession, community_id: int, series_id: int | None, *,
                     hold: bool = False) -> Series | None:
    """The series; `hold` keeps its row until the transaction ends (an end of the series waits for it)."""
    if series_id is None:
        return None
    query = select(Series).where(Series.community_id == community_id, Series.id == series_id)
    return await session.scalar(query.with_for_update() if hold else query)


def _lock_statement(returning: Any) -> Any:
    return (
        update(Afterwork)
        .where(
            Afterwork.community_id == bindparam("b_community_id"),
            Afterwork.id == bindparam("b_afterwork_id"),
            Afterwork.status == SCHEDULED,
        )
        .values(rsvp_seq=Afterwork.rsvp_seq + 1)
        .returning(returning)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _lock_query() -> Any:
    return _lock_statement(Afterwork.rsvp_seq)


@functools.cache
def _lock_row_query() -> Any:
    return _lock_statement(Afterwork)


async def _lock(session: AsyncSession, community_id: int, afterwork_id: int) -> int:
    """Take this event's turn (the conditional UPDATE every answer starts with); the next click number."""
    values = {"b_community_id": community_id, "b_afterwork_id": afterwork_id}
    seq = await session.scalar(_lock_query(), values)
    if seq is None:
        raise UserError("afterworks.errors.cancelled")
    return int(seq)


@functools.cache
def _take_seat_query() -> Any:
    a = _AFTERWORKS.c
    return (
        _AFTERWORKS.update()
        .where(a.id == bindparam("b_afterwork_id"), (a.capacity.is_(None)) | (a.going_count < a.capacity))
        .values(going_count=a.going_count + 1)
    )


async def _take_seat(session: AsyncSession, afterwork_id: int) -> bool:
    result = await session.execute(_take_seat_query(), {"b_afterwork_id": afterwork_id})
    return result.rowcount == 1  # type: ignore[attr-defined]


@functools.cache
def _free_seat_query() -> Any:
    return (
        update(Afterwork)
        .where(Afterwork.id == bindparam("b_afterwork_id"), Afterwork.going_count > 0)
        .values(going_count=Afterwork.going_count - 1)
        .execution_options(synchronize_session=False)
    )


async def _free_seat(session: AsyncSession, afterwork_id: int) -> None:
    await session.execute(_free_seat_query(), {"b_afterwork_id": afterwork_id})


async def promote(session: AsyncSession, community_id: int, afterwork_id: int, now: datetime) -> list[Person]:
    """Move the first on the waitlist to going while seats are free (call with the event's turn taken)."""
    promoted: list[int] = []
    while True:
        first = await session.scalar(
            select(Rsvp)
            .where(
                Rsvp.community_id == community_id, Rsvp.afterwork_id == afterwork_id, Rsvp.status == WAITLIST
            )
            .order_by(Rsvp.position, Rsvp.id)
            .limit(1)
        )
        if first is None or not await _take_seat(session, afterwork_id):
            break
        first.status, first.updated_at = GOING, now
        promoted.append(first.member_id)
        await session.flush()
    people = [await person(session, community_id, member_id) for member_id in promoted]
    return [p for p in people if p is not None]


async def answer(
    session: AsyncSession,
    community_id: int,
    afterwork_id: int,
    member_id: int,
    choice: str,
    now: datetime,
    timezone: str = "UTC",
    locale: str = "en",
) -> Answered:
    """Going / Maybe / Can't: Going on a full event joins the waitlist; leaving Going promotes the next.

    Refused after the RSVP cutoff (`timezone` and `locale` say when it was).
    """
    answered, _afterwork, _counts = await answer_held(
        session, community_id, afterwork_id, member_id, choice, now, timezone, locale
    )
    return answered


@functools.cache
def _rsvp_query() -> Select[int, str, int]:
    r = _RSVPS.c
    return select(r.id, r.status, r.position).where(
        r.community_id == bindparam("community_id"),
        r.afterwork_id == bindparam("afterwork_id"),
        r.member_id == bindparam("member_id"),
    )


@functools.cache
def _insert_rsvp() -> Any:
    return _RSVPS.insert()


@functools.cache
def _update_rsvp() -> Any:
    return (
        _RSVPS.update()
        .where(_RSVPS.c.id == bindparam("b_id"))
        .values(status=bindparam("b_status"), position=bindparam("b_position"), updated_at=bindparam("b_now"))
    )


async def answer_held(
    session: AsyncSession,
    community_id: int,
    afterwork_id: int,
    member_id: int,
    choice: str,
    now: datetime,
    timezone: str = "UTC",
    locale: str = "en",
) -> tuple[Answered, Afterwork, dict[str, int]]:
    """`answer`, the afterwork as its turn left it, and the answers' counts after it.

    The afterwork has its rsvp_seq just taken; the counts are empty when nothing changed. The turn
    is taken first (UPDATE … RETURNING the row: one statement reads and holds it); a refusal (gone,
    cancelled, started, closed) rolls it back with the use case.
    """
    values = {"b_community_id": community_id, "b_afterwork_id": afterwork_id}
    afterwork = await session.scalar(_lock_row_query(), values)
    if afterwork is None:  # gone here, or cancelled: says which
        check_answers_open(await get_afterwork(session, community_id, afterwork_id), now, timezone, locale)
        raise UserError("afterworks.errors.cancelled")
    check_answers_open(afterwork, now, timezone, locale)
    seq = afterwork.rsvp_seq
    keys = {"community_id": community_id, "afterwork_id": afterwork_id, "member_id": member_id}
    rsvp = (await session.execute(_rsvp_query(), keys)).first()
    old = rsvp.status if rsvp else None
    if old == choice or (choice == GOING and old == WAITLIST):  # a repeated click (or a Slack retry)
        position = await _position(session, afterwork_id, rsvp.position) if old == WAITLIST and rsvp else None
        return Answered(old, position, False, []), afterwork, {}
    new = choice
    if choice == GOING and not await _take_seat(session, afterwork_id):
        new = WAITLIST
    if rsvp is None:
        await session.execute(
            _insert_rsvp(),
            {
                "community_id": community_id,
                "afterwork_id": afterwork_id,
                "member_id": member_id,
                "status": new,
                "position": seq,
                "updated_at": now,
            },
        )
    else:
        await session.execute(
            _update_rsvp(), {"b_id": rsvp.id, "b_status": new, "b_position": seq, "b_now": now}
        )
    promoted: list[Person] = []
    if old == GOING:
        await _free_seat(session, afterwork_id)
        promoted = await promote(session, community_id, afterwork_id, now)
    counts = await answer_counts(session, community_id, afterwork_id)
    # Waitlisted now: this answer holds the newest turn (`seq`), so it is last in the line.
    position = counts.get(WAITLIST, 0) if new == WAITLIST else None
    return Answered(new, position, True, promoted), afterwork, counts


@functools.cache
def _position_query() -> Any:
    r = _RSVPS.c
    return (
        select(func.count())
        .select_from(_RSVPS)
        .where(
            r.afterwork_id == bindparam("afterwork_id"),
            r.status == WAITLIST,
            r.position < bindparam("position"),
        )
    )


async def _position(session: AsyncSession, afterwork_id: int, position: int) -> int:
    ahead = await session.scalar(_position_query(), {"afterwork_id": afterwork_id, "position": position})
    return int(ahead or 0) + 1


async def waitlist_position(session: AsyncSession, rsvp: Rsvp) -> int:
    return await _position(session, rsvp.afterwork_id, rsvp.position)


async def set_capacity(
    session: AsyncSession, afterwork: Afterwork, capacity: int | None, now: datetime
) -> list[Person]:
    """A new capacity: refused below the number going; a higher one promotes from the waitlist."""
    await _lock(session, afterwork.community_id, afterwork.id)
    going = int(await session.scalar(select(Afterwork.going_count).where(Afterwork.id == afterwork.id)) or 0)
    if capacity is not None and capacity < going:
        # A problem of the form's capacity field: shown next to it (Slack inline, Discord in the list).
        below = ("afterworks.errors.capacity_below_going", {"going": going, "count": going})
        raise InvalidInput({"capacity": below})
    await session.execute(
        update(Afterwork)
        .where(Afterwork.id == afterwork.id)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    return await promote(session, afterwork.community_id, afterwork.id, now)


async def dms_wanted(session: AsyncSession, community_id: int, member_ids: list[int]) -> set[int]:
    """Those of `member_ids` who did not turn afterwork DMs off."""
    off = set(
        await session.scalars(
            select(Preference.member_id).where(
                Preference.community_id == community_id,
                Preference.member_id.in_(member_ids),
                Preference.dms.is_(False),
            )
        )
    )
    return {m for m in member_ids if m not in off}


# -- reminders: rows of the scheduler's jobs table -----------------------------------------------


def _key(community_id: int, afterwork_id: int) -> str:
    return f"{REMIND}:{community_id}:{afterwork_id}:"


async def plan_reminders(
    session: AsyncSession, scheduler: Scheduler, afterwork: Afterwork, offsets: list[int], now: datetime
) -> int:
    """One job per offset still ahead; the largest of those also posts in the card's channel.

    An afterwork set for tonight (or moved closer) past its 24 h offset still gets its channel post,
    at the largest offset left, unless the channel had a reminder of it already (before a move, for
    its former time): moved by an hour after its 24 h post, the 1 h reminder posts nothing. The
    dedupe key holds the afterwork's `sequence` (bumped by each edit): a time moved away and back
    plans its reminders again instead of finding the keys of the jobs the first move skipped.
    """
    planned = 0
    # Answering now is the reminder for an offset already passed; a late one would say "in 1 hour" too late.
    ahead = [m for m in sorted(set(offsets), reverse=True)
             if afterwork.starts_at - timedelta(minutes=m) > now]
    first = ahead[0] if ahead else None
    if first is not None and first != max(offsets) and await _channel_reminded(session, afterwork):
        first = None
    prefix = _key(afterwork.community_id, afterwork.id)
    for offset in ahead:
        due = afterwork.starts_at - timedelta(minutes=offset)
        start = int(afterwork.starts_at.timestamp())
        await scheduler.schedule(
            session,
            kind=REMIND,
            due_at=due,
            community_id=afterwork.community_id,
            payload={
                "afterwork_id": afterwork.id,
                "offset": offset,
                "starts_at": start,
                "channel": offset == first,
            },
            dedupe_key=f"{prefix}{offset}:{start}:{afterwork.sequence or 0}",
        )
        planned += 1
    return planned


async def _channel_reminded(session: AsyncSession, afterwork: Afterwork) -> bool:
    """A channel reminder of this afterwork went out already, for any of its start times."""
    found = await session.scalar(
        select(Delivery.id)
        .where(
            Delivery.community_id == afterwork.community_id,
            Delivery.afterwork_id == afterwork.id,
            Delivery.target == "channel",
        )
        .limit(1)
    )
    return found is not None


async def drop_reminders(
    session: AsyncSession, scheduler: Scheduler, community_id: int, afterwork_id: int
) -> int:
    """Skip every pending reminder of this afterwork (edited time, cancellation)."""
    ids = list(
        await session.scalars(
            select(Job.id).where(
                Job.community_id == community_id,
                Job.kind == REMIND,
                Job.state == PENDING,
                Job.dedupe_key.startswith(_key(community_id, afterwork_id), autoescape=True),
            )
        )
    )
    for job_id in ids:
        await scheduler.cancel(session, job_id=job_id, community_id=community_id)
    return len(ids)


async def forget_answers(
    session: AsyncSession, community_id: int, member_id: int, now: datetime
) -> list[tuple[int, list[Person]]]:
    """A privacy deletion: the member's answers go; seats they held go to the waitlist.

    Every afterwork they answered is returned (its card must be redrawn without them, even cancelled
    or past), each with those promoted to its freed seat (only while it is still to come).
    """
    rows = list(
        await session.scalars(
            select(Rsvp).where(Rsvp.community_id == community_id, Rsvp.member_id == member_id)
        )
    )
    answered: list[tuple[int, list[Person]]] = []
    for rsvp in rows:
        was_going = rsvp.status == GOING
        await session.execute(delete(Rsvp).where(Rsvp.id == rsvp.id))
        promoted: list[Person] = []
        if was_going:
            await _free_seat(session, rsvp.afterwork_id)
            afterwork = await session.get(Afterwork, rsvp.afterwork_id)
            if afterwork is not None and afterwork.status == SCHEDULED and afterwork.starts_at > now:
                promoted = await promote(session, community_id, rsvp.afterwork_id, now)
        answered.append((rsvp.afterwork_id, promoted))
    return answered
