"""Rounds as scheduler jobs: plan the next slot, hold a round once, open the groups' spaces, check in.

- `pairing.plan` (hourly, one row per hour by dedupe key): for every community, the pending round job
  matches the settings (on/off, cadence, day, hour): a missing one is scheduled, a stale one cancelled.
  A moderator's change in /config thus takes effect within the hour; a round itself re-plans at once.
  A round's retry (its slot past or held: the platform failed) is never cancelled: it finishes the round.
- `pairing.round` (one per slot): the slot is a unique (community, time) row, so two jobs for one slot
  (two processes planning at once on PostgreSQL) still hold one round. First the platform is asked which
  opted-in members left the server or workspace (they are not grouped; nothing is stored about it, so
  one who comes back is paired again), outside any transaction. Grouping and storing happen in one
  transaction; the platform work comes after it, each group's space claimed by a conditional UPDATE, so
  a retried job (the process died midway) opens only what is still unopened.
- `pairing.checkin` (halfway to the next round): each group is asked whether they met.
- `pairing.redraw` (after a member's data deletion): their groups' cards without them (`_group_cards`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notifier import CannotPost, ThreadRef
from bot.outbox import send_dm
from bot.posting import RETRY_AFTER, notifier_for
from bot.scheduler import PENDING, RUNNING, JobRun
from bot.settings_registry import read_settings
from cogs.pairing import _store
from cogs.pairing._cards import announcement, checkin_card, skipped_card, space_name
from cogs.pairing._group_cards import DELIVER, REDRAW, deliver, run_deliver, run_redraw
from cogs.pairing._grouping import Candidate, Rules, make_groups, pair_key, pairs_of
from cogs.pairing._schedule import checkin_at, next_round_at
from cogs.pairing._settings import (
    CADENCE,
    CROSS_TRADE,
    DAY,
    ENABLED,
    GROUP_SIZE,
    HOUR,
    INTRO_MESSAGE,
    SETTINGS,
)
from cogs.pairing.models import (
    HELD,
    SKIPPED,
    SPACE_DMS,
    SPACE_OPEN,
    SPACE_OPENING,
    SPACE_PENDING,
    PairingGroup,
    PairingMember,
    PairingRound,
)
from storage.models import Community, CommunitySettings, FeatureSetting, Job
from storage.settings import get_settings
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
PLAN, ROUND, CHECKIN = "pairing.plan", "pairing.round", "pairing.checkin"


# -- planning -------------------------------------------------------------------------------------


def slot_after(values: dict[str, Any], after: datetime, timezone: str, last: datetime | None) -> datetime:
    return next_round_at(
        after,
        cadence=values[CADENCE.key],
        weekday=values[DAY.key],
        hour=values[HOUR.key],
        timezone=timezone,
        last_round=last,
    )


async def plan(session: AsyncSession, services: Services, community_id: int) -> datetime | None:
    """Make the community's pending round job match its settings; the slot planned, or None when off.

    Only the jobs of future slots are planned here. A retry (a job due after its slot: its platform work
    failed) is its round's: once the round is held its members are grouped and stored, and cancelling the
    retry would leave their groups unopened and them never told; a slot that passed before it could be
    held is still held late by its retry (`hold` drops it if the settings changed meanwhile).
    """
    community = await session.get(Community, community_id)
    values = await read_settings(session, community_id, SETTINGS)
    # A round being held right now (claimed: running) plans the next one itself: counting it here
    # keeps a planner running at the same moment from adding a second one.
    pending = (
        await session.execute(
            select(Job.id, Job.due_at, Job.payload).where(
                Job.kind == ROUND, Job.community_id == community_id, Job.state.in_((PENDING, RUNNING))
            )
        )
    ).all()
    slots = {job_id: _job_slot(payload, due) for job_id, due, payload in pending}
    if community is None or not community.active:  # the bot left: nothing is published any more
        await _cancel(session, services, community_id, slots)
        return None
    held = await _held(session, community_id, set(slots.values()))
    if not values[ENABLED.key]:  # no new round; a held one's retry still opens its groups
        await _cancel(session, services, community_id, [j for j, at in slots.items() if at not in held])
        return None
    now = services.clock.now()
    if any(due <= now for _, due, _ in pending):
        return None  # a round is due and about to run: it plans the next one itself
    last = await _store.last_round(session, community_id)
    slot = slot_after(values, now, community.timezone, last.scheduled_for if last else None)
    # Nothing is due (above), so a job whose slot is held or past is a retry: left to its round.
    planned = [j for j, at in slots.items() if at not in held and at > now]
    keep = next((j for j in planned if slots[j] == slot), None)
    await _cancel(session, services, community_id, [j for j in planned if j != keep])
    if keep is None:
        await services.scheduler.schedule(
            session, kind=ROUND, due_at=slot, community_id=community_id, payload=_slot(slot)
        )
    return slot


def _job_slot(payload: dict[str, Any] | None, due_at: datetime) -> datetime:
    """A round job's slot: its payload's, since a retry is due later; older jobs have only their due time."""
    slot = (payload or {}).get("slot")
    return datetime.fromisoformat(slot) if slot else due_at


async def _held(session: AsyncSession, community_id: int, slots: set[datetime]) -> set[datetime]:
    """Those of `slots` whose round is held already."""
    if not slots:
        return set()
    return set(
        await session.scalars(
            select(PairingRound.scheduled_for).where(
                PairingRound.community_id == community_id, PairingRound.scheduled_for.in_(slots)
            )
        )
    )


async def _cancel(
    session: AsyncSession, services: Services, community_id: int, job_ids: Iterable[int]
) -> None:
    for job_id in job_ids:
        await services.scheduler.cancel(session, job_id=job_id, community_id=community_id)


async def run_plan(services: Services, run: JobRun) -> None:
    async with services.db.transaction(write=False) as session:
        enabled = set(
            (
                await session.execute(
                    select(FeatureSetting.community_id, FeatureSetting.value).where(
                        FeatureSetting.key == ENABLED.key
                    )
                )
            ).all()
        )
        with_jobs = set(
            await session.scalars(select(Job.community_id).where(Job.kind == ROUND, Job.state == PENDING))
        )
    wanted = {cid for cid, value in enabled if value is True} | {c for c in with_jobs if c is not None}
    for community_id in sorted(wanted):
        try:
            async with services.db.transaction() as session:
                await plan(session, services, community_id)
        except Exception:
            log.exception("pairing: planning failed for community %s", community_id)
    async with services.db.transaction() as session:
        await schedule_planner(session, services)


async def schedule_planner(session: AsyncSession, services: Services, *, now: bool = False) -> None:
    """The next hourly planning (`now`: at once, for a start); one row per hour across processes."""
    at = services.clock.now()
    due = at if now else (at + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    await services.scheduler.schedule(
        session, kind=PLAN, due_at=due, payload={}, dedupe_key=f"{PLAN}:{due:%Y-%m-%dT%H}"
    )


# -- holding a round -----------------------------------------------------------------------------


def _seed(community_id: int, seq: int) -> int:
    return community_id * 1_000_003 + seq


async def departed(services: Services, community_id: int, slot: datetime) -> set[int]:
    """The members who would be grouped at `slot` but left the community (asked of the platform)."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        if community is None or not community.active:
            return set()
        held = await session.scalar(
            select(PairingRound.id).where(
                PairingRound.community_id == community_id, PairingRound.scheduled_for == slot
            )
        )
        if held is not None:  # a retry: the groups are made already
            return set()
        last = await _store.last_round(session, community_id, before=slot)
        resting = await _store.snoozed(session, community_id, (last.seq if last else 0) + 1)
        people = [p for p in await _store.opted_in(session, community_id) if p.member_id not in resting]
        external, platform = community.external_id, community.platform
    if len(people) < 2:
        return set()
    gone = await notifier_for(services, platform).departed(external, [p.user_id for p in people])
    if gone:
        log.info("pairing: %d member(s) of community %s left: not grouped", len(gone), community_id)
    return {p.member_id for p in people if p.user_id in gone}


async def hold(
    session: AsyncSession,
    services: Services,
    community_id: int,
    slot: datetime,
    gone: set[int] | frozenset[int] = frozenset(),
) -> int | None:
    """Group the eligible members for the round of `slot`, once; the round's id (None when not held).

    `gone`: members who left the community (see `departed`), never grouped.
    """
    community = await session.get(Community, community_id)
    if community is None or not community.active:
        return None
    values = await read_settings(session, community_id, SETTINGS)
    existing = await session.scalar(
        select(PairingRound.id).where(
            PairingRound.community_id == community_id, PairingRound.scheduled_for == slot
        )
    )
    if existing is not None:  # a retry, or a second job for the same slot: continue its platform work
        return existing
    if not values[ENABLED.key]:
        return None
    last = await _store.last_round(session, community_id, before=slot)
    expected = slot_after(
        values, slot - timedelta(seconds=1), community.timezone, last.scheduled_for if last else None
    )
    if expected != slot:  # the settings changed since this slot was planned
        await plan(session, services, community_id)
        return None
    seq = (last.seq if last else 0) + 1
    round_id = await session.scalar(
        dialect_insert(session, PairingRound)
        .values(
            community_id=community_id,
            seq=seq,
            scheduled_for=slot,
            state=HELD,
            created_at=services.clock.now(),
        )
        .on_conflict_do_nothing()
        .returning(PairingRound.id)
    )
    if round_id is None:
        return None
    people = await _store.opted_in(session, community_id)
    resting = await _store.snoozed(session, community_id, seq)
    eligible = [p for p in people if p.member_id not in resting and p.member_id not in gone]
    trades = {p.member_id: p.trades for p in eligible}
    next_at = slot_after(values, slot, community.timezone, slot)
    await session.execute(
        update(PairingRound)
        .where(PairingRound.id == round_id)
        .values(eligible=len(eligible), next_at=next_at)
        .execution_options(synchronize_session=False)
    )
    if len(eligible) < 2:
        await session.execute(
            update(PairingRound)
            .where(PairingRound.id == round_id)
            .values(state=SKIPPED)
            .execution_options(synchronize_session=False)
        )
    else:
        met = await _store.met_counts(session, community_id)
        grouping = make_groups(
            [Candidate(p.member_id, p.trades) for p in eligible],
            met=met,
            avoid=await _store.avoid_pairs(session, community_id, eligible),
            trios=await _store.trio_counts(session, community_id),
            rules=Rules(group_size=values[GROUP_SIZE.key], prefer_cross_trade=values[CROSS_TRADE.key]),
            seed=_seed(community_id, seq),
        )
        for members in grouping.groups:
            new_cross = sum(
                1
                for a, b in pairs_of(members)
                if not met.get(pair_key(a, b)) and trades[a] and trades[b] and not trades[a] & trades[b]
            )
            group = PairingGroup(community_id=community_id, round_id=round_id, new_cross_pairs=new_cross)
            session.add(group)
            await session.flush()
            session.add_all(
                PairingMember(community_id=community_id, round_id=round_id, group_id=group.id, member_id=m)
                for m in members
            )
        await services.scheduler.schedule(
            session,
            kind=CHECKIN,
            due_at=checkin_at(slot, next_at),
            community_id=community_id,
            payload={"round_id": round_id},
            dedupe_key=f"{CHECKIN}:{community_id}:{round_id}",
        )
    await services.scheduler.schedule(
        session, kind=ROUND, due_at=next_at, community_id=community_id, payload=_slot(next_at)
    )
    return round_id


def _slot(slot: datetime) -> dict[str, str]:
    """A round job's payload: its slot, which its due time no longer is once it is retried."""
    return {"slot": slot.isoformat()}


async def run_round(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    slot = _job_slot(run.payload, run.due_at)
    gone = await departed(services, run.community_id, slot)
    async with services.db.transaction() as session:
        round_id = await hold(session, services, run.community_id, slot, gone)
    if round_id is not None:
        await publish_round(services, run.community_id, round_id)


async def publish_round(services: Services, community_id: int, round_id: int) -> None:
    """The platform side of a held round: one private space per group, then the announcement."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        round_ = await session.get(PairingRound, round_id)
        # Not get_settings: it may insert the default row, a write in this read-only transaction.
        row = await session.get(CommunitySettings, community_id)
        channel = row.pairing_channel_id if row is not None else None
        intro = (await read_settings(session, community_id, [INTRO_MESSAGE]))[INTRO_MESSAGE.key]
        groups = list(
            await session.scalars(
                select(PairingGroup.id).where(
                    PairingGroup.community_id == community_id,
                    PairingGroup.round_id == round_id,
                    PairingGroup.space == SPACE_PENDING,
                )
            )
        )
    if community is None or round_ is None or round_.community_id != community_id:
        return
    notifier = notifier_for(services, community.platform)
    for group_id in groups:
        await _open_group(services, community, channel, intro, group_id)
    if round_.announced:
        return
    async with services.db.transaction() as session:
        claimed = await session.execute(
            update(PairingRound)
            .where(PairingRound.id == round_id, PairingRound.announced.is_(False))
            .values(announced=True)
            .execution_options(synchronize_session=False)
        )
        grouped = await session.scalar(
            select(PairingMember.id).where(PairingMember.round_id == round_id).limit(1)
        )
        people = len(
            list(await session.scalars(select(PairingMember.id).where(PairingMember.round_id == round_id)))
        )
        modlog = (await get_settings(session, community_id)).modlog_channel_id
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    locale = community.locale
    try:
        if round_.state == SKIPPED:
            where = modlog or channel
            if where:
                await notifier.post(
                    community.external_id, where, skipped_card(services.catalog, locale, round_.eligible)
                )
        elif channel and grouped is not None:
            await notifier.post(
                community.external_id,
                channel,
                announcement(services.catalog, locale, round_.seq, len(groups), people),
            )
    except CannotPost as error:
        log.info("pairing: round %s announcement refused (%s)", round_id, error.reason)
    except Exception:  # a platform failure (5xx): given back, so that the job's retry announces it
        async with services.db.transaction() as session:
            await session.execute(
                update(PairingRound).where(PairingRound.id == round_id, PairingRound.announced.is_(True))
                .values(announced=False).execution_options(synchronize_session=False)
            )
        raise


async def _open_group(
    services: Services, community: Community, channel: str | None, intro: str, group_id: int
) -> None:
    """Claims the group, opens its space and records it, then sends its card (`_group_cards.deliver`).

    The space is recorded before the card goes out: a platform failure on the card (the welcome in the
    thread, one member's DM) is sent again by its own job, never by opening the group again (a second
    private thread, the group DMed twice to whoever got it already). Only a failure on opening the
    space itself gives the group back, for the round job's retry.
    """
    async with services.db.transaction() as session:
        claimed = await session.execute(
            update(PairingGroup)
            .where(
                PairingGroup.community_id == community.id,
                PairingGroup.id == group_id,
                PairingGroup.space == SPACE_PENDING,
            )
            .values(space=SPACE_OPENING)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
        members = (await _store.group_members(session, community.id, [group_id])).get(group_id, [])
    try:
        space = await _open_space(services, community, channel, group_id, members)
    except Exception:  # a platform failure (5xx): the group is given back, and the job's retry opens it
        async with services.db.transaction() as session:
            await _set_space(session, community.id, group_id, SPACE_PENDING, expected=SPACE_OPENING)
        raise
    async with services.db.transaction() as session:
        if space is None:  # no space: the card goes by DM to each member
            await _set_space(session, community.id, group_id, SPACE_DMS)
        else:
            await _set_space(session, community.id, group_id, SPACE_OPEN, channel_id=space.channel_id,
                             thread_id=space.thread_id)
    await deliver(services, community.id, group_id, retry=True)


async def _set_space(
    session: AsyncSession, community_id: int, group_id: int, state: str, *, expected: str | None = None,
    **where: str,
) -> None:
    """The group's space state (and where it is); with `expected`, only from that state."""
    query = update(PairingGroup).where(PairingGroup.community_id == community_id, PairingGroup.id == group_id)
    if expected is not None:
        query = query.where(PairingGroup.space == expected)
    await session.execute(query.values(space=state, **where).execution_options(synchronize_session=False))


async def _open_space(
    services: Services,
    community: Community,
    channel: str | None,
    group_id: int,
    members: list[tuple[int, str, str, str | None]],
) -> ThreadRef | None:
    """The group's private space (Slack: a group DM; Discord: a private thread of the pairing channel).

    None when there is none to open (Discord without a pairing channel) or the platform refuses it:
    the card then goes by DM. A platform failure raises.
    """
    if community.platform != "slack" and not channel:
        return None
    try:
        return await notifier_for(services, community.platform).open_private_space(
            community.external_id,
            channel or "",
            [user_id for _, user_id, _, _ in members],
            space_name(services.catalog, community.locale, [name for _, _, name, _ in members]),
        )
    except CannotPost as error:
        log.info("pairing: group %s space refused (%s)", group_id, error.reason)
        return None


# -- the check-in ----------------------------------------------------------------------------------


async def run_checkin(services: Services, run: JobRun) -> None:
    """Each group of the round is asked whether they met: in its space, or by DM."""
    assert run.community_id is not None
    round_id = int(run.payload["round_id"])
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, run.community_id)
        groups = (
            await session.execute(
                select(
                    PairingGroup.id, PairingGroup.space, PairingGroup.channel_id, PairingGroup.thread_id
                ).where(
                    PairingGroup.community_id == run.community_id,
                    PairingGroup.round_id == round_id,
                    PairingGroup.outcome.is_(None),
                )
            )
        ).all()
        members = await _store.group_members(session, run.community_id, [g.id for g in groups])
    if community is None:
        return
    notifier = notifier_for(services, community.platform)
    for group in groups:
        card = checkin_card(services.catalog, community.locale, group.id)
        if group.space == SPACE_OPEN and group.channel_id is not None:
            try:
                posted = await notifier.post_in_thread(
                    community.external_id, ThreadRef(group.channel_id, group.thread_id or ""), card
                )
                if posted is not None:
                    continue
            except CannotPost as error:
                log.info("pairing: check-in of group %s refused in its space (%s): asked by DM", group.id,
                         error.reason)
            except Exception:  # a platform failure: asked by DM instead, the other groups still asked
                log.warning("pairing: check-in of group %s failed in its space: asked by DM", group.id,
                            exc_info=True)
        for member_id, user_id, _, locale in members.get(group.id, []):  # a failed DM is kept in the outbox
            mine = checkin_card(services.catalog, locale or community.locale, group.id)
            await send_dm(services, community, member_id, user_id, mine)


async def on_start(services: Services) -> None:
    # A round more than a day late is skipped (a Monday chat announced on Wednesday helps nobody): the
    # planner then plans the next one. A late check-in is still worth asking within three days.
    services.scheduler.register(ROUND, functools.partial(run_round, services), max_lateness=timedelta(days=1))
    services.scheduler.register(
        CHECKIN, functools.partial(run_checkin, services), max_lateness=timedelta(days=3)
    )
    services.scheduler.register(PLAN, functools.partial(run_plan, services))
    # A card redrawn after a privacy deletion: never too late to take a member's data off it.
    services.scheduler.register(REDRAW, functools.partial(run_redraw, services))
    # A group's card the platform failed to take at once: still worth sending to its members.
    services.scheduler.register(DELIVER, functools.partial(run_deliver, services), retry_delay=RETRY_AFTER)
    async with services.db.transaction() as session:
        await schedule_planner(session, services, now=True)
