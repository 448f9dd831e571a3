"""Rounds as scheduler jobs: plan the next slot, hold a round once, open the groups' spaces, check in.

- `pairing.plan` (hourly, one row per hour by dedupe key): for every community, the pending round job
  matches the settings (on/off, cadence, day, hour): a missing one is scheduled, a stale one cancelled.
  A moderator's change in /config thus takes effect within the hour; a round itself re-plans at once
  (its slot moved since it was planned: the new slot, even later the same day).
  A round's retry (its slot past or held: the round job failed midway) is never cancelled: it finishes
  the round, also while the community is paused (the scheduler holds it until the bot is back).
- `pairing.round` (one per slot): the slot is a unique (community, time) row, so two jobs for one slot
  (two processes planning at once on PostgreSQL) still hold one round. First the platform is asked which
  opted-in members left the server or workspace (they are not grouped; nothing is stored about it, so
  one who comes back is paired again), outside any transaction. Grouping and storing happen in one
  transaction; the platform work comes after it (`publish_round`), each group's space claimed by a
  conditional UPDATE, so a retried job (the process died midway) opens only what is still unopened.
- `pairing.open` (a round's groups the platform failed to open at once): opened later, with the jobs'
  backoff, and queued again while any is left, until the round's check-in. The announcement waits
  until every group of the round is opened: nobody reads "check your private conversations" before
  theirs exists. A group claimed by a job that died (a shutdown cancelling it gives the group back; a
  process killed outright cannot) is taken back once its own claim is stale and no job of the
  community's rounds holds a live claim (`Scheduler.stale_after`). Past the check-in the job gives up
  (`_give_up`): the groups left are marked failed, never told, never asked, never counted as having
  met (`_store.TOLD`); the moderators' log hears it once, and the groups opened are announced.
- `pairing.checkin` (halfway to the next round): each group told of is asked whether they met.
- `pairing.redraw` (after a member's data deletion): their groups' cards without them (`_group_cards`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import modlog
from bot.errors import BUGS
from bot.notifier import CannotPost, ThreadRef
from bot.outbox import send_dm
from bot.posting import RETRY_AFTER, SyncResult, notifier_for, retry_later
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
    SPACE_FAILED,
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
OPEN = "pairing.open"  # a held round's groups the platform failed to open at once, and its announcement
UNOPENED = (SPACE_PENDING, SPACE_OPENING)
OPEN_AFTER = timedelta(minutes=1)  # a round's platform work that failed is tried again this much later


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


async def plan(
    session: AsyncSession, services: Services, community_id: int, *, running: int | None = None
) -> datetime | None:
    """Make the community's pending round job match its settings; the slot planned, or None when off.

    Only the jobs of future slots are planned here. A retry (a job due after its slot: it failed midway)
    is its round's: once the round is held its members are grouped and stored, and cancelling the retry
    would leave their groups unopened and them never told; a slot that passed before it could be held is
    still held late by its retry (`hold` drops it if the settings changed meanwhile).
    `running`: the round job calling (`hold`, its slot no longer the settings'), left out: it ends.
    """
    community = await session.get(Community, community_id)
    values = await read_settings(session, community_id, SETTINGS)
    # A round being held right now (claimed: running) plans the next one itself: counting it here
    # keeps a planner running at the same moment from adding a second one.
    query = select(Job.id, Job.due_at, Job.payload).where(
        Job.kind == ROUND, Job.community_id == community_id, Job.state.in_((PENDING, RUNNING))
    )
    if running is not None:
        query = query.where(Job.id != running)
    pending = (await session.execute(query)).all()
    slots = {job_id: _job_slot(payload, due) for job_id, due, payload in pending}
    if community is None:
        await _cancel(session, services, community_id, slots)
        return None
    held = await _held(session, community_id, set(slots.values()))
    if not community.active:  # the bot left: no new round; a held one's retry waits for its return
        await _cancel(session, services, community_id, [j for j, at in slots.items() if at not in held])
        return None
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
    *,
    job_id: int | None = None,
) -> int | None:
    """Group the eligible members for the round of `slot`, once; the round's id (None when not held).

    `gone`: members who left the community (see `departed`), never grouped. `job_id`: the round job
    holding it, which re-plans without counting itself when its slot is no longer the settings'.
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
    if expected != slot:  # the settings changed since this slot was planned: the new one (maybe today)
        await plan(session, services, community_id, running=job_id)
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
        round_id = await hold(session, services, run.community_id, slot, gone, job_id=run.id)
    if round_id is not None:
        await publish_round(services, run.community_id, round_id, job_id=run.id, retry=True)


async def run_open(services: Services, run: JobRun) -> None:
    """The OPEN job: what is left of a round's platform work; raises while some of it still fails.

    Its last attempt failing queues a new one, until the round's check-in: a platform outage of hours
    still ends with the groups told. Past the check-in it gives up on the groups left (`_give_up`),
    never leaving members grouped (counted as having met) and unaware.
    """
    assert run.community_id is not None
    round_id = int(run.payload["round_id"])
    try:
        await publish_round(services, run.community_id, round_id, job_id=run.id, retry=False)
    except BUGS:
        raise
    except Exception:
        if run.attempt >= services.scheduler.max_attempts:
            if await _worth_opening(services, run.community_id, round_id):
                await _open_later(services, run.community_id, round_id, "still failing")
            else:
                await _give_up(services, run.community_id, round_id, run.id)
        raise


async def _give_up(services: Services, community_id: int, round_id: int, job_id: int) -> None:
    """The round's check-in came and went with groups still unopened: they never will be.

    Their members were never told of them: they are marked failed (the conditional UPDATE settles it
    against a job claiming one at the same moment), so they are not asked at the check-in nor counted
    as having met (`_store.TOLD`), and the moderators' log hears it once. The groups opened are still
    announced, counted alone: by one more OPEN job, which gives up in turn (with nothing left to mark,
    nothing more queued) should the platform still fail.
    """
    async with services.db.transaction() as session:
        round_ = await session.scalar(
            select(PairingRound).where(PairingRound.community_id == community_id, PairingRound.id == round_id)
        )
        if round_ is None:
            return
        await _take_back(session, services, community_id, round_id, job_id)
        given_up = await session.execute(
            update(PairingGroup)
            .where(
                PairingGroup.community_id == community_id,
                PairingGroup.round_id == round_id,
                PairingGroup.space == SPACE_PENDING,
            )
            .values(space=SPACE_FAILED)
            .execution_options(synchronize_session=False)
        )
        count = int(given_up.rowcount or 0)  # type: ignore[attr-defined]
        if not count:
            return
        of_round = (PairingGroup.community_id == community_id, PairingGroup.round_id == round_id)
        groups = await session.scalar(select(func.count(PairingGroup.id)).where(*of_round))
        told = await session.scalar(
            select(func.count(PairingGroup.id)).where(*of_round, PairingGroup.space.in_(_store.TOLD))
        )
        await modlog.queue_notice(services, session, community_id, "pairing.unpublished", once=str(round_id),
                                  number=str(round_.seq), count=str(count), groups=str(groups))
        if told and not round_.announced:
            await _schedule_open(session, services, community_id, round_id)
    log.warning("pairing: round %s of community %s past its check-in: %d group(s) never opened, given up",
                round_id, community_id, count)


async def _worth_opening(services: Services, community_id: int, round_id: int) -> bool:
    """Whether the round's check-in is still ahead: past it, a group opened late is not asked anyway."""
    async with services.db.transaction(write=False) as session:
        round_ = await session.scalar(
            select(PairingRound).where(PairingRound.community_id == community_id, PairingRound.id == round_id)
        )
    if round_ is None or round_.next_at is None:
        return False
    return services.clock.now() < checkin_at(round_.scheduled_for, round_.next_at)


async def _open_later(services: Services, community_id: int, round_id: int, why: str) -> None:
    """The OPEN job for the round, a minute from now (once per round and minute), like a job's first retry.

    Its own retries then back off from RETRY_AFTER (3, 6, 12, 24 minutes), as a card's DELIVER job.
    """
    log.info("pairing: round %s of community %s left to the %s job: %s", round_id, community_id, OPEN, why)
    async with services.db.transaction() as session:
        await _schedule_open(session, services, community_id, round_id)


async def _schedule_open(session: AsyncSession, services: Services, community_id: int, round_id: int) -> None:
    now = services.clock.now()
    await services.scheduler.schedule(
        session, kind=OPEN, due_at=now + OPEN_AFTER, community_id=community_id,
        payload={"round_id": round_id},
        dedupe_key=f"{OPEN}:{community_id}:{round_id}:{int(now.timestamp()) // 60}",
    )


async def publish_round(
    services: Services, community_id: int, round_id: int, *, job_id: int | None, retry: bool
) -> None:
    """The platform side of a held round: one private space per group, then the announcement.

    A group the platform failed to open is given back; the others are still opened. What is left
    (a group, or the announcement) is done by the OPEN job: queued here with `retry`, else this raises
    so that the job backs off. The announcement goes out once no group of the round is left unopened,
    and counts them all but those nobody was told of (given up at the check-in, `_give_up`; every DM
    refused). `job_id`: the job calling, whose own claim is no sign that a group it finds being opened
    is (see `_take_back`).
    """
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        round_ = await session.get(PairingRound, round_id)
        # Not get_settings: it may insert the default row, a write in this read-only transaction.
        row = await session.get(CommunitySettings, community_id)
        channel = row.pairing_channel_id if row is not None else None
        intro = (await read_settings(session, community_id, [INTRO_MESSAGE]))[INTRO_MESSAGE.key]
        unopened = (await session.execute(_unopened(community_id, round_id))).all()
    if community is None or round_ is None or round_.community_id != community_id:
        return
    if any(space == SPACE_OPENING for _, space in unopened):
        async with services.db.transaction() as session:
            await _take_back(session, services, community_id, round_id, job_id)
            unopened = (await session.execute(_unopened(community_id, round_id))).all()
    groups = [group_id for group_id, space in unopened if space == SPACE_PENDING]
    notifier = notifier_for(services, community.platform)
    for group_id in groups:
        try:
            await _open_group(services, community, channel, intro, group_id)
        except BUGS:
            raise
        except Exception:  # a platform failure (5xx): the group was given back; the others still opened
            log.warning("pairing: group %s of round %s could not be opened for now", group_id, round_id,
                        exc_info=True)
    if round_.announced:
        return
    async with services.db.transaction() as session:
        left = await session.scalar(
            select(func.count(PairingGroup.id)).where(
                PairingGroup.community_id == community_id,
                PairingGroup.round_id == round_id,
                PairingGroup.space.in_(UNOPENED),
            )
        )
        if left:  # not announced before everyone's conversation exists
            claimed = None
        else:
            claimed = await session.execute(
                update(PairingRound)
                .where(PairingRound.id == round_id, PairingRound.announced.is_(False))
                .values(announced=True)
                .execution_options(synchronize_session=False)
            )
        # Only the groups told of (a round given up in part, `_give_up`; every DM refused): no member
        # reads "N groups formed" counting a group nobody was told of.
        formed = await session.scalar(
            select(func.count(PairingGroup.id)).where(
                PairingGroup.community_id == community_id, PairingGroup.round_id == round_id,
                PairingGroup.space.in_(_store.TOLD),
            )
        )
        people = await session.scalar(
            select(func.count(PairingMember.id)).where(
                PairingMember.community_id == community_id, PairingMember.round_id == round_id,
                PairingMember.group_id.in_(
                    select(PairingGroup.id).where(PairingGroup.community_id == community_id,
                                                  PairingGroup.round_id == round_id,
                                                  PairingGroup.space.in_(_store.TOLD))
                ),
            )
        )
        modlog_channel = (await get_settings(session, community_id)).modlog_channel_id
    if claimed is None:
        await _unfinished(services, community_id, round_id, f"{left} group(s) not opened yet", retry=retry)
        return
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    locale = community.locale
    try:
        if round_.state == SKIPPED:
            where = modlog_channel or channel
            if where:
                await notifier.post(
                    community.external_id, where, skipped_card(services.catalog, locale, round_.eligible)
                )
        elif channel and people:
            await notifier.post(
                community.external_id,
                channel,
                announcement(services.catalog, locale, round_.seq, formed or 0, people),
            )
    except CannotPost as error:
        log.info("pairing: round %s announcement refused (%s)", round_id, error.reason)
    except (Exception, asyncio.CancelledError) as error:  # a 5xx, or a shutdown: announced later
        await asyncio.shield(_unannounce(services, round_id))
        if isinstance(error, (asyncio.CancelledError, *BUGS)):
            raise
        log.warning("pairing: round %s announcement failed for now", round_id, exc_info=True)
        await _unfinished(services, community_id, round_id, "the announcement failed", retry=retry)


async def _unannounce(services: Services, round_id: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(PairingRound).where(PairingRound.id == round_id, PairingRound.announced.is_(True))
            .values(announced=False).execution_options(synchronize_session=False)
        )


def _unopened(community_id: int, round_id: int) -> Select[int, str]:
    """The round's groups not opened yet: (id, space)."""
    return (
        select(PairingGroup.id, PairingGroup.space)
        .where(
            PairingGroup.community_id == community_id,
            PairingGroup.round_id == round_id,
            PairingGroup.space.in_(UNOPENED),
        )
        .order_by(PairingGroup.id)
    )


async def _unfinished(services: Services, community_id: int, round_id: int, why: str, *, retry: bool) -> None:
    """Part of the round's platform work is left: the OPEN job does it (`retry`), or this job's retry."""
    if not retry:
        raise RuntimeError(f"pairing: round {round_id} not published yet: {why}")
    await _open_later(services, community_id, round_id, why)


async def _take_back(
    session: AsyncSession, services: Services, community_id: int, round_id: int, job_id: int | None
) -> None:
    """Groups of the round left "opening" by a job that died are pending again.

    Only a job of the community's rounds (ROUND, OPEN) opens a group; one cancelled by a shutdown gives
    its group back itself, but a process killed outright cannot. So while no other such job holds a
    live claim (younger than the scheduler's `stale_after`, past which the scheduler itself takes a
    job for dead), a group still "opening" is nobody's: taken back, and opened by the caller.

    The caller's own job is no sign either way, yet it may be a second holder of the same job: one
    that ran longer than `stale_after` (a round of many groups) is claimed again by another process
    while its first holder is still opening one. So only a group whose own claim is stale too is
    taken back (`claimed_at`, cleared as it leaves "opening", `_set_space`); a group claimed before
    that column existed (NULL) is judged by the jobs alone.
    """
    now = services.clock.now()
    stale = now - services.scheduler.stale_after
    live = await session.scalar(
        select(Job.id)
        .where(
            Job.community_id == community_id,
            Job.kind.in_((ROUND, OPEN)),
            Job.state == RUNNING,
            Job.claimed_at >= stale,
            *(() if job_id is None else (Job.id != job_id,)),
        )
        .limit(1)
    )
    if live is not None:
        return
    taken = await session.execute(
        update(PairingGroup)
        .where(
            PairingGroup.community_id == community_id,
            PairingGroup.round_id == round_id,
            PairingGroup.space == SPACE_OPENING,
            or_(PairingGroup.claimed_at.is_(None), PairingGroup.claimed_at < stale),
        )
        .values(space=SPACE_PENDING, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        log.warning("pairing: %d group(s) of round %s left being opened by a job that died: opened again",
                    taken.rowcount, round_id)  # type: ignore[attr-defined]


async def _open_group(
    services: Services, community: Community, channel: str | None, intro: str, group_id: int
) -> None:
    """Claims the group, opens its space and records it, then sends its card (`_group_cards.deliver`).

    The space is recorded before the card goes out: a platform failure on the card (the welcome in the
    thread, one member's DM) is sent again by its own job, never by opening the group again (a second
    private thread, the group DMed twice to whoever got it already). Only a failure on opening the
    space itself gives the group back, for the OPEN job; so does a shutdown cancelling the job then
    (shielded: the cancellation does not cut it short), and once the space is opened its recording
    and, should the shutdown come while the card goes out, the card's own job are shielded likewise.
    """
    async with services.db.transaction() as session:
        claimed = await session.execute(
            update(PairingGroup)
            .where(
                PairingGroup.community_id == community.id,
                PairingGroup.id == group_id,
                PairingGroup.space == SPACE_PENDING,
            )
            .values(space=SPACE_OPENING, claimed_at=services.clock.now())  # the claim's time: `_take_back`
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return
        members = (await _store.group_members(session, community.id, [group_id])).get(group_id, [])
    try:
        space = await _open_space(services, community, channel, group_id, members)
    except (Exception, asyncio.CancelledError):  # a 5xx, or a shutdown: given back to the next attempt
        await asyncio.shield(_give_back(services, community.id, group_id))
        raise
    await asyncio.shield(_record_space(services, community.id, group_id, space))
    try:
        await deliver(services, community.id, group_id, retry=True)
    except asyncio.CancelledError:  # a shutdown while the card goes out: its own job sends what is missing
        await asyncio.shield(retry_later(services, SyncResult(retrying=["shutdown"]), DELIVER, community.id,
                                         group_id, {"group_id": group_id}))
        raise


async def _give_back(services: Services, community_id: int, group_id: int) -> None:
    try:
        async with services.db.transaction() as session:
            await _set_space(session, community_id, group_id, SPACE_PENDING, expected=SPACE_OPENING)
    except Exception:  # the database failing too: the claim is taken back once it is stale (`_take_back`)
        log.exception("pairing: group %s could not be given back", group_id)


async def _record_space(
    services: Services, community_id: int, group_id: int, space: ThreadRef | None
) -> None:
    async with services.db.transaction() as session:
        if space is None:  # no space: the card goes by DM to each member
            await _set_space(session, community_id, group_id, SPACE_DMS)
        else:
            await _set_space(session, community_id, group_id, SPACE_OPEN, channel_id=space.channel_id,
                             thread_id=space.thread_id)


async def _set_space(
    session: AsyncSession, community_id: int, group_id: int, state: str, *, expected: str | None = None,
    **where: str,
) -> None:
    """The group's space state (and where it is); with `expected`, only from that state.

    The claim's time kept while "opening" (`claimed_at`, `_take_back`) goes with that state.
    """
    query = update(PairingGroup).where(PairingGroup.community_id == community_id, PairingGroup.id == group_id)
    if expected is not None:
        query = query.where(PairingGroup.space == expected)
    await session.execute(
        query.values(space=state, claimed_at=None, **where).execution_options(synchronize_session=False)
    )


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
    """Each group of the round is asked whether they met: in its space, or by DM.

    A group never told of (`_store.TOLD`: not opened yet, the platform failing since the round; given
    up; every DM refused) is not asked: its members never heard of it.
    """
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
                    PairingGroup.space.in_(_store.TOLD),
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
            await send_dm(services, community, member_id, user_id, mine, about=())  # names nobody


async def on_start(services: Services) -> None:
    # A round more than a day late is skipped (a Monday chat announced on Wednesday helps nobody): the
    # planner then plans the next one. A late check-in is still worth asking within three days.
    services.scheduler.register(ROUND, functools.partial(run_round, services), max_lateness=timedelta(days=1))
    services.scheduler.register(
        CHECKIN, functools.partial(run_checkin, services), max_lateness=timedelta(days=3)
    )
    services.scheduler.register(PLAN, functools.partial(run_plan, services))
    # A round's groups the platform failed to open at once (and its announcement): as late as a round.
    services.scheduler.register(
        OPEN, functools.partial(run_open, services), max_lateness=timedelta(days=1), retry_delay=RETRY_AFTER
    )
    # A card redrawn after a privacy deletion: never too late to take a member's data off it.
    services.scheduler.register(REDRAW, functools.partial(run_redraw, services))
    # A group's card the platform failed to take at once: still worth sending to its members.
    services.scheduler.register(DELIVER, functools.partial(run_deliver, services), retry_delay=RETRY_AFTER)
    async with services.db.transaction() as session:
        await schedule_planner(session, services, now=True)
