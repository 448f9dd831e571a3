"""Timed jobs: the `jobs` table is the truth, APScheduler 3 (in memory) is only the timer.

How a job runs, once, across restarts and across processes sharing one database:

- `schedule()` inserts a `pending` row inside the caller's transaction and arms a timer only once that
  transaction commits, so a rolled-back schedule never fires. A `dedupe_key` makes scheduling idempotent.
- Only rows due within `window` (default one hour) get a timer: `start()` arms those, and each sweep
  arms those that came within the window since. A row due later is left to a later sweep (the window
  is at least two sweeps wide, so a sweep always arms a row before it falls due). 50,000 pending jobs
  spread over weeks thus cost a start-up and memory proportional to one hour's jobs, not to all.
- Whoever wants to run a row (its timer, the sweep, another process) first claims it with one conditional
  UPDATE (`state='pending' AND due_at <= now`); only the caller whose UPDATE changed the row runs the
  handler, outside that transaction. Success marks it `done`; an exception puts it back to `pending`
  `retry_delay` later, then twice as long after each new failure (at most `MAX_RETRY_DELAY`), until
  `max_attempts`, then `failed`.
- A periodic sweep (every `sweep_seconds`, and right after `start()`) runs rows that fell due while no
  timer was armed (process down, row scheduled by another process), applying the kind's lateness
  policy: run late once if `now - due_at <= max_lateness` (None: always), else mark `skipped` and log.
  It also arms the rows due within the window that this process has no timer for yet.
- A `running` row whose claim is older than `stale_after` (the process died mid-job) is claimable again.
  Handlers must therefore finish well within `stale_after` (default 10 minutes).
- `stop()` stops the timers and the sweep, waits up to `stop_timeout` for handlers in flight, then
  cancels them; a cancelled handler's row goes back to `pending`, the interrupted attempt not counted,
  so it runs again after a restart.

All decisions use the injected clock; tests freeze it and call `run_due()` / `run_job()`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from storage.engine import Database, on_commit
from storage.models import Community, Job
from storage.sql import insert_for

log = logging.getLogger(__name__)
MAX_RETRY_DELAY = timedelta(hours=1)  # the longest wait between two attempts of a failing job
PAUSED_WAIT = timedelta(hours=1)  # how often a paused community's due jobs are looked at again
CANCELLED_MEMORY = 60.0  # seconds a cancelled id is kept from being armed again by a sweep in flight

PENDING, RUNNING, DONE, FAILED, SKIPPED = "pending", "running", "done", "failed", "skipped"


def queue(session: AsyncSession, kind: str, community_id: int | None, payload: dict[str, Any], *,
          due_at: datetime | None = None) -> None:
    """A job inserted in the caller's transaction where no scheduler is at hand (a privacy hook).

    Due now unless `due_at`; the next sweep (of this process or another) runs it.
    """
    session.add(Job(kind=kind, payload=payload, due_at=due_at or datetime.now(UTC), community_id=community_id,
                    state=PENDING, attempts=0))
_SWEEP_ID = "collectif:sweep"
_EXECUTOR = "collectif"
# APScheduler logs every job it files and fires at INFO: 10,000 lines on a start. The rows are the record;
# these loggers stay at WARNING unless the operator's logging config sets them.
_TIMER_LOGGERS = ("bot.scheduler.timer", f"apscheduler.executors.{_EXECUTOR}")
_BATCH = 500


class Runtime(Protocol):
    """What jobs of the runtime itself need of bot.services.Services (the lifecycle's purge, the outbox).

    A protocol, so that those modules need not import bot.services, which imports them.
    """

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def scheduler(self) -> Scheduler: ...


@dataclass(frozen=True)
class JobRun:
    """What a handler receives: one attempt at one job row."""

    id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime  # a retry's own; a row that waited for its community: when it was due before
    community_id: int | None
    attempt: int


Handler = Callable[[JobRun], Awaitable[None]]


@dataclass(frozen=True)
class _Kind:
    handler: Handler
    max_lateness: timedelta | None
    retry_delay: timedelta
    while_paused: bool = False  # runs for a community that removed the bot (its purge)


_COLUMNS = (
    Job.id, Job.kind, Job.payload, Job.due_at, Job.original_due_at, Job.community_id, Job.attempts, Job.state
)



async def _shielded(step: Awaitable[Any]) -> None:
    """Run `step` to its end even if the caller is cancelled meanwhile, then let the cancellation through.

    For the scheduler's record of a job's outcome: once its handler ran, the outcome must be stored.
    The write is bounded by the database's busy timeout, so a shutdown waits at most that long.
    """
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("recording a job's outcome failed during the shutdown", exc_info=task.exception())
        raise

class Scheduler:
    """Runs registered job kinds at their due time, exactly once, from the `jobs` table."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        sweep_seconds: float = 30,
        max_attempts: int = 5,
        worker_id: str | None = None,
        stale_after: timedelta = timedelta(minutes=10),
        concurrency: int = 8,
        stop_timeout: float = 10.0,
        window: timedelta = timedelta(hours=1),
    ) -> None:
        self.db = db
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self.max_attempts = max_attempts
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")[:64]
        self.stale_after = stale_after
        self.stop_timeout = stop_timeout
        self.window = max(window, timedelta(seconds=2 * sweep_seconds))
        self._kinds: dict[str, _Kind] = {}
        self._armed: dict[int, datetime] = {}
        # Ids cancelled in the last CANCELLED_MEMORY seconds -> when: a sweep that read them as pending
        # just before the cancel committed must not arm them again.
        self._cancelled: dict[int, float] = {}
        self._timer: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._sweeping = False
        # Told of each attempt: (kind, outcome "done" | "retry" | "failed", seconds, delay past due);
        # `collectif run` sets it to the metrics (bot.ops.metrics.Metrics.job).
        self.observer: Callable[[str, str, float, float], None] | None = None

        def fire(job_id: int) -> None:
            self._on_job_timer(job_id)

        # APScheduler checks the callable's signature on every add_job; a precomputed one halves the
        # cost of arming thousands of rows at start.
        fire.__signature__ = inspect.signature(fire)  # type: ignore[attr-defined]
        self._fire = fire

    # -- registration and scheduling -------------------------------------------------------------

    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        max_lateness: timedelta | None = None,
        retry_delay: timedelta = timedelta(minutes=1),
        while_paused: bool = False,
    ) -> None:
        """Declare how to run jobs of `kind` (features call this at setup, before or after start).

        A job of a community that removed the bot (paused, `Community.active` false) does not run
        unless its kind runs `while_paused` (the purge): it waits, checked every PAUSED_WAIT, and runs
        if the community comes back (its `max_lateness` still applies), or goes with the purge. No
        reminder, DM or decision goes out for a server that no longer has the bot.
        """
        self._kinds[kind] = _Kind(handler, max_lateness, retry_delay, while_paused)
        if self.running:
            self._spawn(self._guarded(self._arm_from_db(kinds=[kind]), f"arming {kind}"))

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._kinds)

    @property
    def running(self) -> bool:
        return self._timer is not None

    @property
    def armed(self) -> frozenset[int]:
        """Ids of the rows whose timer is set in this process (diagnostics and tests)."""
        return frozenset(self._armed)

    async def schedule(
        self,
        session: AsyncSession,
        *,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        community_id: int | None = None,
        dedupe_key: str | None = None,
    ) -> int:
        """Insert a pending job in the caller's transaction; its timer is armed once that commits.

        With a `dedupe_key` (unique across the table: put the community in it), scheduling the same key
        again returns the existing row's id and changes nothing.
        """
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        due_at = due_at.astimezone(UTC)
        values = {
            "kind": kind,
            "payload": payload or {},
            "due_at": due_at,
            "community_id": community_id,
            "dedupe_key": dedupe_key,
            "state": PENDING,
            "attempts": 0,
            "created_at": self.clock.now(),
        }
        insert = _insert_job(session.get_bind().dialect.name, dedupe_key is not None)
        job_id = await session.scalar(insert, values)
        if job_id is None:  # the key exists: idempotent, the existing row keeps its own timer
            existing = await session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key))
            assert existing is not None
            return int(existing)
        self._cancelled.pop(job_id, None)  # a new row (SQLite may reuse a deleted row's id)
        on_commit(session, lambda: self._arm_if_soon(job_id, due_at))
        return int(job_id)

    async def cancel(
        self,
        session: AsyncSession,
        *,
        job_id: int | None = None,
        dedupe_key: str | None = None,
        community_id: int | None = None,
    ) -> bool:
        """Mark a pending job skipped (by id or dedupe key, within `community_id` when given)."""
        if (job_id is None) == (dedupe_key is None):
            raise ValueError("give exactly one of job_id or dedupe_key")
        target = Job.id == job_id if job_id is not None else Job.dedupe_key == dedupe_key
        where = [Job.state == PENDING, target]
        if community_id is not None:
            where.append(Job.community_id == community_id)
        ids = (
            await session.scalars(
                update(Job)
                .where(*where)
                .values(state=SKIPPED, finished_at=self.clock.now(), last_error="cancelled")
                .returning(Job.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
        for cancelled in ids:
            on_commit(session, functools.partial(self._forget_cancelled, cancelled))
        return bool(ids)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Arm the pending rows due within the window, then sweep at once and every `sweep_seconds`."""
        if self._timer is not None:
            return
        for name in _TIMER_LOGGERS:
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.WARNING)
        timer = AsyncIOScheduler(
            timezone=UTC,
            # Timer callbacks only spawn our own tasks, synchronously on the loop: APScheduler's
            # asyncio executor would cancel (and log) whatever is in flight when it shuts down.
            executors={_EXECUTOR: DebugExecutor()},
            logger=logging.getLogger(_TIMER_LOGGERS[0]),
            # The database decides whether a late job still runs; the timer must never drop one.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self._timer = timer  # claimed before the first await: a concurrent start() returns at once
        try:
            now = self.clock.now()
            rows = await self._pending_rows(after=now, before=now + self.window, kinds=list(self._kinds))
        except BaseException:
            self._timer = None
            raise
        if self._timer is not timer:  # stop() was called meanwhile
            return
        # Added before timer.start(): APScheduler then files them without one wake-up per job.
        self._arm_many(rows)
        timer.add_job(
            self._on_sweep_timer,
            "interval",
            executor=_EXECUTOR,
            seconds=self.sweep_seconds,
            id=_SWEEP_ID,
            next_run_time=datetime.now(UTC),
        )
        timer.start()
        log.info("scheduler %s started: %d jobs armed", self.worker_id, len(rows))

    async def stop(self) -> None:
        """Stop timers and sweep, let handlers in flight finish (up to `stop_timeout`); idempotent."""
        timer, self._timer = self._timer, None
        if timer is not None and timer.running:
            timer.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler.shutdown only queues itself on the loop
        self._armed.clear()
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if timer is not None:
            log.info("scheduler %s stopped", self.worker_id)

    # -- running -----------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Sweep once: run every due row this process has a handler for; returns how many ran."""
        now = self.clock.now()
        await self._fail_exhausted_stale(now)
        kinds = list(self._kinds)
        seen: set[int] = set()
        ran = 0
        while kinds:
            query = select(*_COLUMNS).where(self._claimable(now), Job.kind.in_(kinds))
            if seen:  # rows this sweep already tried (someone else may hold them) are not retried
                query = query.where(Job.id.not_in(seen))
            async with self.db.transaction(write=False) as session:  # a read: no write lock
                rows = (await session.execute(query.order_by(Job.due_at, Job.id).limit(_BATCH))).all()
            if not rows:
                break
            seen.update(row.id for row in rows)
            results = await asyncio.gather(*(self._run_row(row) for row in rows))
            ran += sum(results)
            if len(rows) < _BATCH:
                break
        if self.running:  # top up: rows that came within the window, or were scheduled elsewhere
            known = await self._pending_rows(after=now, before=now + self.window, kinds=kinds)
            self._arm_many([row for row in known if self._armed.get(row.id) != row.due_at])
        return ran

    async def run_job(self, job_id: int) -> bool:
        """Run one row now if it is due and claimable; True when this call ran its handler."""
        async with self.db.transaction(write=False) as session:  # a read: no write lock
            row = (await session.execute(select(*_COLUMNS).where(Job.id == job_id))).first()
        if row is None or row.kind not in self._kinds:
            return False
        return await self._run_row(row)

    async def _run_row(self, row: Row[Any]) -> bool:
        async with self._slots:
            return await self._run_claimed(row)

    async def _run_claimed(self, row: Row[Any]) -> bool:
        spec = self._kinds[row.kind]
        now = self.clock.now()
        due = _due(row)
        if spec.max_lateness is not None and now - due > spec.max_lateness:
            await self._skip_stale(row, due, now)
            return False
        if not await self._claim(row.id, now):
            return False
        community = row.community_id
        if community is not None and not spec.while_paused and not await self._active(community):
            await self._wait_for_community(row.id, due, now)
            return False
        run = JobRun(row.id, row.kind, dict(row.payload or {}), due, row.community_id, row.attempts + 1)
        started = time.perf_counter()
        outcome = DONE
        try:
            await spec.handler(run)
        except asyncio.CancelledError:
            await asyncio.shield(self._release(run))
            raise
        except Exception as exc:
            log.exception("job %s (%s) failed on attempt %d", run.id, run.kind, run.attempt)
            outcome = FAILED if run.attempt >= self.max_attempts else "retry"
            await _shielded(self._failed(run, spec, exc))
        else:
            # Done is recorded even when a shutdown comes meanwhile (waiting for the write lock): left
            # "running", the row would be claimed again once stale and the job run a second time.
            await _shielded(self._finish(run.id, state=DONE, last_error=None, finished_at=self.clock.now()))
        if self.observer is not None:  # how late the scheduler was, not how long a community was away
            late = (now - row.due_at).total_seconds()
            self.observer(run.kind, outcome, time.perf_counter() - started, late)
        return True

    async def _active(self, community_id: int) -> bool:
        async with self.db.transaction(write=False) as session:
            return bool(await session.scalar(select(Community.active).where(Community.id == community_id)))

    async def _wait_for_community(self, job_id: int, due: datetime, now: datetime) -> None:
        """The community removed the bot: the row waits (the attempt not counted) until it is back, or purged.

        Looked at again every PAUSED_WAIT; `original_due_at` keeps when it was due, so that its lateness
        limit still counts from then and not from the last look.
        """
        await self._finish(job_id, state=PENDING, last_error="the community removed the bot", claimed_by=None,
                           due_at=now + PAUSED_WAIT, original_due_at=due, attempts=Job.attempts - 1)

    def _claimable(self, now: datetime) -> Any:
        """Due and either pending, or running under a claim so old its process must have died."""
        return and_(
            Job.due_at <= now,
            Job.attempts < self.max_attempts,
            or_(
                Job.state == PENDING,
                and_(Job.state == RUNNING, Job.claimed_at < now - self.stale_after),
            ),
        )

    async def _claim(self, job_id: int, now: datetime) -> bool:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.id == job_id, self._claimable(now))
                .values(state=RUNNING, claimed_by=self.worker_id, claimed_at=now, attempts=Job.attempts + 1)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def _finish(self, job_id: int, *, state: str, last_error: str | None, **extra: Any) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == RUNNING, Job.claimed_by == self.worker_id)
                .values(state=state, last_error=last_error, **extra)
                .execution_options(synchronize_session=False)
            )

    async def _failed(self, run: JobRun, spec: _Kind, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        now = self.clock.now()
        if run.attempt >= self.max_attempts:
            log.error("job %s (%s) gave up after %d attempts", run.id, run.kind, run.attempt)
            await self._finish(run.id, state=FAILED, last_error=error, finished_at=now)
            return
        # Doubling each time (1, 2, 4, 8 … minutes by default, at most an hour): an outage of some
        # minutes does not use up every attempt of the jobs due during it.
        delay = min(spec.retry_delay * 2 ** (run.attempt - 1), max(spec.retry_delay, MAX_RETRY_DELAY))
        retry_at = now + delay
        # A retry's lateness counts from its own due time, whether or not the row waited for its community.
        await self._finish(run.id, state=PENDING, last_error=error, due_at=retry_at, original_due_at=None,
                           claimed_by=None)
        self._arm_if_soon(run.id, retry_at)

    async def _release(self, run: JobRun) -> None:
        """A handler cancelled by stop(): give the row back, and its attempt with it.

        The shutdown interrupted the attempt; the job did not fail. Counted, an interrupted last attempt
        would leave a pending row that no sweep claims any more (attempts == max_attempts): a reminder
        never sent, a kept DM's follow-up never queued. A job that crashes its process still uses up
        its attempts (its claim goes stale: `_fail_exhausted_stale`).
        """
        try:
            await self._finish(run.id, state=PENDING, last_error="interrupted by shutdown", claimed_by=None,
                               attempts=Job.attempts - 1)
        except SQLAlchemyError:
            log.exception("could not release job %s; it becomes claimable after %s", run.id, self.stale_after)

    async def _skip_stale(self, row: Row[Any], due: datetime, now: datetime) -> None:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.id == row.id, self._claimable(now))
                .values(state=SKIPPED, finished_at=now, last_error=f"stale: due {due.isoformat()}")
                .execution_options(synchronize_session=False)
            )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            log.warning(
                "job %s (%s) skipped: due %s, now %s, beyond its lateness limit",
                row.id, row.kind, due.isoformat(), now.isoformat(),
            )

    async def _fail_exhausted_stale(self, now: datetime) -> None:
        """Stale claims with no attempt left are failed, not retried forever."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Job)
                .where(
                    Job.state == RUNNING,
                    Job.claimed_at < now - self.stale_after,
                    Job.attempts >= self.max_attempts,
                )
                .values(state=FAILED, finished_at=now, last_error="claim went stale on the last attempt")
                .execution_options(synchronize_session=False)
            )

    # -- timers ------------------------------------------------------------------------------------

    async def _pending_rows(
        self, *, after: datetime, before: datetime | None = None, kinds: Sequence[str]
    ) -> Sequence[Row[int, datetime]]:
        if not kinds:
            return []
        query = select(Job.id, Job.due_at).where(
            Job.state == PENDING, Job.due_at > after, Job.kind.in_(kinds)
        )
        if before is not None:
            query = query.where(Job.due_at <= before)
        async with self.db.transaction(write=False) as session:  # a read: no write lock
            return (await session.execute(query)).all()

    async def _arm_from_db(self, *, kinds: Sequence[str]) -> None:
        now = self.clock.now()
        self._arm_many(await self._pending_rows(after=now, before=now + self.window, kinds=kinds))

    def _arm_many(self, rows: Iterable[Row[int, datetime]]) -> None:
        timer = self._timer
        if timer is None:
            return
        # While paused, APScheduler files jobs without waking up once per job; resume wakes it once.
        started = timer.running
        if started:
            timer.pause()
        try:
            for row in rows:
                self._arm(row.id, row.due_at)
        finally:
            if started:
                timer.resume()

    def _arm_if_soon(self, job_id: int, due_at: datetime) -> None:
        """Arm a row due within the window; a later one is armed by the sweep that finds it within."""
        if due_at <= self.clock.now() + self.window:
            self._arm(job_id, due_at)
        else:
            self._disarm(job_id)  # a retry pushed beyond the window: its old timer must not fire early

    def _arm(self, job_id: int, due_at: datetime) -> None:
        if self._timer is None or self._recently_cancelled(job_id):
            return
        self._armed[job_id] = due_at
        self._timer.add_job(
            self._fire, "date", run_date=due_at, args=(job_id,), id=str(job_id), replace_existing=True,
            executor=_EXECUTOR,
        )

    def _forget_cancelled(self, job_id: int) -> None:
        self._disarm(job_id)
        now = time.monotonic()
        self._cancelled[job_id] = now
        while self._cancelled and next(iter(self._cancelled.values())) < now - CANCELLED_MEMORY:
            del self._cancelled[next(iter(self._cancelled))]

    def _recently_cancelled(self, job_id: int) -> bool:
        when = self._cancelled.get(job_id)
        return when is not None and when >= time.monotonic() - CANCELLED_MEMORY

    def _disarm(self, job_id: int) -> None:
        if self._timer is None or self._armed.pop(job_id, None) is None:
            return
        if self._timer.get_job(str(job_id)) is not None:
            self._timer.remove_job(str(job_id))

    def _on_job_timer(self, job_id: int) -> None:
        self._armed.pop(job_id, None)
        if self.running:
            self._spawn(self._guarded(self.run_job(job_id), f"job {job_id}"))

    def _on_sweep_timer(self) -> None:
        if self.running and not self._sweeping:
            self._spawn(self._sweep())

    async def _sweep(self) -> None:
        self._sweeping = True
        try:
            await self._guarded(self.run_due(), "sweep")
        finally:
            self._sweeping = False

    async def _guarded(self, work: Awaitable[Any], what: str) -> None:
        try:
            await work
        except Exception:
            # The row stays as it was (or goes stale); the next sweep or another process picks it up.
            log.exception("scheduler %s: error during %s", self.worker_id, what)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Our own tasks, not APScheduler's: its shutdown would cancel them mid-handler."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _due(row: Row[Any]) -> datetime:
    """When the row was due: before it waited for its community, if it did (its lateness counts from then)."""
    return row.original_due_at or row.due_at


@functools.cache
def _insert_job(dialect: str, dedupe: bool) -> Any:
    """The pending job's INSERT … RETURNING id, built once (a dedupe key that exists inserts nothing)."""
    insert = insert_for(dialect, Job.__table__)
    if dedupe:
        insert = insert.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return insert.returning(Job.__table__.c.id)
