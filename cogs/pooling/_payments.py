"""Payments after a group purchase happened: the organizer ticks who has paid, and may remind once.

Collectif moves no money: this is the organizer's own checklist. Who has paid is shown to the
organizer (and moderators) only, in an ephemeral card; the one reminder is claimed by a conditional
UPDATE of the pool (`payment_reminder_at`), and each reminder DM by a unique delivery row, so a double
click, a retry or a second process never sends it twice.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from sqlalchemy import exists, select, update

from bot.cards import Card
from bot.errors import UserError
from bot.notifier import Notifier
from bot.scheduler import JobRun
from bot.text import is_number
from bot.usecase import Context
from cogs.pooling._cards import PAGE, notice_card, payments_card
from cogs.pooling._pools import _claim, _unclaim, contact
from cogs.pooling._store import Payer, Person, check_manager, get_pool, person
from cogs.pooling.models import HAPPENING, IN, Pool, PoolMember
from storage.models import Community, Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

log = logging.getLogger(__name__)
REMIND = "pooling.remind_unpaid"  # the one reminder to those who have not paid, each DM once
PAGES_MAX = 40  # 40 pages of 25: the 1000 people a pool may hold


async def _rows(session: AsyncSession, community_id: int, pool_id: int) -> list[Payer]:
    """The participants who owe the organizer, in order, each with whether they are ticked as paid.

    An organizer who joined their own purchase collects the money: not on their own list.
    """
    organizer = exists().where(Pool.id == pool_id, Pool.organizer_id == PoolMember.member_id)
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale, PoolMember.paid_at,
               PoolMember.position)
        .join(PoolMember, PoolMember.member_id == Member.id)
        .where(PoolMember.community_id == community_id, PoolMember.pool_id == pool_id,
               PoolMember.status == IN, ~organizer)
        .order_by(PoolMember.position, PoolMember.id)
    )
    return [Payer(Person(r[0], r[1], r[2], r[3]), r[4] is not None, r[5]) for r in rows]


async def _managed(ctx: Context, pool_id: int) -> Pool:
    """The pool, if the caller organizes it (or moderates) and it happened."""
    pool = await get_pool(ctx.session, ctx.community_id, pool_id)
    check_manager(pool, ctx.caller.member_id, ctx.caller.is_moderator)
    if pool.status != HAPPENING:
        raise UserError("pooling.errors.not_happening")
    return pool


async def show_payments(ctx: Context, pool_id: int, page: int = 0) -> Card:
    """Read-only: the organizer's private payment list (a page of 25)."""
    pool = await _managed(ctx, pool_id)
    rows = await _rows(ctx.session, ctx.community_id, pool_id)
    return payments_card(ctx.catalog, ctx.caller.locale, pool, rows, min(page, PAGES_MAX),
                         timezone=ctx.caller.timezone)


async def mark_paid(ctx: Context, pool_id: int, page: int, chosen: list[str],
                    shown: tuple[int, int] | None = None) -> Card:
    """On this page, the chosen participants have paid and the others not; an id not there changes nothing.

    The page is the participants its select showed (`shown`, first and last join positions), whoever
    left the list since; a select without them (an older version's) is the page as it is now.
    """
    pool = await _managed(ctx, pool_id)
    page = min(max(page, 0), PAGES_MAX)
    rows = await _rows(ctx.session, ctx.community_id, pool_id)
    on_screen = rows[page * PAGE:(page + 1) * PAGE]
    if shown is not None:
        on_screen = [row for row in rows if shown[0] <= row.position <= shown[1]][:PAGE]
    on_page = [row.who.member_id for row in on_screen]
    wanted = {int(v) for v in chosen[:PAGE] if is_number(v) and len(v) <= 9}
    paid = [m for m in on_page if m in wanted]
    unpaid = [m for m in on_page if m not in wanted]
    now = ctx.clock.now()
    base = (PoolMember.community_id == ctx.community_id, PoolMember.pool_id == pool_id,
            PoolMember.status == IN)
    if paid:
        await ctx.session.execute(
            update(PoolMember).where(*base, PoolMember.member_id.in_(paid), PoolMember.paid_at.is_(None))
            .values(paid_at=now).execution_options(synchronize_session=False))
    if unpaid:
        await ctx.session.execute(
            update(PoolMember).where(*base, PoolMember.member_id.in_(unpaid))
            .values(paid_at=None).execution_options(synchronize_session=False))
    rows = await _rows(ctx.session, ctx.community_id, pool_id)
    return payments_card(ctx.catalog, ctx.caller.locale, pool, rows, page, timezone=ctx.caller.timezone)


async def check_remind(ctx: Context, pool_id: int) -> int:
    """Read-only: the caller may send the reminder (not sent yet, someone has not paid); how many."""
    pool = await _managed(ctx, pool_id)
    if pool.payment_reminder_at is not None:
        raise UserError("pooling.errors.already_reminded")
    unpaid = sum(1 for row in await _rows(ctx.session, ctx.community_id, pool_id) if not row.paid)
    if not unpaid:
        raise UserError("pooling.errors.all_paid")
    return unpaid


async def remind_unpaid(ctx: Context, pool_id: int) -> int:
    """The one reminder: claimed by a conditional UPDATE, sent by a job due now (and at once after commit)."""
    unpaid = await check_remind(ctx, pool_id)
    now = ctx.clock.now()
    result = await ctx.session.execute(
        update(Pool).where(Pool.community_id == ctx.community_id, Pool.id == pool_id,
                           Pool.status == HAPPENING, Pool.payment_reminder_at.is_(None))
        .values(payment_reminder_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("pooling.errors.already_reminded")
    await ctx.scheduler.schedule(
        ctx.session, kind=REMIND, due_at=now, community_id=ctx.community_id, payload={"pool_id": pool_id},
        dedupe_key=f"{REMIND}:{ctx.community_id}:{pool_id}",
    )
    services, cid = ctx.services, ctx.community_id

    async def send(_notifier: Notifier | None) -> int:
        return await send_reminders(services, cid, pool_id)

    ctx.after_commit(send)
    return unpaid


async def send_reminders(services: Services, community_id: int, pool_id: int) -> int:
    """DM each participant not ticked as paid, once (a delivery row each); raises when some failed."""
    async with services.db.transaction(write=False) as session:
        pool = await get_pool(session, community_id, pool_id)
        community = await session.get(Community, community_id)
        assert community is not None
        rows = await _rows(session, community_id, pool_id)
        organizer = await person(session, community_id, pool.organizer_id)
    if pool.payment_reminder_at is None or pool.status != HAPPENING:
        return 0
    notifier = services.notifiers.get(community.platform)
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    reach = contact(community.platform, community.external_id, organizer) if organizer else "—"
    sent = failed = 0
    for who, paid, _ in rows:
        if paid:
            continue
        claim = await _claim(services, pool, who.member_id, "unpaid")
        if claim is None:
            continue
        card = notice_card(services.catalog, who.locale or community.locale, "unpaid", pool, contact=reach)
        try:
            await notifier.dm(community.external_id, who.user_id, card)
            sent += 1
        except Exception:
            log.exception("pool %s: payment reminder to member %s failed", pool.id, who.member_id)
            await _unclaim(services, claim)
            failed += 1
    if failed:
        raise RuntimeError(f"{failed} payment reminder(s) about pool {pool.id} not sent")
    return sent


async def remind_job(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await send_reminders(services, run.community_id, int(run.payload["pool_id"]))


def register_jobs(services: Services) -> None:
    services.scheduler.register(REMIND, functools.partial(remind_job, services), max_lateness=None)
