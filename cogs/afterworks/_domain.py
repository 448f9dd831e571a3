"""Afterworks' data: loading one event in its community, the answers and the capacity race, reminders' jobs.

Races are settled by the database: every change of answers to one event starts with a conditional
UPDATE of its row (`_lock`), which serializes them (PostgreSQL row lock; SQLite's write lock), so the
count going never exceeds the capacity and the waitlist keeps click order (`rsvp_seq`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, NotFound, UserError
from bot.scheduler import PENDING, Scheduler
from cogs.afterworks._form import wall_words
from cogs.afterworks.models import (
    CANCELLED,
    GOING,
    SCHEDULED,
    WAITLIST,
    Afterwork,
    Preference,
    Rsvp,
    Series,
)
from storage.models import Job, Member

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
    going: list[Person] = field(default_factory=list)
    maybe: int = 0
    cant: int = 0
    waitlist: list[Person] = field(default_factory=list)
    series: Series | None = None


@dataclass(frozen=True)
class Answered:
    status: str  # what the member's answer became (going, maybe, cant, waitlist)
    position: int | None  # place on the waitlist (1 = next)
    changed: bool
    promoted: list[Person]


async def get_afterwork(session: AsyncSession, community_id: int, afterwork_id: int) -> Afterwork:
    """The afterwork of this community (NotFound otherwise: same answer whether it exists elsewhere)."""
    found = await session.scalar(
        select(Afterwork).where(Afterwork.community_id == community_id, Afterwork.id == afterwork_id)
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


async def _people(session: AsyncSession, community_id: int, afterwork_id: int, status: str) -> list[Person]:
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .join(Rsvp, Rsvp.member_id == Member.id)
        .where(Rsvp.community_id == community_id, Rsvp.afterwork_id == afterwork_id, Rsvp.status == status)
        .order_by(Rsvp.position, Rsvp.id)
    )
    return [Person(r[0], r[1], r[2], r[3]) for r in rows]


async def person(session: AsyncSession, community_id: int, member_id: int | None) -> Person | None:
    if member_id is None:
        return None
    row = (
        await session.execute(
            select(Member.id, Member.platform_user_id, Member.display_name, Member.locale).where(
                Member.community_id == community_id, Member.id == member_id
            )
        )
    ).first()
    return Person(row[0], row[1], row[2], row[3]) if row else None


async def load_view(session: AsyncSession, afterwork: Afterwork) -> View:
    cid, aid = afterwork.community_id, afterwork.id
    rows = await session.execute(
        select(Rsvp.status, func.count())
        .where(Rsvp.community_id == cid, Rsvp.afterwork_id == aid)
        .group_by(Rsvp.status)
    )
    counts: dict[str, int] = dict(rows.all())  # type: ignore[arg-type]
    return View(
        afterwork,
        await person(session, cid, afterwork.organizer_id),
        going=await _people(session, cid, aid, GOING),
        maybe=counts.get("maybe", 0),
        cant=counts.get("cant", 0),
        waitlist=await _people(session, cid, aid, WAITLIST),
        series=await get_series(session, cid, afterwork.series_id),
    )


async def get_series(session: AsyncSession, community_id: int, series_id: int | None) -> Series | None:
    if series_id is None:
        return None
    return await session.scalar(
        select(Series).where(Series.community_id == community_id, Series.id == series_id)
    )


async def _lock(session: AsyncSession, community_id: int, afterwork_id: int) -> int:
    """Take this event's turn (the conditional UPDATE every answer starts with); the next click number."""
    seq = await session.scalar(
        update(Afterwork)
        .where(
            Afterwork.community_id == community_id,
            Afterwork.id == afterwork_id,
            Afterwork.status == SCHEDULED,
        )
        .values(rsvp_seq=Afterwork.rsvp_seq + 1)
        .returning(Afterwork.rsvp_seq)
        .execution_options(synchronize_session=False)
    )
    if seq is None:
        raise UserError("afterworks.errors.cancelled")
    return int(seq)


async def _take_seat(session: AsyncSession, afterwork_id: int) -> bool:
    result = await session.execute(
        update(Afterwork)
        .where(
            Afterwork.id == afterwork_id,
            (Afterwork.capacity.is_(None)) | (Afterwork.going_count < Afterwork.capacity),
        )
        .values(going_count=Afterwork.going_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def _free_seat(session: AsyncSession, afterwork_id: int) -> None:
    await session.execute(
        update(Afterwork)
        .where(Afterwork.id == afterwork_id, Afterwork.going_count > 0)
        .values(going_count=Afterwork.going_count - 1)
        .execution_options(synchronize_session=False)
    )


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
    afterwork = await get_afterwork(session, community_id, afterwork_id)
    check_answers_open(afterwork, now, timezone, locale)
    seq = await _lock(session, community_id, afterwork_id)
    rsvp = await session.scalar(
        select(Rsvp).where(
            Rsvp.community_id == community_id, Rsvp.afterwork_id == afterwork_id, Rsvp.member_id == member_id
        )
    )
    old = rsvp.status if rsvp else None
    if old == choice or (choice == GOING and old == WAITLIST):  # a repeated click (or a Slack retry)
        position = await waitlist_position(session, rsvp) if old == WAITLIST and rsvp else None
        return Answered(old, position, False, [])
    new = choice
    if choice == GOING and not await _take_seat(session, afterwork_id):
        new = WAITLIST
    if rsvp is None:
        rsvp = Rsvp(
            community_id=community_id,
            afterwork_id=afterwork_id,
            member_id=member_id,
            status=new,
            position=seq,
            updated_at=now,
        )
        session.add(rsvp)
    else:
        rsvp.status, rsvp.position, rsvp.updated_at = new, seq, now
    await session.flush()
    promoted: list[Person] = []
    if old == GOING:
        await _free_seat(session, afterwork_id)
        promoted = await promote(session, community_id, afterwork_id, now)
    position = await waitlist_position(session, rsvp) if new == WAITLIST else None
    return Answered(new, position, True, promoted)


async def waitlist_position(session: AsyncSession, rsvp: Rsvp) -> int:
    ahead = await session.scalar(
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.afterwork_id == rsvp.afterwork_id, Rsvp.status == WAITLIST, Rsvp.position < rsvp.position)
    )
    return int(ahead or 0) + 1


async def set_capacity(
    session: AsyncSession, afterwork: Afterwork, capacity: int | None, now: datetime
) -> list[Person]:
    """A new capacity: refused below the number going; a higher one promotes from the waitlist."""
    await _lock(session, afterwork.community_id, afterwork.id)
    going = int(await session.scalar(select(Afterwork.going_count).where(Afterwork.id == afterwork.id)) or 0)
    if capacity is not None and capacity < going:
        # A problem of the form's capacity field: shown next to it (Slack inline, Discord in the list).
        raise InvalidInput({"capacity": ("afterworks.errors.capacity_below_going", {"going": going})})
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
    """One job per offset still ahead; the largest offset also posts in the card's channel.

    The dedupe key holds the afterwork's `sequence` (bumped by each edit): a time moved away and back
    plans its reminders again instead of finding the keys of the jobs the first move skipped.
    """
    planned = 0
    first = max(offsets, default=None)
    prefix = _key(afterwork.community_id, afterwork.id)
    for offset in sorted(set(offsets), reverse=True):
        due = afterwork.starts_at - timedelta(minutes=offset)
        if due <= now:
            continue  # answering now is the reminder; a late one would say "in 1 hour" too late
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
    """A privacy deletion: the member's answers go; seats they held go to the waitlist."""
    rows = list(
        await session.scalars(
            select(Rsvp).where(Rsvp.community_id == community_id, Rsvp.member_id == member_id)
        )
    )
    promoted: list[tuple[int, list[Person]]] = []
    for rsvp in rows:
        was_going = rsvp.status == GOING
        await session.execute(delete(Rsvp).where(Rsvp.id == rsvp.id))
        if was_going:
            await _free_seat(session, rsvp.afterwork_id)
            afterwork = await session.get(Afterwork, rsvp.afterwork_id)
            if afterwork is not None and afterwork.status == SCHEDULED and afterwork.starts_at > now:
                promoted.append(
                    (rsvp.afterwork_id, await promote(session, community_id, rsvp.afterwork_id, now))
                )
    return promoted
