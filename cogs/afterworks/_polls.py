"""Date polls: up to 5 slots proposed, ticked by members, the winning one turned into the afterwork.

The organizer proposes the slots (typed as the afterwork's "when"), members tick those they can make,
the organizer (or a moderator) turns the winning slot into the afterwork in one click.

A tick is a row under a unique (slot, member) key: a double click or two at once count once, and a
second click takes the tick back. Picking is a conditional UPDATE of the poll (open -> decided), so
two clicks on two slots create one afterwork.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from bot import posting, submissions
from bot.cards import Action, Card, Field, action_id, truncate, when
from bot.errors import InvalidInput, NotFound, UserError
from bot.i18n import Catalog
from bot.posting import PostOwner, SyncResult, posted, sync_card
from bot.scheduler import queue
from bot.usecase import Context, Later
from cogs.afterworks import _publish as publish
from cogs.afterworks._cards import COLOR, where_text
from cogs.afterworks._domain import NAMES_SHOWN, Person
from cogs.afterworks._form import AfterworkForm, read_when, validate, wall_words
from cogs.afterworks._publish import Created, create_afterwork, tell
from cogs.afterworks.models import CANCELLED, DECIDED, OPEN, Poll, PollSlot, PollVote
from storage.models import Community, Member
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.notifier import Notifier
    from bot.scheduler import JobRun
    from bot.services import Services

POSTS = "afterworks.poll"  # the poll cards' owner in the posts table (afterworks' own ids are others)
MAX_SLOTS = 5
SLOTS = tuple(f"slot{n}" for n in range(1, MAX_SLOTS + 1))
DETAILS = ("title", "duration", "kind", "where", "city", "capacity", "description", "cutoff")


@dataclass
class PollForm:
    """What the organizer typed: the afterwork's details, and its possible times (empty: not used)."""

    title: str = ""
    slot1: str = ""
    slot2: str = ""
    slot3: str = ""
    slot4: str = ""
    slot5: str = ""
    duration: str = "120"
    kind: str = "afterwork"
    where: str = ""
    city: str = ""
    capacity: str = ""
    description: str = ""
    cutoff: str = ""

    def afterwork(self, when: str) -> AfterworkForm:
        return AfterworkForm(when=when, **{name: getattr(self, name) for name in DETAILS})


@dataclass(frozen=True)
class ReadPoll:
    form: PollForm
    slots: list[tuple[datetime, datetime]]  # (UTC, local wall time), as proposed
    understood: str


def read_poll(catalog: Catalog, form: PollForm, timezone: str, now: datetime, locale: str) -> ReadPoll:
    """The poll read, or InvalidInput naming each field to fix.

    Every slot is read as the afterwork's "when" (future, an existing local time, its answers' cutoff
    still to come, so that choosing it works); at least 2, none twice; the other fields are checked as
    the afterwork form checks them.
    """
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    typed = [(name, getattr(form, name).strip()) for name in SLOTS if getattr(form, name).strip()]
    try:
        validate(form.afterwork(typed[0][1] if typed else ""), timezone, now, locale)
    except InvalidInput as error:
        problems.update({k: v for k, v in error.problems.items() if k != "when"})
    slots: list[tuple[datetime, datetime]] = []
    for name, text in typed:
        try:
            starts_at, wall = read_when(text, timezone, now, locale)
        except InvalidInput as error:
            problems[name] = error.problems["when"]
            continue
        if any(starts_at == s for s, _ in slots):
            problems[name] = ("afterworks.problems.slot_twice", wall_words(wall, timezone, locale))
            continue
        if name != typed[0][0] and "cutoff" not in problems:
            # Each slot must be one the organizer can choose: its answers' cutoff not passed already.
            try:
                validate(form.afterwork(text), timezone, now, locale)
            except InvalidInput as error:
                if "cutoff" in error.problems:
                    problems[name] = error.problems["cutoff"]
                    continue
        slots.append((starts_at, wall))
    if len(typed) < 2:
        problems["slot2" if typed else "slot1"] = ("afterworks.problems.slots_missing", {})
    if problems:
        raise InvalidInput(problems)
    t = catalog.t
    lines = [t(locale, "afterworks.poll.understood", title=" ".join(form.title.split()))]
    for n, (_, wall) in enumerate(slots, 1):
        lines.append(t(locale, "afterworks.poll.understood_slot", n=n, **wall_words(wall, timezone, locale)))
    return ReadPoll(form, slots, "\n".join(lines))


async def check_poll(ctx: Context, form: PollForm) -> ReadPoll:
    """Read-only: the poll as understood, or InvalidInput."""
    return read_poll(ctx.catalog, form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale)


@dataclass(frozen=True)
class CreatedPoll:
    poll_id: int
    channel_id: str | None
    understood: str
    later: Later[SyncResult]

    @property
    def posted(self) -> bool:
        return self.later.value is not None and bool(self.later.value.posted)

    @property
    def retrying(self) -> bool:
        """Not posted because the platform failed for now: the POLL_CARD job posts it later."""
        return self.later.value is not None and bool(self.later.value.retrying)


async def create_poll(ctx: Context, form: PollForm, *, origin_channel_id: str | None,
                      submission: str | None = None) -> CreatedPoll:
    """Save the poll and its slots; once committed, post its card in the afterworks channel.

    `submission`: the form's key (bot.submissions); the same form submitted again creates nothing.
    """
    read = read_poll(ctx.catalog, form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale)
    settings = await ctx.settings()
    channel = settings.afterworks_channel_id or origin_channel_id
    if not channel:  # asked from a private place (Slack's DM with the app) and no channel set
        raise UserError("afterworks.errors.nowhere")
    poll = Poll(
        community_id=ctx.community_id,
        organizer_id=ctx.caller.member_id,
        title=" ".join(form.title.split()),
        details={name: getattr(form, name) for name in DETAILS},
        status=OPEN,
        origin_channel_id=origin_channel_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(poll)
    await ctx.session.flush()
    await submissions.claim(ctx, submission, "afterworks.poll", poll.id)
    for n, (starts_at, _) in enumerate(read.slots, 1):
        ctx.session.add(
            PollSlot(community_id=ctx.community_id, poll_id=poll.id, position=n, starts_at=starts_at)
        )
    await ctx.session.flush()
    services, cid, pid = ctx.services, ctx.community_id, poll.id

    async def post(_notifier: Notifier | None) -> SyncResult:
        return await refresh_poll(services, cid, pid, channel)

    return CreatedPoll(pid, channel, read.understood, ctx.after_commit(post))


async def _slot(session: AsyncSession, community_id: int, slot_id: int) -> tuple[PollSlot, Poll]:
    row = (
        await session.execute(
            select(PollSlot, Poll)
            .join(Poll, Poll.id == PollSlot.poll_id)
            .where(
                PollSlot.community_id == community_id,
                PollSlot.id == slot_id,
                Poll.community_id == community_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("afterworks.errors.poll_not_found")
    return row[0], row[1]


def _closed(status: str) -> UserError:
    """Why a poll no longer takes ticks: a date was chosen, or none and it was cancelled.

    A poll is cancelled when its organizer's data is deleted.
    """
    return UserError(f"afterworks.errors.{'poll_cancelled' if status == CANCELLED else 'poll_closed'}")


def _check_open(poll: Poll, slot: PollSlot, now: datetime) -> None:
    if poll.status != OPEN:
        raise _closed(poll.status)
    if slot.starts_at <= now:
        raise UserError("afterworks.errors.slot_past")


@dataclass(frozen=True)
class Ticked:
    can: bool  # the member's tick now (False: taken back)
    position: int


async def check_vote(ctx: Context, slot_id: int) -> None:
    """Read-only: the slot exists here and its poll still takes ticks."""
    slot, poll = await _slot(ctx.session, ctx.community_id, slot_id)
    _check_open(poll, slot, ctx.clock.now())


async def vote(ctx: Context, slot_id: int) -> Ticked:
    """Tick a slot, or take the tick back: the unique (slot, member) key settles it."""
    slot, poll = await _slot(ctx.session, ctx.community_id, slot_id)
    now = ctx.clock.now()
    _check_open(poll, slot, now)
    table = PollVote.__table__
    added = await ctx.session.scalar(
        dialect_insert(ctx.session, table)
        .values(
            community_id=ctx.community_id,
            poll_id=poll.id,
            slot_id=slot.id,
            member_id=ctx.caller.member_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    if added is None:
        await ctx.session.execute(
            delete(PollVote).where(
                PollVote.community_id == ctx.community_id,
                PollVote.slot_id == slot.id,
                PollVote.member_id == ctx.caller.member_id,
            )
        )
    services, cid, pid = ctx.services, ctx.community_id, poll.id

    async def card(_notifier: Notifier | None) -> SyncResult:
        return await refresh_poll(services, cid, pid, None)

    ctx.after_commit(card)
    return Ticked(added is not None, slot.position)


@dataclass(frozen=True)
class Picked:
    afterwork_id: int
    position: int
    created: Created


async def pick(ctx: Context, slot_id: int) -> Picked:
    """The organizer (or a moderator) turns a slot into the afterwork.

    It is created as /afterwork would, its organizer the poll's; those who ticked that slot are told
    by DM; the poll card shows the choice and its buttons go.
    """
    slot, poll = await _slot(ctx.session, ctx.community_id, slot_id)
    if poll.organizer_id != ctx.caller.member_id and not ctx.caller.is_moderator:
        raise UserError("afterworks.errors.not_organizer")
    _check_open(poll, slot, ctx.clock.now())
    decided = await ctx.session.execute(
        update(Poll)
        .where(Poll.community_id == ctx.community_id, Poll.id == poll.id, Poll.status == OPEN)
        .values(status=DECIDED, chosen_slot_id=slot.id)
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]  # chosen or cancelled meanwhile
        status = await ctx.session.scalar(
            select(Poll.status).where(Poll.community_id == ctx.community_id, Poll.id == poll.id)
        )
        raise _closed(status or DECIDED)
    local = slot.starts_at.astimezone(ZoneInfo(ctx.caller.timezone))
    details = {k: v for k, v in (poll.details or {}).items() if k in DETAILS and isinstance(v, str)}
    form = PollForm(**details).afterwork(f"{local:%Y-%m-%d %H:%M}")
    created = await create_afterwork(
        ctx, form, origin_channel_id=poll.origin_channel_id, organizer_id=poll.organizer_id,
        slot_start=slot.starts_at,
    )
    await ctx.session.execute(
        update(Poll)
        .where(Poll.id == poll.id)
        .values(afterwork_id=created.afterwork_id)
        .execution_options(synchronize_session=False)
    )
    voters = [
        Person(*row)
        for row in await ctx.session.execute(
            select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
            .join(PollVote, PollVote.member_id == Member.id)
            .where(
                PollVote.community_id == ctx.community_id,
                PollVote.slot_id == slot.id,
                Member.id != ctx.caller.member_id,
            )
            .order_by(PollVote.id)
        )
    ]
    services, cid, pid, aid = ctx.services, ctx.community_id, poll.id, created.afterwork_id

    async def card(_notifier: Notifier | None) -> SyncResult:
        return await refresh_poll(services, cid, pid, None)

    async def told(_notifier: Notifier | None) -> int:
        return await tell(services, cid, aid, voters, "poll_decided")

    ctx.after_commit(card)
    ctx.after_commit(told)
    return Picked(created.afterwork_id, slot.position, created)


# -- the card ---------------------------------------------------------------------------------------


async def refresh_poll(
    services: Services, community_id: int, poll_id: int, channel_id: str | None, *, retry_later: bool = True
) -> SyncResult:
    """Post (with a channel) or edit the poll's card.

    Where the platform failed for now (`SyncResult.retrying`), the POLL_CARD job does it again a few
    minutes later (`retry_later`): a poll without its card cannot be ticked.
    """
    async with services.db.transaction(write=False) as session:
        poll = await session.scalar(select(Poll).where(Poll.community_id == community_id, Poll.id == poll_id))
        if poll is None:
            return SyncResult()
        community = await session.get(Community, community_id)
        assert community is not None
        slots = list(
            await session.scalars(
                select(PollSlot).where(PollSlot.poll_id == poll.id).order_by(PollSlot.position)
            )
        )
        names: dict[int, list[str]] = {s.id: [] for s in slots}
        rows = await session.execute(
            select(PollVote.slot_id, Member.display_name)
            .join(Member, Member.id == PollVote.member_id)
            .where(PollVote.community_id == community_id, PollVote.poll_id == poll.id)
            .order_by(PollVote.id)
        )
        for slot_id, name in rows:
            names[slot_id].append(name)
        organizer = await session.scalar(select(Member.display_name).where(Member.id == poll.organizer_id))
        owner = PostOwner(community_id, POSTS, poll_id, poll.organizer_id)
        posts = await posted(session, owner)
    card = poll_card(services.catalog, community.locale, poll, slots, names, organizer)
    result = await sync_card(
        services, owner, card, [channel_id] if channel_id else None,
        place=(community.platform, community.external_id), posts=posts,
    )
    if retry_later:
        await posting.retry_later(services, result, POLL_CARD, community_id, poll_id,
                                  {"poll_id": poll_id, "channel": channel_id})
    return result


def poll_card(
    catalog: Catalog,
    locale: str,
    poll: Poll,
    slots: list[PollSlot],
    names: dict[int, list[str]],
    organizer: str | None,
) -> Card:
    t = catalog.t
    details = poll.details or {}
    where = where_text(_Where(str(details.get("where", "")), str(details.get("city", ""))))
    fields = []
    for slot in slots:
        who = names.get(slot.id, [])
        shown = ", ".join(who[:NAMES_SHOWN]) + (
            " " + t(locale, "afterworks.card.and_more", count=len(who) - NAMES_SHOWN)
            if len(who) > NAMES_SHOWN
            else ""
        )
        chosen = " ✅" if slot.id == poll.chosen_slot_id else ""
        fields.append(
            Field(
                t(locale, "afterworks.poll.slot", n=slot.position) + chosen,
                f"{when(slot.starts_at, 'full')} — {t(locale, 'afterworks.poll.can', count=len(who))}"
                + (f" : {shown}" if who else ""),
            )
        )
    fields.append(Field(t(locale, "afterworks.fields.where"), truncate(where or "—", 1024)))
    if organizer:
        fields.append(Field(t(locale, "afterworks.fields.organizer"), organizer, inline=True))
    actions: tuple[Action, ...] = ()
    if poll.status == OPEN:
        actions = tuple(
            Action(action_id("afterworks", "vote", s.id), t(locale, "afterworks.poll.tick", n=s.position))
            for s in slots
        ) + tuple(
            Action(
                action_id("afterworks", "pick", s.id),
                t(locale, "afterworks.poll.pick", n=s.position),
                "success",
            )
            for s in slots
        )
    closed = "afterworks.poll.cancelled" if poll.status == CANCELLED else "afterworks.poll.decided"
    text = t(locale, "afterworks.poll.how" if poll.status == OPEN else closed)
    description = str(details.get("description", ""))
    return Card(
        title=t(locale, "afterworks.poll.title", title=poll.title),
        text=truncate("\n\n".join(p for p in (description, text) if p), 3000),
        fields=tuple(fields),
        actions=actions,
        color=COLOR,
    )


@dataclass(frozen=True)
class _Where:
    where: str
    city: str

    @property
    def place(self) -> str:
        return "" if self.where.lower().startswith(("http://", "https://")) else self.where

    @property
    def link(self) -> str:
        return self.where if not self.place else ""


# -- privacy ----------------------------------------------------------------------------------------


async def export_polls(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    ticks = await session.execute(
        select(Poll.id, Poll.title, PollSlot.starts_at)
        .join(PollSlot, PollSlot.poll_id == Poll.id)
        .join(PollVote, PollVote.slot_id == PollSlot.id)
        .where(PollVote.community_id == community_id, PollVote.member_id == member_id)
        .order_by(PollVote.id)
    )
    organized = await session.scalars(
        select(Poll)
        .where(Poll.community_id == community_id, Poll.organizer_id == member_id)
        .order_by(Poll.id)
    )
    return {
        "poll_ticks": [{"poll_id": p, "title": t, "slot": s.isoformat()} for p, t, s in ticks],
        "polls": [
            {"id": p.id, "title": p.title, "status": p.status, "details": p.details} for p in organized
        ],
    }


async def delete_polls(session: AsyncSession, community_id: int, member_id: int) -> list[int]:
    """Their ticks go; their open polls close, anonymous. The polls whose card must change."""
    touched = set(
        await session.scalars(
            select(PollVote.poll_id).where(
                PollVote.community_id == community_id, PollVote.member_id == member_id
            )
        )
    )
    await session.execute(
        delete(PollVote).where(PollVote.community_id == community_id, PollVote.member_id == member_id)
    )
    organized = set(
        await session.scalars(
            select(Poll.id).where(Poll.community_id == community_id, Poll.organizer_id == member_id)
        )
    )
    await session.execute(
        update(Poll)
        .where(Poll.community_id == community_id, Poll.organizer_id == member_id, Poll.status == OPEN)
        .values(status=CANCELLED)
    )
    await session.execute(
        update(Poll)
        .where(Poll.community_id == community_id, Poll.organizer_id == member_id)
        .values(organizer_id=None, details={})
    )
    return sorted(touched | organized)


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """Everything afterworks hold about a member: answers, events, series, preference, polls, ticks."""
    return {
        **await publish.export_member(session, community_id, member_id),
        **await export_polls(session, community_id, member_id),
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """As publish.delete_member, and their ticks and polls; the poll cards follow (a SYNC job each)."""
    await publish.delete_member(session, community_id, member_id)
    now = datetime.now(UTC)
    for poll_id in await delete_polls(session, community_id, member_id):
        queue(session, POLL_SYNC, community_id, {"poll_id": poll_id}, due_at=now)


POLL_SYNC = "afterworks.poll_sync"  # a poll's card after a privacy deletion (no platform at hand)
POLL_CARD = "afterworks.poll_card"  # a poll's card the platform failed to post or edit (a 5xx)


async def poll_sync_job(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await refresh_poll(services, run.community_id, int(run.payload["poll_id"]), None)


async def poll_card_job(services: Services, run: JobRun) -> None:
    """The retry of a poll card the platform failed to post (in `channel`) or edit; raises while it fails."""
    assert run.community_id is not None
    channel = run.payload.get("channel")
    result = await refresh_poll(services, run.community_id, int(run.payload["poll_id"]),
                                str(channel) if channel else None, retry_later=False)
    if result.retrying:
        raise RuntimeError(f"poll {run.payload['poll_id']}'s card still not posted in {result.retrying}")


def register_jobs(services: Services) -> None:
    """Every job kind of the feature: the afterworks' and the polls'."""
    publish.register_jobs(services)
    services.scheduler.register(POLL_SYNC, functools.partial(poll_sync_job, services),
                                max_lateness=timedelta(days=1))
    services.scheduler.register(POLL_CARD, functools.partial(poll_card_job, services),
                                max_lateness=timedelta(days=1), retry_delay=posting.RETRY_AFTER)


async def on_start(services: Services) -> None:
    register_jobs(services)
