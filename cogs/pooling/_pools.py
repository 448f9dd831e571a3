"""The use cases of pooling (run through bot.usecase.run), the platform work after they commit, the jobs.

The decision (happening / failed / cancelled) is one conditional UPDATE of the pool's row; the DMs that
follow are each claimed by a unique delivery row, so each goes out once, whoever runs them (the
deadline job, its retry after a restart, another process, the effect of Close or Cancel).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select

from bot import posting, submissions
from bot.cards import Action, action_id
from bot.errors import UserError
from bot.notifier import Notifier
from bot.outbox import send_dm
from bot.posting import PostOwner, SyncResult, edit_posted, posted, sync_card
from bot.scheduler import JobRun, queue
from bot.usecase import Context, Later
from cogs.pooling._cards import notice_card, pool_card
from cogs.pooling._form import Details, PoolForm, validate
from cogs.pooling._settings import CHANNEL, CURRENCY
from cogs.pooling._store import (
    FEATURE,
    Joined,
    Left,
    Person,
    check_manager,
    check_open,
    current_view,
    decide,
    destinations,
    get_pool,
    join_held,
    leave_held,
    load_view,
    outcome_of,
    people,
    person,
    promote,
)
from cogs.pooling.models import (
    CANCELLED,
    FAILED,
    HAPPENING,
    IN,
    OPEN,
    WAITLIST,
    Pool,
    PoolDelivery,
    PoolMember,
)
from storage.models import Community, Job
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

log = logging.getLogger(__name__)
DECIDE = "pooling.decide"  # at the deadline (or at once after Close / Cancel): decide, then DM once
SYNC = "pooling.sync"  # card and DMs after a change made without a platform at hand (a privacy deletion)
CARD = "pooling.card"  # a card the platform failed to post or edit: bot.posting.retry_later


# -- platform work, after commit -------------------------------------------------------------------


async def publish(services: Services, community_id: int, pool_id: int, channels: list[str] | None, *,
                  retry_later: bool = True) -> SyncResult:
    """Post the card in its channel (`channels`), or edit it where it is (None).

    The card, the community and the card's posts are read in one read transaction. Where the platform
    failed for now (`SyncResult.retrying`), the CARD job tries again a few minutes later
    (`retry_later`), raising while it still fails (the jobs' backoff).
    """
    async with services.db.transaction(write=False) as session:
        pool = await get_pool(session, community_id, pool_id)
        community = await session.get(Community, community_id)
        assert community is not None
        card = pool_card(services.catalog, community.locale, await load_view(session, pool))
        owner = PostOwner(community_id, FEATURE, pool_id, pool.organizer_id)
        posts = await posted(session, owner)
    if channels is None:  # versioned like a Join's edit: an older card still on its way never wins
        result = await edit_posted(services, owner, community.platform, community.external_id, posts, card,
                                   pool.join_seq, retry_later=False)
    else:
        result = await sync_card(services, owner, card, channels,
                                 place=(community.platform, community.external_id), posts=posts)
    if retry_later:
        await posting.retry_later(services, result, CARD, community_id, pool_id,
                                  {"pool_id": pool_id, "channels": channels})
    return result


async def card_job(services: Services, run: JobRun) -> None:
    """The retry of a card the platform failed to post (in `channels`) or edit (`channels` None)."""
    assert run.community_id is not None
    pool_id, channels = int(run.payload["pool_id"]), run.payload.get("channels")
    result = await publish(services, run.community_id, pool_id, channels, retry_later=False)
    if result.retrying:
        raise RuntimeError(f"pool {run.payload['pool_id']}'s card still not posted in {result.retrying}")


def contact(platform: str, community_external_id: str, who: Person) -> str:
    """How to reach a member from a DM: their name and a link to their profile."""
    if platform == "discord":
        return f"{who.name} (https://discord.com/users/{who.user_id})"
    return f"{who.name} (slack://user?team={community_external_id}&id={who.user_id})"


async def _claim(services: Services, pool: Pool, member_id: int, kind: str) -> int | None:
    async with services.db.transaction() as session:
        stmt = dialect_insert(session, PoolDelivery.__table__).values(
            community_id=pool.community_id, pool_id=pool.id, member_id=member_id, kind=kind,
            sent_at=services.clock.now(),
        ).on_conflict_do_nothing()
        return await session.scalar(stmt.returning(PoolDelivery.__table__.c.id))


async def _unclaim(services: Services, delivery_id: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(PoolDelivery).where(PoolDelivery.id == delivery_id))


async def deliver(services: Services, community_id: int, pool_id: int, *, by_moderator: bool = False) -> int:
    """The DMs a decided pool owes, each once; raises after trying all when some failed (to be retried).

    Happening: each participant gets the final price and the organizer's contact, the organizer the
    list. Failed: everyone (participants, waitlist, organizer) is told. Cancelled: participants and
    waitlist are told; cancelled by a moderator (`by_moderator`, not its organizer), they are told so,
    and the organizer is told too.
    """
    async with services.db.transaction(write=False) as session:
        pool = await get_pool(session, community_id, pool_id)
        community = await session.get(Community, community_id)
        assert community is not None
        joined = await people(session, community_id, pool_id, IN)
        waiting = await people(session, community_id, pool_id, WAITLIST)
        organizer = await person(session, community_id, pool.organizer_id)
    notifier = services.notifiers.get(community.platform)
    if pool.status == OPEN:
        return 0
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    base = community.locale
    messages: list[tuple[Person, str, Any]] = []
    if pool.status == HAPPENING:
        reach = contact(community.platform, community.external_id, organizer) if organizer else "—"
        messages += [(p, "outcome", ("happening", {"contact": reach})) for p in joined]
        if organizer is not None:
            names = "\n".join(f"• {p.name}" for p in joined) or "—"
            messages.append((organizer, "summary", ("summary", {"names": names})))
    elif pool.status == CANCELLED and by_moderator:
        told = [p for p in [*joined, *waiting] if organizer is None or p.member_id != organizer.member_id]
        messages += [(p, "outcome", ("cancelled_by_moderator", {})) for p in told]
        if organizer is not None:
            messages.append((organizer, "outcome", ("cancelled_organizer", {})))
    else:
        key = "failed" if pool.status == FAILED else "cancelled"
        told = [*joined, *waiting]
        if pool.status == FAILED and organizer is not None and organizer.member_id not in {
            p.member_id for p in told
        }:
            told.append(organizer)
        messages += [(p, "outcome", (key, {})) for p in told]
    sent = failed = 0
    for who, kind, (key, params) in messages:
        claim = await _claim(services, pool, who.member_id, kind)
        if claim is None:
            continue
        card = notice_card(services.catalog, who.locale or base, key, pool, **params)
        if kind == "summary":  # the organizer's own payment checklist, one click away
            label = services.catalog.t(who.locale or base, "pooling.buttons.payments")
            payments = Action(action_id(FEATURE, "payments", pool.id, 0), label)
            card = dataclasses.replace(card, actions=(payments,))
        try:
            await notifier.dm(community.external_id, who.user_id, card)
            sent += 1
        except Exception:
            log.exception("pool %s: %s DM to member %s failed", pool.id, kind, who.member_id)
            await _unclaim(services, claim)
            failed += 1
    if failed:
        raise RuntimeError(f"{failed} DM(s) about pool {pool.id} not sent")
    return sent


async def tell(services: Services, community_id: int, pool_id: int, told: list[Person], key: str) -> int:
    """DM each of `told` a notice about this pool (a promotion from the waitlist)."""
    async with services.db.transaction(write=False) as session:
        pool = await get_pool(session, community_id, pool_id)
        community = await session.get(Community, community_id)
        assert community is not None
    if community.platform not in services.notifiers:
        return 0
    sent = 0
    for who in told:  # a platform failure keeps the DM in the outbox: the others are still told
        card = notice_card(services.catalog, who.locale or community.locale, key, pool)
        sent += await send_dm(services, community, who.member_id, who.user_id, card, about=())  # names nobody
    return sent


# -- use cases ------------------------------------------------------------------------------------


async def where_options(ctx: Context) -> list[tuple[str, str | None, str]]:
    """Where the caller may post a pool: (value, trade name or None for the pooling channel, channel)."""
    return await destinations(ctx.session, ctx.community_id, await ctx.setting(CHANNEL))


async def _resolve(ctx: Context, where: str) -> str:
    options = await where_options(ctx)
    if not options:
        raise UserError("pooling.errors.no_channel")
    chosen = options[0] if not where else next((o for o in options if o[0] == where), None)
    if chosen is None:
        raise UserError("pooling.errors.where_unknown")
    return chosen[2]


@dataclass(frozen=True)
class Checked:
    details: Details
    channel_id: str


async def check_pool(ctx: Context, form: PoolForm) -> Checked:
    """Read the form and where it goes (InvalidInput naming every problem); run with write=False first."""
    details = validate(form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale)
    return Checked(details, await _resolve(ctx, form.where))


@dataclass(frozen=True)
class Created:
    pool_id: int
    channel_id: str
    later: Later[SyncResult]

    @property
    def posted(self) -> bool:
        return self.later.value is not None and bool(self.later.value.posted)

    @property
    def retrying(self) -> bool:
        """Not posted because the platform failed for now: the CARD job posts it later."""
        return self.later.value is not None and bool(self.later.value.retrying)


async def create_pool(ctx: Context, form: PoolForm, *, submission: str | None = None) -> Created:
    """Save and plan the deadline; once committed, post the card.

    `submission`: the form's key (bot.submissions); the same form submitted again creates nothing.
    """
    checked = await check_pool(ctx, form)
    details, now = checked.details, ctx.clock.now()
    pool = Pool(
        community_id=ctx.community_id, organizer_id=ctx.caller.member_id, title=details.title,
        what=details.what, link=details.link, tiers=[list(t) for t in details.tiers],
        currency=await ctx.setting(CURRENCY), minimum=details.minimum, maximum=details.maximum,
        deadline=details.deadline, channel_id=checked.channel_id, status=OPEN, participant_count=0,
        join_seq=0, created_at=now,
    )
    ctx.session.add(pool)
    await ctx.session.flush()
    await submissions.claim(ctx, submission, "pooling.pool", pool.id)
    await ctx.scheduler.schedule(
        ctx.session, kind=DECIDE, due_at=details.deadline, community_id=ctx.community_id,
        payload={"pool_id": pool.id}, dedupe_key=f"{DECIDE}:{ctx.community_id}:{pool.id}",
    )
    services, cid, pid, channel = ctx.services, ctx.community_id, pool.id, checked.channel_id

    async def post(_notifier: Notifier | None) -> SyncResult:
        return await publish(services, cid, pid, [channel])

    return Created(pid, channel, ctx.after_commit(post))


def _refresh(ctx: Context, pool_id: int, promoted: list[Person] | None = None, *, card: bool = True) -> None:
    services, cid = ctx.services, ctx.community_id

    async def refresh(_notifier: Notifier | None) -> SyncResult:
        return await publish(services, cid, pool_id, None)

    if card:
        ctx.after_commit(refresh)
    if promoted:

        async def promotion(_notifier: Notifier | None) -> int:
            return await tell(services, cid, pool_id, promoted, "promoted")

        ctx.after_commit(promotion)


async def check_answer(ctx: Context, pool_id: int) -> None:
    """Read-only: the pool exists here and still takes Join / Leave (before the platform is answered)."""
    check_open(await get_pool(ctx.session, ctx.community_id, pool_id), ctx.clock.now())


async def join_pool(ctx: Context, pool_id: int) -> Joined:
    member_id, now = ctx.caller.member_id, ctx.clock.now()
    joined, pool = await join_held(ctx.session, ctx.community_id, pool_id, member_id, now)
    if joined.changed:
        await _edit_card(ctx, pool)
    return joined


async def leave_pool(ctx: Context, pool_id: int) -> Left:
    member_id, now = ctx.caller.member_id, ctx.clock.now()
    left, pool = await leave_held(ctx.session, ctx.community_id, pool_id, member_id, now)
    if left.changed:
        await _edit_card(ctx, pool)
        _refresh(ctx, pool_id, left.promoted, card=False)
    return left


async def _edit_card(ctx: Context, pool: Pool) -> None:
    """After a Join / Leave, the card's view and its posts, read in this transaction.

    Once committed, the card is rendered and edited by its known message ids, versioned by `join_seq`
    (a decision bumps it too); only once the edit went out is the pool's status read again, to draw
    the decided card back should this edit have landed after it.
    """
    owner = PostOwner(ctx.community_id, FEATURE, pool.id, pool.organizer_id)
    view = await current_view(ctx.session, pool)
    posts = await posted(ctx.session, owner)
    version = pool.join_seq  # every Join / Leave bumps it: the newest card wins in this process
    services, caller = ctx.services, ctx.caller
    locale, platform, external_id = caller.community_locale, caller.platform, caller.community_external_id

    async def card(_notifier: Notifier | None) -> SyncResult:
        shown = pool_card(services.catalog, locale, view)
        result = await edit_posted(services, owner, platform, external_id, posts, shown, version)
        if result.edited and not await _still_open(services, owner.community_id, owner.object_id):
            # Decided (Close now, Cancel, the deadline) while this card was on its way, maybe by another
            # process: it may have landed over the decided card, which nothing would edit again.
            return await publish(services, owner.community_id, owner.object_id, None)
        return result

    ctx.after_commit(card)


@functools.cache
def _status_query() -> Any:
    return select(Pool.status).where(Pool.community_id == bindparam("community_id"),
                                     Pool.id == bindparam("pool_id"))


async def _still_open(services: Services, community_id: int, pool_id: int) -> bool:
    async with services.db.transaction(write=False) as session:
        status = await session.scalar(_status_query(), {"community_id": community_id, "pool_id": pool_id})
    return status == OPEN


async def check_manage(ctx: Context, pool_id: int) -> Pool:
    """Read-only: the caller organizes the pool (or moderates) and it is still open."""
    pool = await get_pool(ctx.session, ctx.community_id, pool_id)
    check_manager(pool, ctx.caller.member_id, ctx.caller.is_moderator)
    check_open(pool, ctx.clock.now())
    return pool


async def _decided(ctx: Context, pool: Pool, status: str) -> None:
    """The decision stored; the deadline job gives way to one due now that delivers the DMs (once).

    A Cancel by a moderator who does not organize it says so in its job's payload (`by`): its DMs, sent
    by the effect or by the job, tell who cancelled it, and the organizer.
    """
    now = ctx.clock.now()
    by_moderator = status == CANCELLED and pool.organizer_id != ctx.caller.member_id
    if not await decide(ctx.session, ctx.community_id, pool.id, status, now):
        if status == HAPPENING and await outcome_of(ctx.session, ctx.community_id, pool.id) == FAILED:
            raise UserError("pooling.errors.minimum_not_reached", minimum=pool.minimum, count=pool.minimum)
        raise UserError("pooling.errors.closed")
    await ctx.scheduler.cancel(ctx.session, dedupe_key=f"{DECIDE}:{ctx.community_id}:{pool.id}",
                               community_id=ctx.community_id)
    payload: dict[str, Any] = {"pool_id": pool.id, **({"by": "moderator"} if by_moderator else {})}
    await ctx.scheduler.schedule(
        ctx.session, kind=DECIDE, due_at=now, community_id=ctx.community_id, payload=payload,
        dedupe_key=f"{DECIDE}:{ctx.community_id}:{pool.id}:{status}",
    )
    services, cid, pid = ctx.services, ctx.community_id, pool.id
    _refresh(ctx, pid)

    async def dms(_notifier: Notifier | None) -> int:
        return await deliver(services, cid, pid, by_moderator=by_moderator)

    ctx.after_commit(dms)


async def check_close(ctx: Context, pool_id: int) -> Pool:
    """Read-only: the caller manages the pool, and its minimum is reached (closing early makes it happen)."""
    pool = await check_manage(ctx, pool_id)
    if await outcome_of(ctx.session, ctx.community_id, pool_id) != HAPPENING:
        raise UserError("pooling.errors.minimum_not_reached", minimum=pool.minimum, count=pool.minimum)
    return pool


async def close_pool(ctx: Context, pool_id: int) -> Pool:
    """Close early: it happens now, at the current price, if the minimum is reached."""
    pool = await check_close(ctx, pool_id)
    await _decided(ctx, pool, HAPPENING)
    return pool


async def cancel_pool(ctx: Context, pool_id: int) -> Pool:
    """Cancelled by its organizer (or a moderator): the card says so, everyone in or waiting is told.

    Cancelled by a moderator who does not organize it: the organizer is told too (`deliver`).
    """
    pool = await check_manage(ctx, pool_id)
    await _decided(ctx, pool, CANCELLED)
    return pool


def cancelled_key(pool: Pool, member_id: int) -> str:
    """The answer to a Cancel: by someone else than its organizer (a moderator), the organizer is told too."""
    told_organizer = pool.organizer_id is not None and pool.organizer_id != member_id
    return "pooling.cancelled.done_moderator" if told_organizer else "pooling.cancelled.done"


# -- jobs -----------------------------------------------------------------------------------------


async def decide_job(services: Services, run: JobRun) -> None:
    """At the deadline: happening or failed, decided once; then the card and the DMs (each once)."""
    assert run.community_id is not None
    cid, pid = run.community_id, int(run.payload["pool_id"])
    now = services.clock.now()
    async with services.db.transaction() as session:
        pool = await session.scalar(select(Pool).where(Pool.community_id == cid, Pool.id == pid))
        if pool is None:
            return
        for _ in range(2 if pool.status == OPEN and now >= pool.deadline else 0):
            if await decide(session, cid, pid, await outcome_of(session, cid, pid), now):
                break  # else a Join or Leave changed the outcome since it was read: read it again
    await publish(services, cid, pid, None)
    await deliver(services, cid, pid, by_moderator=run.payload.get("by") == "moderator")


async def sync_job(services: Services, run: JobRun) -> None:
    """The card and the promotions after a privacy deletion (queued where no platform was at hand)."""
    assert run.community_id is not None
    cid, pid = run.community_id, int(run.payload["pool_id"])
    async with services.db.transaction(write=False) as session:
        promoted = [p for p in [await person(session, cid, m) for m in run.payload.get("promoted", [])] if p]
    await publish(services, cid, pid, None)
    if promoted:
        await tell(services, cid, pid, promoted, "promoted")


def register_jobs(services: Services) -> None:
    services.scheduler.register(DECIDE, functools.partial(decide_job, services), max_lateness=None)
    services.scheduler.register(SYNC, functools.partial(sync_job, services), max_lateness=timedelta(days=1))
    services.scheduler.register(CARD, functools.partial(card_job, services), max_lateness=timedelta(days=1),
                                retry_delay=posting.RETRY_AFTER)
    posting.retry_edits(services, FEATURE, CARD, lambda pool_id: {"pool_id": pool_id, "channels": None})


async def on_start(services: Services) -> None:
    register_jobs(services)


# -- privacy --------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    joined = await session.execute(
        select(PoolMember.pool_id, Pool.title, PoolMember.status, PoolMember.joined_at, PoolMember.paid_at)
        .join(Pool, Pool.id == PoolMember.pool_id)
        .where(PoolMember.community_id == community_id, PoolMember.member_id == member_id)
        .order_by(PoolMember.id)
    )
    organized = await session.scalars(
        select(Pool)
        .where(Pool.community_id == community_id, Pool.organizer_id == member_id)
        .order_by(Pool.id)
    )
    told = await session.execute(
        select(PoolDelivery.pool_id, PoolDelivery.kind, PoolDelivery.sent_at)
        .where(PoolDelivery.community_id == community_id, PoolDelivery.member_id == member_id)
        .order_by(PoolDelivery.id)
    )
    return {
        "joined": [
            {"pool_id": p, "title": t, "status": s, "joined_at": j.isoformat(),
             "paid_at": paid.isoformat() if paid else None}
            for p, t, s, j, paid in joined
        ],
        "organized": [
            {"id": p.id, "title": p.title, "what": p.what, "link": p.link, "tiers": p.tiers,
             "currency": p.currency, "minimum": p.minimum, "maximum": p.maximum,
             "deadline": p.deadline.isoformat(), "status": p.status,
             "payment_reminder_at": p.payment_reminder_at.isoformat() if p.payment_reminder_at else None}
            for p in organized
        ],
        "messages": [{"pool_id": p, "kind": k, "sent_at": s.isoformat()} for p, k, s in told],
    }


def _queue(session: AsyncSession, kind: str, community_id: int, pool_id: int, now: datetime,
           **payload: Any) -> None:
    queue(session, kind, community_id, {"pool_id": pool_id, **payload}, due_at=now)


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Their places go: a seat freed goes to the waitlist, every card they were on is redrawn.

    Open or decided, a card never names a member who deleted their data; their open pools are
    cancelled, with a notice.
    """
    from bot.clock import SystemClock

    now = SystemClock().now()
    entries = list(await session.scalars(
        select(PoolMember).where(PoolMember.community_id == community_id, PoolMember.member_id == member_id)
    ))
    for entry in entries:
        await session.execute(delete(PoolMember).where(PoolMember.id == entry.id))
        pool = await session.get(Pool, entry.pool_id)
        if pool is None:
            continue
        promoted: list[Person] = []
        if pool.status == OPEN and entry.status == IN:  # a seat freed only matters while open
            await session.execute(
                Pool.__table__.update().where(Pool.id == pool.id, Pool.participant_count > 0)
                .values(participant_count=Pool.participant_count - 1)
            )
            promoted = await promote(session, community_id, pool.id)
        _queue(session, SYNC, community_id, pool.id, now, promoted=[p.member_id for p in promoted])
    await session.execute(
        delete(PoolDelivery)
        .where(PoolDelivery.community_id == community_id, PoolDelivery.member_id == member_id)
    )
    organized = list(await session.scalars(
        select(Pool).where(Pool.community_id == community_id, Pool.organizer_id == member_id)
    ))
    for pool in organized:
        if pool.status == OPEN and await decide(session, community_id, pool.id, CANCELLED, now):
            await session.execute(
                Job.__table__.update()
                .where(Job.community_id == community_id, Job.kind == DECIDE, Job.state == "pending",
                       Job.dedupe_key == f"{DECIDE}:{community_id}:{pool.id}")
                .values(state="skipped", finished_at=now)
            )
            _queue(session, DECIDE, community_id, pool.id, now)
        pool.organizer_id = None
