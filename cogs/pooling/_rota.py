"""The rota of shared admin tasks: use cases, the jobs that remind, roll and report, and privacy.

Each task always has one coming turn (`RotaTurn`, pending), given at once to the fairest volunteer
(cogs/pooling/_rota_store.py). Three jobs per turn, each once across restarts and processes (the
scheduler's dedupe keys, and a delivery row per DM):
- REMIND, `pooling.tasks_remind_days` before it is due: a turn still without holder is given to the
  fairest volunteer; the holder gets a DM with Done / Can't this time, or, with nobody to hold it,
  the moderators are told (NOTICE) before it is due: in their log channel, else by DM (`tell_moderators`);
- ROLL, when it is due: the task's next turn is planned and given;
- DM / NOTICE, due at once, after a change a member made once the reminder time passed (Volunteer on
  a turn nobody held, Stop or Can't by its holder).

A NOTICE that nobody holds a turn is keyed by what left it unheld (the REMIND row, the moment of a Stop):
the moderators hear of each loss of holder once, and again when the turn is left unheld a second time.
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from bot.cards import Card
from bot.errors import BUGS, UserError
from bot.notifier import CannotPost, Notifier
from bot.outbox import send_dm
from bot.scheduler import PENDING as JOB_PENDING
from bot.scheduler import JobRun, queue
from bot.settings_registry import read_setting
from bot.usecase import Context, Later, moderator_only
from cogs.pooling._rota_cards import added_card, history_card, moderators_card, tasks_card, turn_card
from cogs.pooling._rota_form import MAX_TASKS, TaskForm, task_key, validate_task
from cogs.pooling._rota_store import (
    assign,
    check_holder,
    get_task,
    get_turn,
    known_trades,
    last_turn,
    may_take,
    pick,
    recent_turns,
    tallies,
    task_rows,
    upcoming,
)
from cogs.pooling._rota_time import next_due, remind_at, same_day_at
from cogs.pooling._settings import TASKS_HOUR, TASKS_REMIND_DAYS
from cogs.pooling.models import (
    MODERATORS,
    PENDING,
    STOPPED,
    RotaDelivery,
    RotaTask,
    RotaTurn,
    RotaVolunteer,
)
from storage.models import Community, CommunitySettings, Job, Member
from storage.sql import dialect_insert

if TYPE_CHECKING:

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.scheduler import Scheduler
    from bot.services import Services

log = logging.getLogger(__name__)
REMIND = "pooling.task_remind"  # before a turn: give it if nobody holds it, DM the holder or tell moderators
ROLL = "pooling.task_roll"  # when a turn is due: plan and give the next one
DM = "pooling.task_dm"  # at once: the holder's DM after a change past the reminder time
NOTICE = "pooling.task_notice"  # at once: the moderators' log (nobody to hold it, or Can't twice)
HISTORY_TURNS = 6
MAX_MODERATOR_DMS = 10  # without a log channel: the task's creator and the moderators listed (Slack)


# -- planning turns ---------------------------------------------------------------------------------


async def plan_next(session: AsyncSession, scheduler: Scheduler, task: RotaTask, now: datetime, *,
                    first: bool = False) -> RotaTurn | None:
    """Plan the task's next turn after its last one (once: unique per due time), give it, arm its jobs.

    Turns stopped by a removal never happened: not followed, and their due times are passed over. The
    first turn (`first`: the task just added, or added again after its removal) leaves volunteers the
    reminder's lead time to come forward.
    """
    cid = task.community_id
    community = await session.get(Community, cid)
    assert community is not None
    hour, zone = int(await read_setting(session, cid, TASKS_HOUR)), community.timezone
    days = await read_setting(session, cid, TASKS_REMIND_DAYS)
    previous = await last_turn(session, cid, task.id)
    after = max(now, previous.due_at) if previous else now
    if first or previous is None:
        after = max(after, now + timedelta(days=int(days)))
    due = next_due(after, cadence=task.cadence, weekday=task.weekday, hour=hour, timezone=zone,
                   last=previous.due_at if previous else None)
    taken = select(RotaTurn.status).where(RotaTurn.community_id == cid, RotaTurn.task_id == task.id,
                                          RotaTurn.due_at == bindparam("due"))
    while (status := await session.scalar(taken, {"due": due})) == STOPPED:
        due = next_due(due, cadence=task.cadence, weekday=task.weekday, hour=hour, timezone=zone, last=due)
    if status is not None:
        return None
    turn = RotaTurn(community_id=cid, task_id=task.id, due_at=due,
                    remind_at=max(now, remind_at(due, int(days), community.timezone)),
                    assignee_id=await pick(session, task, set()), passes=0, status=PENDING)
    session.add(turn)
    await session.flush()
    await scheduler.schedule(session, kind=REMIND, due_at=turn.remind_at, community_id=cid,
                             payload={"turn_id": turn.id}, dedupe_key=f"{REMIND}:{cid}:{turn.id}")
    await scheduler.schedule(session, kind=ROLL, due_at=due, community_id=cid,
                             payload={"task_id": task.id, "turn_id": turn.id},
                             dedupe_key=f"{ROLL}:{cid}:{turn.id}")
    return turn


REPLANNED_BY = frozenset({"timezone", TASKS_HOUR.key, TASKS_REMIND_DAYS.key})


async def replan(session: AsyncSession, scheduler: Scheduler, turn: RotaTurn, task: RotaTask,
                 now: datetime, *, reminding: bool = False) -> bool:
    """Move a coming turn planned under other settings (time zone, hour, reminder days) to the current ones.

    Its day stays (`same_day_at`); it becomes due at the current hour in the current zone when that is
    still to come, else keeps its time. A reminder still to come moves with it (`reminding`: the REMIND
    job running now, planned again when the due time moved), one already past stays. Their jobs are
    replaced. One conditional UPDATE on the turn as read: an answer or another move meanwhile wins
    (False). True when the turn moved.
    """
    cid = turn.community_id
    community = await session.get(Community, cid)
    if community is None or turn.status != PENDING:
        return False
    hour = int(await read_setting(session, cid, TASKS_HOUR))
    days = int(await read_setting(session, cid, TASKS_REMIND_DAYS))
    due = same_day_at(turn.due_at, weekday=task.weekday, hour=hour, timezone=community.timezone)
    if due <= now:
        due = turn.due_at  # its new time has passed: it stays due when its holder was told
    remind = turn.remind_at
    if (reminding and due != turn.due_at) or (not reminding and turn.remind_at > now):
        remind = max(now, remind_at(due, days, community.timezone))
    if due == turn.due_at and remind == turn.remind_at:
        return False
    if due != turn.due_at and await session.scalar(select(RotaTurn.id).where(
            RotaTurn.community_id == cid, RotaTurn.task_id == task.id, RotaTurn.due_at == due)) is not None:
        return False  # a turn of that time exists (stopped by a removal): this one keeps its time
    result = await session.execute(
        update(RotaTurn).where(RotaTurn.id == turn.id, RotaTurn.community_id == cid,
                               RotaTurn.status == PENDING, RotaTurn.due_at == turn.due_at,
                               RotaTurn.remind_at == turn.remind_at)
        .values(due_at=due, remind_at=remind).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    moved = {REMIND: remind if remind != turn.remind_at or reminding else None,
             ROLL: due if due != turn.due_at else None}
    set_committed_value(turn, "due_at", due)
    set_committed_value(turn, "remind_at", remind)
    stamp = f"{now:%Y%m%dT%H%M%S%f}"
    for kind, at in moved.items():
        if at is None:
            continue
        for job_id in await _turn_jobs(session, cid, turn.id, kind):
            await scheduler.cancel(session, job_id=job_id, community_id=cid)
        payload = {"turn_id": turn.id} if kind == REMIND else {"task_id": task.id, "turn_id": turn.id}
        await scheduler.schedule(session, kind=kind, due_at=at, community_id=cid, payload=payload,
                                 dedupe_key=f"{kind}:{cid}:{turn.id}:{stamp}")
    return True


async def _turn_jobs(session: AsyncSession, community_id: int, turn_id: int, kind: str) -> list[int]:
    """The turn's pending jobs of `kind`: planned (`kind:community:turn`) or moved since (`…:<when>`)."""
    key = f"{kind}:{community_id}:{turn_id}"
    return list(await session.scalars(select(Job.id).where(
        Job.community_id == community_id, Job.kind == kind, Job.state == JOB_PENDING,
        or_(Job.dedupe_key == key, Job.dedupe_key.like(f"{key}:%")))))


async def settings_changed(session: AsyncSession, services: Services, community_id: int,
                           keys: frozenset[str]) -> None:
    """A settings change (in its transaction): the coming turns planned under the old ones move (`replan`)."""
    if not keys & REPLANNED_BY:
        return
    now = services.clock.now()
    rows = (await session.execute(
        select(RotaTurn, RotaTask).join(RotaTask, RotaTask.id == RotaTurn.task_id)
        .where(RotaTurn.community_id == community_id, RotaTurn.status == PENDING, RotaTurn.due_at > now)
        .order_by(RotaTurn.id))).all()
    for turn, task in rows:
        await replan(session, services.scheduler, turn, task, now)


def _once(kind: str, community_id: int, turn_id: int, reason: str, cause: str = "") -> str:
    """A DM's or NOTICE's dedupe key: once per turn and reason, and per `cause` when one is given."""
    key = f"{kind}:{community_id}:{turn_id}:{reason}"
    return f"{key}:{cause}" if cause else key


async def _soon(ctx: Context, kind: str, turn: RotaTurn, reason: str, cause: str = "") -> Later[bool]:
    """A DM or NOTICE job due now (once per reason and cause: `_once`), and run at once after commit.

    The value, once run: for a NOTICE, whether the turn is now marked told (someone was).
    """
    cid, scheduler, services = ctx.community_id, ctx.scheduler, ctx.services
    job_id = await scheduler.schedule(ctx.session, kind=kind, due_at=ctx.clock.now(), community_id=cid,
                                      payload={"turn_id": turn.id, "reason": reason},
                                      dedupe_key=_once(kind, cid, turn.id, reason, cause))

    async def run_now(_notifier: Notifier | None) -> bool:
        ran = await scheduler.run_job(job_id)
        if kind != NOTICE:
            return ran
        async with services.db.transaction(write=False) as session:
            told = await session.scalar(select(RotaTurn.moderators_told_at).where(RotaTurn.id == turn.id))
        return told is not None

    return ctx.after_commit(run_now)


async def _after_change(ctx: Context, turn: RotaTurn, holder: int | None) -> None:
    """Once the reminder time passed, a new holder is DM'd at once, and no holder means the moderators.

    The notice is keyed by the moment the turn lost its holder: the moderators told at the reminder
    that nobody held it are told again when the volunteer who took it since stops.
    """
    now = ctx.clock.now()
    if now < turn.remind_at:
        return  # the REMIND job will do it
    if holder is not None:
        await _soon(ctx, DM, turn, f"{holder}")
    else:
        await _soon(ctx, NOTICE, turn, "nobody", cause=f"stop-{now:%Y%m%dT%H%M%S%f}")


# -- use cases: members -------------------------------------------------------------------------------


async def list_tasks(ctx: Context) -> Card:
    """/tasks: every task, its next turn and who holds it, a Volunteer / Stop button each."""
    rows = await task_rows(ctx.session, ctx.community_id, ctx.caller.member_id)
    return tasks_card(ctx.catalog, ctx.caller.locale, rows)


async def check_volunteer(ctx: Context, task_id: int) -> RotaTask:
    """Read-only: the task exists here and the caller may take it (its trades)."""
    task = await get_task(ctx.session, ctx.community_id, task_id)
    if ctx.caller.member_id not in await may_take(ctx.session, task, [ctx.caller.member_id]):
        raise UserError("pooling.tasks.errors.not_eligible")
    return task


async def volunteer(ctx: Context, task_id: int) -> bool:
    """Take turns at a task; a coming turn nobody holds is theirs at once. False: already a volunteer."""
    task = await check_volunteer(ctx, task_id)
    me = ctx.caller.member_id
    inserted = await ctx.session.scalar(
        dialect_insert(ctx.session, RotaVolunteer.__table__).values(
            community_id=ctx.community_id, task_id=task.id, member_id=me,
            seed=random.SystemRandom().randrange(2**31), since=ctx.clock.now(),
        ).on_conflict_do_nothing().returning(RotaVolunteer.__table__.c.id))
    if inserted is None:
        return False
    turn = await upcoming(ctx.session, ctx.community_id, task.id)
    if turn is not None and turn.assignee_id is None:
        chosen = await pick(ctx.session, task, {turn.declined_id} if turn.declined_id else set())
        if chosen is not None and await assign(ctx.session, turn, chosen, expected=None):
            await _after_change(ctx, turn, chosen)
    return True


async def stop(ctx: Context, task_id: int) -> bool:
    """Stop taking turns; a coming turn they hold goes to the next volunteer. False: was not one."""
    task = await get_task(ctx.session, ctx.community_id, task_id)
    me = ctx.caller.member_id
    result = await ctx.session.execute(delete(RotaVolunteer).where(
        RotaVolunteer.community_id == ctx.community_id, RotaVolunteer.task_id == task.id,
        RotaVolunteer.member_id == me))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    turn = await upcoming(ctx.session, ctx.community_id, task.id)
    if turn is not None and turn.assignee_id == me:
        chosen = await pick(ctx.session, task, {me} | ({turn.declined_id} if turn.declined_id else set()))
        if await assign(ctx.session, turn, chosen, expected=me):
            await _after_change(ctx, turn, chosen)
    return True


async def check_answer(ctx: Context, turn_id: int) -> RotaTurn:
    """Read-only: the turn is here, pending, and the caller holds it."""
    turn = await get_turn(ctx.session, ctx.community_id, turn_id)
    check_holder(turn, ctx.caller.member_id)
    return turn


async def mark_done(ctx: Context, turn_id: int) -> RotaTurn:
    """Done, by the holder only (a conditional UPDATE: a second click or someone else changes nothing)."""
    turn = await check_answer(ctx, turn_id)
    result = await ctx.session.execute(
        update(RotaTurn).where(RotaTurn.id == turn.id, RotaTurn.status == PENDING,
                               RotaTurn.assignee_id == ctx.caller.member_id)
        .values(status="done", done_at=ctx.clock.now()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("pooling.tasks.errors.already_done")
    return turn


@dataclass(frozen=True)
class CantAnswer:
    """Can't this time: passed to the next volunteer, or sent to the moderators (`told` once tried)."""

    passed: bool
    told: Later[bool] | None = None

    @property
    def outcome(self) -> str:
        """The answer's key in pooling.tasks.answered: passed, moderators, or not_told (nobody was)."""
        if self.passed:
            return "passed"
        return "moderators" if self.told is not None and self.told.value else "not_told"


async def cant(ctx: Context, turn_id: int) -> CantAnswer:
    """Can't this time: the turn passes to the next volunteer once ("passed"), then to the moderators."""
    turn = await check_answer(ctx, turn_id)
    task = await ctx.session.get(RotaTask, turn.task_id)
    assert task is not None
    me = ctx.caller.member_id
    chosen = None
    if turn.passes == 0:
        chosen = await pick(ctx.session, task, {me})
    if chosen is not None:
        if not await assign(ctx.session, turn, chosen, expected=me, declined_id=me, passes=turn.passes + 1):
            raise UserError("pooling.tasks.errors.turn_closed")
        await _soon(ctx, DM, turn, f"{chosen}")
        return CantAnswer(passed=True)
    # Told cleared: an earlier "nobody" notice does not count; this one marks it when someone is told.
    result = await ctx.session.execute(
        update(RotaTurn).where(RotaTurn.id == turn.id, RotaTurn.status == PENDING, RotaTurn.assignee_id == me)
        .values(status=MODERATORS, declined_id=me, passes=turn.passes + 1, moderators_told_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("pooling.tasks.errors.turn_closed")
    return CantAnswer(passed=False, told=await _soon(ctx, NOTICE, turn, "cant"))


# -- use cases: moderators ----------------------------------------------------------------------------


@moderator_only
async def task_form_trades(ctx: Context) -> list[tuple[int, str]]:
    """Read-only, moderators: the trades a new task may be limited to (the Slack form's choices)."""
    return await known_trades(ctx.session, ctx.community_id)


@moderator_only
async def check_task(ctx: Context, form: TaskForm) -> None:
    """Read-only: the form is valid, the name free, the community under its number of tasks."""
    details = validate_task(form, await known_trades(ctx.session, ctx.community_id))
    taken = await ctx.session.scalar(select(RotaTask.id).where(
        RotaTask.community_id == ctx.community_id, RotaTask.key == details.key, RotaTask.active.is_(True)))
    if taken is not None:
        raise UserError("pooling.tasks.errors.exists", name=details.name)
    count = await ctx.session.scalar(select(func.count()).select_from(RotaTask).where(
        RotaTask.community_id == ctx.community_id, RotaTask.active.is_(True)))
    if int(count or 0) >= MAX_TASKS:
        raise UserError("pooling.tasks.errors.too_many", max=MAX_TASKS)


@moderator_only
async def add_task(ctx: Context, form: TaskForm) -> Card:
    """A new task (or a removed one of the same name, back with these details); its first turn planned.

    The name's row is made (inactive) or locked before the checks: the same task added twice at once
    (a double submit, two moderators) is added once, the second told it exists. Without it, on
    PostgreSQL both found no such task and the second answered with an error. The community's row is
    held first (FOR NO KEY UPDATE): tasks of other names added at once are counted one after the other,
    never past MAX_TASKS (on PostgreSQL all were counted before any was added).
    """
    details = validate_task(form, await known_trades(ctx.session, ctx.community_id))
    await ctx.session.execute(
        select(Community.id).where(Community.id == ctx.community_id).with_for_update(key_share=True))
    await ctx.session.execute(
        dialect_insert(ctx.session, RotaTask.__table__).values(
            community_id=ctx.community_id, key=details.key, name=details.name, description="",
            cadence=details.cadence, weekday=details.weekday, trade_ids=[], active=False,
            created_at=ctx.clock.now(),
        ).on_conflict_do_nothing())
    task = await ctx.session.scalar(select(RotaTask).where(
        RotaTask.community_id == ctx.community_id, RotaTask.key == details.key).with_for_update())
    assert task is not None
    await check_task(ctx, form)
    task.name, task.description, task.cadence = details.name, details.description, details.cadence
    task.weekday, task.trade_ids, task.active = details.weekday, list(details.trade_ids), True
    task.created_by = ctx.caller.member_id
    await ctx.session.flush()
    turn = await plan_next(ctx.session, ctx.scheduler, task, ctx.clock.now(), first=True)
    assert turn is not None
    modlog = (await ctx.settings()).modlog_channel_id
    return added_card(ctx.catalog, ctx.caller.locale, task, turn, timezone=ctx.caller.timezone,
                      modlog=bool(modlog))


async def _active_task(ctx: Context, name: str) -> RotaTask:
    task = await ctx.session.scalar(select(RotaTask).where(
        RotaTask.community_id == ctx.community_id, RotaTask.key == task_key(name[:200]),
        RotaTask.active.is_(True)))
    if task is None:
        raise UserError("pooling.tasks.errors.unknown_name", name=" ".join(name.split())[:80])
    return task


@moderator_only
async def check_remove(ctx: Context, name: str) -> None:
    """Read-only: the task to remove exists (refusals are answered before Discord's "thinking…")."""
    await _active_task(ctx, name)


@moderator_only
async def remove_task(ctx: Context, name: str) -> str:
    """Stop a task: no more turns or reminders (its history stays for the moderators' view)."""
    task = await _active_task(ctx, name)
    task.active = False
    # Only turns still pending stop (one conditional UPDATE): a turn marked Done meanwhile stays done.
    stopped = list(await ctx.session.scalars(
        update(RotaTurn).where(RotaTurn.community_id == ctx.community_id, RotaTurn.task_id == task.id,
                               RotaTurn.status == PENDING)
        .values(status=STOPPED).returning(RotaTurn.id).execution_options(synchronize_session=False)))
    for turn_id in stopped:
        for kind in (REMIND, ROLL):
            for job_id in await _turn_jobs(ctx.session, ctx.community_id, turn_id, kind):
                await ctx.scheduler.cancel(ctx.session, job_id=job_id, community_id=ctx.community_id)
    return task.name


async def task_names(ctx: Context) -> list[str]:
    """The active tasks' names (autocomplete of /tasks remove)."""
    return list(await ctx.session.scalars(select(RotaTask.name).where(
        RotaTask.community_id == ctx.community_id, RotaTask.active.is_(True)).order_by(RotaTask.id)))


@moderator_only
async def history(ctx: Context) -> Card:
    """Who did what and how often, per task, and the latest turns (moderators only)."""
    tasks = list(await ctx.session.scalars(select(RotaTask).where(
        RotaTask.community_id == ctx.community_id, RotaTask.active.is_(True)).order_by(RotaTask.id)))
    found = [(task, await tallies(ctx.session, ctx.community_id, task.id),
              await recent_turns(ctx.session, ctx.community_id, task.id, HISTORY_TURNS)) for task in tasks]
    return history_card(ctx.catalog, ctx.caller.locale, found)


# -- platform work and jobs -----------------------------------------------------------------------------


async def _claim(services: Services, turn: RotaTurn, member_id: int) -> int | None:
    async with services.db.transaction() as session:
        stmt = dialect_insert(session, RotaDelivery.__table__).values(
            community_id=turn.community_id, turn_id=turn.id, member_id=member_id,
            sent_at=services.clock.now(),
        ).on_conflict_do_nothing()
        return await session.scalar(stmt.returning(RotaDelivery.__table__.c.id))


async def send_turn(services: Services, community_id: int, turn_id: int) -> bool:
    """The holder's DM with Done / Can't, once per (turn, holder); raises when it failed (retried)."""
    async with services.db.transaction(write=False) as session:
        turn = await get_turn(session, community_id, turn_id)
        task = await session.get(RotaTask, turn.task_id)
        community = await session.get(Community, community_id)
        holder = await session.get(Member, turn.assignee_id) if turn.assignee_id else None
    if turn.status != PENDING or holder is None or task is None or community is None:
        return False
    notifier = services.notifiers.get(community.platform)
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    claim = await _claim(services, turn, holder.id)
    if claim is None:
        return False
    card = turn_card(services.catalog, holder.locale or community.locale, task, turn,
                     timezone=community.timezone, passed=turn.passes > 0)
    try:
        await notifier.dm(community.external_id, holder.platform_user_id, card)
    except Exception:
        async with services.db.transaction() as session:
            await session.execute(delete(RotaDelivery).where(RotaDelivery.id == claim))
        raise
    return True


async def tell_moderators(services: Services, community_id: int, turn_id: int, reason: str) -> bool:
    """The moderators hear that nobody holds a coming turn, or that it came back after Can't.

    In their log channel; without one (the default), or when it is gone, refuses the bot or fails, by
    DM to the task's creator and the moderators the settings list (Slack), through the outbox. The turn
    is marked told only when someone was: True then. A failing channel with nobody DM'd raises (retried).
    """
    async with services.db.transaction(write=False) as session:
        turn = await get_turn(session, community_id, turn_id)
        task = await session.get(RotaTask, turn.task_id)
        community = await session.get(Community, community_id)
        # Not get_settings: it may insert the default row, a write in this read-only transaction.
        settings = await session.get(CommunitySettings, community_id)
        declined = await session.get(Member, turn.declined_id) if turn.declined_id else None
        if reason == "nobody" and (turn.status != PENDING or turn.assignee_id is not None):
            return False  # someone took it since
        moderators = await _moderators(session, community_id, task, settings, turn.declined_id)
    notifier = services.notifiers.get(community.platform) if community else None
    if task is None or community is None or notifier is None:
        return False
    name = declined.display_name if declined else "—"
    card = moderators_card(services.catalog, community.locale, task, turn, reason, name,
                           timezone=community.timezone)
    told, failed = False, None
    channel = settings.modlog_channel_id if settings else None
    if channel:
        try:
            told = await notifier.post(community.external_id, channel, card) is not None
        except CannotPost as refused:
            log.info("rota turn %s: the moderators' log channel refuses the bot (%s)", turn_id,
                     refused.reason)
        except BUGS:
            raise
        except Exception as error:  # the platform failed: the DMs now, else the job's retry
            failed = error
    if not told:
        for member in moderators:
            mine = moderators_card(services.catalog, member.locale or community.locale, task, turn, reason,
                                   name, timezone=community.timezone, by_dm=True)
            named = (declined.id,) if declined else ()  # the card names who said Can't
            told = await send_dm(services, community, member.id, member.platform_user_id, mine,
                                 about=named) or told
    if not told:
        if failed is not None:
            raise failed
        log.warning("rota turn %s (%s): no moderator could be told in community %s", turn_id, reason,
                    community_id)
        return False
    async with services.db.transaction() as session:
        await session.execute(update(RotaTurn).where(RotaTurn.id == turn_id)
                              .values(moderators_told_at=services.clock.now())
                              .execution_options(synchronize_session=False))
    return True


async def _moderators(session: AsyncSession, community_id: int, task: RotaTask | None,
                      settings: CommunitySettings | None, declined_id: int | None) -> list[Member]:
    """Who is DM'd without a usable log channel; never the member who just said Can't.

    The task's creator (a moderator when adding it) and the moderators listed by user on Slack
    (Discord's moderator role lists nobody to a bot without the members intent).
    """
    users: set[str] = set()
    if settings is not None:
        users = {*(settings.moderator_user_ids or ()), *(settings.moderator_usergroup_user_ids or ())}
    creator = task.created_by if task else None
    if creator is None and not users:
        return []
    found = await session.scalars(
        select(Member).where(Member.community_id == community_id,
                             or_(Member.id == creator, Member.platform_user_id.in_(sorted(users))))
        .order_by(Member.id != creator, Member.id).limit(MAX_MODERATOR_DMS + 1))
    return [m for m in found if m.id != declined_id][:MAX_MODERATOR_DMS]


async def _gone(services: Services, community_id: int, task_id: int) -> set[int]:
    """The task's volunteers who left the community (the platform says so; unsure counts as present)."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        rows = (await session.execute(
            select(Member.id, Member.platform_user_id)
            .join(RotaVolunteer, RotaVolunteer.member_id == Member.id)
            .where(RotaVolunteer.community_id == community_id, RotaVolunteer.task_id == task_id))).all()
    notifier = services.notifiers.get(community.platform) if community else None
    if community is None or notifier is None or not rows:
        return set()
    try:
        left = await notifier.departed(community.external_id, [str(user) for _, user in rows])
    except Exception:
        log.exception("rota: could not check who left community %s", community_id)
        return set()
    return {int(member) for member, user in rows if user in left}


async def remind_job(services: Services, run: JobRun) -> None:
    """Before a turn: its holder gets the DM, or the moderators are told (each once).

    Volunteers who left the community are skipped first (their volunteering ends), and a turn that
    nobody (or someone who left) holds is given to the fairest volunteer still there. The notice is
    keyed by this job's row: its retries find it, a REMIND queued again (a holder deleted their data)
    tells the moderators again.
    """
    assert run.community_id is not None
    cid, turn_id = run.community_id, int(run.payload["turn_id"])
    async with services.db.transaction(write=False) as session:
        found = await session.scalar(select(RotaTurn.task_id).where(RotaTurn.community_id == cid,
                                                                     RotaTurn.id == turn_id))
    if found is None:
        return
    gone = await _gone(services, cid, int(found))
    async with services.db.transaction() as session:
        turn = await session.scalar(
            select(RotaTurn).where(RotaTurn.community_id == cid, RotaTurn.id == turn_id))
        if turn is None or turn.status != PENDING:
            return
        task = await session.get(RotaTask, turn.task_id)
        assert task is not None
        now = services.clock.now()
        if turn.remind_at > now:
            return  # moved since this job was planned: its own REMIND comes
        if await replan(session, services.scheduler, turn, task, now, reminding=True):
            return  # the settings changed since it was planned: reminded at its new time
        if gone:
            await session.execute(delete(RotaVolunteer).where(
                RotaVolunteer.community_id == cid, RotaVolunteer.task_id == task.id,
                RotaVolunteer.member_id.in_(gone)))
        declined = {turn.declined_id} if turn.declined_id else set()
        if turn.assignee_id is None or turn.assignee_id in gone:
            chosen = await pick(session, task, declined | gone)
            await assign(session, turn, chosen, expected=turn.assignee_id)
        holder = await session.scalar(select(RotaTurn.assignee_id).where(RotaTurn.id == turn_id))
    if holder is not None:
        await send_turn(services, cid, turn_id)
        return
    async with services.db.transaction() as session:
        job_id = await services.scheduler.schedule(
            session, kind=NOTICE, due_at=services.clock.now(), community_id=cid,
            payload={"turn_id": turn_id, "reason": "nobody"},
            dedupe_key=_once(NOTICE, cid, turn_id, "nobody", cause=f"remind-{run.id}"))
    await services.scheduler.run_job(job_id)


async def roll_job(services: Services, run: JobRun) -> None:
    """A turn is due: the task's next one is planned and given (once: unique per due time).

    A turn planned under other settings that makes it due later today is moved instead (`replan`).
    """
    assert run.community_id is not None
    now = services.clock.now()
    async with services.db.transaction() as session:
        task = await session.scalar(select(RotaTask).where(
            RotaTask.community_id == run.community_id, RotaTask.id == int(run.payload["task_id"]),
            RotaTask.active.is_(True)))
        if task is None:
            return
        turn = await session.scalar(select(RotaTurn).where(
            RotaTurn.community_id == run.community_id, RotaTurn.id == int(run.payload.get("turn_id", 0))))
        if turn is not None and turn.status == PENDING:
            if turn.due_at > now:
                return  # moved since this job was planned: its own ROLL comes
            if await replan(session, services.scheduler, turn, task, now):
                return
        await plan_next(session, services.scheduler, task, now)


async def dm_job(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await send_turn(services, run.community_id, int(run.payload["turn_id"]))


async def notice_job(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await tell_moderators(services, run.community_id, int(run.payload["turn_id"]), str(run.payload["reason"]))


def register_jobs(services: Services) -> None:
    scheduler = services.scheduler
    scheduler.register(REMIND, functools.partial(remind_job, services), max_lateness=None)
    scheduler.register(ROLL, functools.partial(roll_job, services), max_lateness=None)
    scheduler.register(DM, functools.partial(dm_job, services), max_lateness=None)
    scheduler.register(NOTICE, functools.partial(notice_job, services), max_lateness=None)


# -- privacy ------------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    volunteering = await session.execute(
        select(RotaTask.name, RotaVolunteer.since).join(RotaTask, RotaTask.id == RotaVolunteer.task_id)
        .where(RotaVolunteer.community_id == community_id, RotaVolunteer.member_id == member_id)
        .order_by(RotaVolunteer.id))
    turns = await session.execute(
        select(RotaTask.name, RotaTurn.due_at, RotaTurn.status, RotaTurn.done_at,
               RotaTurn.assignee_id == member_id)
        .join(RotaTask, RotaTask.id == RotaTurn.task_id)
        .where(RotaTurn.community_id == community_id,
               (RotaTurn.assignee_id == member_id) | (RotaTurn.declined_id == member_id))
        .order_by(RotaTurn.due_at))
    created = await session.scalars(select(RotaTask.name).where(
        RotaTask.community_id == community_id, RotaTask.created_by == member_id).order_by(RotaTask.id))
    reminded = await session.execute(
        select(RotaTask.name, RotaTurn.due_at, RotaDelivery.sent_at)
        .join(RotaTurn, RotaTurn.id == RotaDelivery.turn_id).join(RotaTask, RotaTask.id == RotaTurn.task_id)
        .where(RotaDelivery.community_id == community_id, RotaDelivery.member_id == member_id)
        .order_by(RotaDelivery.id))
    return {
        "volunteering": [{"task": n, "since": s.isoformat()} for n, s in volunteering],
        "turns": [{"task": n, "due_at": d.isoformat(), "status": s,
                   "done_at": done.isoformat() if done else None,
                   "role": "holder" if held else "declined"} for n, d, s, done, held in turns],
        "tasks_defined": list(created),
        # The turn reminders DM'd to them (rota_deliveries: each sent once).
        "reminders": [{"task": n, "due_at": d.isoformat(), "sent_at": sent.isoformat()}
                      for n, d, sent in reminded],
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int, now: datetime) -> None:
    """Their volunteering and DMs go; their name leaves the history; a coming turn they held is given anew."""
    await session.execute(delete(RotaVolunteer).where(
        RotaVolunteer.community_id == community_id, RotaVolunteer.member_id == member_id))
    await session.execute(delete(RotaDelivery).where(
        RotaDelivery.community_id == community_id, RotaDelivery.member_id == member_id))
    held = list(await session.scalars(select(RotaTurn).where(
        RotaTurn.community_id == community_id, RotaTurn.assignee_id == member_id,
        RotaTurn.status == PENDING)))
    await session.execute(update(RotaTurn).where(RotaTurn.community_id == community_id,
                                                 RotaTurn.assignee_id == member_id).values(assignee_id=None))
    await session.execute(update(RotaTurn).where(RotaTurn.community_id == community_id,
                                                 RotaTurn.declined_id == member_id).values(declined_id=None))
    await session.execute(update(RotaTask).where(RotaTask.community_id == community_id,
                                                 RotaTask.created_by == member_id).values(created_by=None))
    for turn in held:  # given again by the REMIND job, now if its time passed (a job due now)
        if turn.remind_at <= now:
            queue(session, REMIND, community_id, {"turn_id": turn.id}, due_at=now)
