"""The scheduler runs each job once: across two schedulers, restarts, retries, late starts."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.clock import FrozenClock, SystemClock
from bot.scheduler import JobRun, Scheduler
from storage.communities import ensure_community
from storage.engine import Database
from storage.models import Community, Job

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class Recorder:
    """A handler that remembers every run; optionally fails or waits."""

    def __init__(self, *, fail: bool = False, pause: bool = False) -> None:
        self.runs: list[JobRun] = []
        self.fail = fail
        self.pause = pause
        self.called = asyncio.Event()

    async def __call__(self, run: JobRun) -> None:
        self.runs.append(run)
        self.called.set()
        if self.pause:
            await asyncio.sleep(0)  # let the other scheduler interleave
        if self.fail:
            raise RuntimeError(f"boom {run.attempt}")

    @property
    def ids(self) -> list[int]:
        return [run.id for run in self.runs]


async def schedule(scheduler: Scheduler, db: Database, **kwargs: Any) -> int:
    async with db.transaction() as session:
        return await scheduler.schedule(session, **kwargs)


async def job(db: Database, job_id: int) -> Job:
    async with db.sessionmaker() as session:
        row = await session.get(Job, job_id)
        assert row is not None
        return row


async def count_jobs(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


@pytest.fixture
def live_clock() -> FrozenClock:
    """A frozen clock at the real time, for tests that start the real timer (rows stay in the future)."""
    return FrozenClock(datetime.now(UTC))


async def test_due_job_runs_once_with_its_payload(any_db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, clock)
    handler = Recorder()
    scheduler.register("remind", handler)
    job_id = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + MINUTE,
                            payload={"member": 7, "text": "Jeudi 19h"})

    assert await scheduler.run_due() == 0
    clock.advance(MINUTE)
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert await scheduler.run_job(job_id) is False

    [run] = handler.runs
    assert (run.id, run.kind, run.attempt) == (job_id, "remind", 1)
    assert run.payload == {"member": 7, "text": "Jeudi 19h"}
    assert run.due_at == clock.now()
    row = await job(any_db, job_id)
    assert (row.state, row.attempts, row.finished_at, row.last_error) == ("done", 1, clock.now(), None)


async def test_two_schedulers_on_one_database_run_each_job_once(any_db_url: str, clock: FrozenClock) -> None:
    # Two engines on one database: what two bot processes see.
    first_db, second_db = Database.from_url(any_db_url), Database.from_url(any_db_url)
    if first_db.is_sqlite:
        from storage.migrate import upgrade

        await upgrade(first_db.engine)
    try:
        handler = Recorder(pause=True)
        first = Scheduler(first_db, clock, worker_id="first")
        second = Scheduler(second_db, clock, worker_id="second")
        for scheduler in (first, second):
            scheduler.register("remind", handler)
        async with first_db.transaction() as session:
            ids = [
                await first.schedule(session, kind="remind", due_at=clock.now() - i * timedelta(seconds=1))
                for i in range(120)
            ]

        ran = await asyncio.gather(first.run_due(), second.run_due())
        # And the timer path racing for the same rows: nothing left to run.
        again = await asyncio.gather(*(s.run_job(i) for i in ids[:20] for s in (first, second)))

        assert sum(ran) == 120
        assert not any(again)
        assert Counter(handler.ids) == Counter(ids)
        async with first_db.sessionmaker() as session:
            states = Counter((await session.scalars(select(Job.state))).all())
            workers = set((await session.scalars(select(Job.claimed_by))).all())
        assert states == {"done": 120}
        assert workers <= {"first", "second"}
    finally:
        await first_db.dispose()
        await second_db.dispose()


async def test_rows_survive_a_restart_and_run_once(any_db_url: str, live_clock: FrozenClock) -> None:
    handler = Recorder()
    first_db = Database.from_url(any_db_url)
    if first_db.is_sqlite:
        from storage.migrate import upgrade

        await upgrade(first_db.engine)
    before = Scheduler(first_db, live_clock)
    before.register("remind", handler)
    await before.start()
    job_id = await schedule(before, first_db, kind="remind", due_at=live_clock.now() + timedelta(hours=1))
    assert job_id in before.armed
    await before.stop()
    await first_db.dispose()

    second_db = Database.from_url(any_db_url)
    try:
        after = Scheduler(second_db, live_clock)
        after.register("remind", handler)
        await after.start()
        assert after.armed == {job_id}
        live_clock.advance(timedelta(hours=1))
        await after.run_due()  # (or its own start-up sweep, running concurrently, gets there first)
        assert await after.run_job(job_id) is False
        await after.stop()
        assert handler.ids == [job_id]
        assert (await job(second_db, job_id)).state == "done"
    finally:
        await second_db.dispose()


async def test_catch_up_runs_late_jobs_once_and_skips_stale_ones(
    any_db: Database, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = Scheduler(any_db, clock)
    late, stale, always = Recorder(), Recorder(), Recorder()
    scheduler.register("late", late, max_lateness=timedelta(hours=1))
    scheduler.register("stale", stale, max_lateness=timedelta(minutes=10))
    scheduler.register("always", always)
    ids = {kind: await schedule(scheduler, any_db, kind=kind, due_at=clock.now())
           for kind in ("late", "stale")}
    ids["always"] = await schedule(scheduler, any_db, kind="always", due_at=clock.now() - timedelta(days=3))

    clock.advance(timedelta(minutes=30))  # the bot was down for half an hour
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert await scheduler.run_due() == 2
    assert await scheduler.run_due() == 0

    assert late.ids == [ids["late"]]
    assert always.ids == [ids["always"]]
    assert stale.runs == []
    row = await job(any_db, ids["stale"])
    assert row.state == "skipped"
    assert row.attempts == 0
    assert f"job {ids['stale']} (stale) skipped" in caplog.text


async def test_failures_retry_later_then_fail_after_max_attempts(
    any_db: Database, clock: FrozenClock
) -> None:
    scheduler = Scheduler(any_db, clock, max_attempts=3)
    handler = Recorder(fail=True)
    scheduler.register("flaky", handler, retry_delay=5 * MINUTE)
    job_id = await schedule(scheduler, any_db, kind="flaky", due_at=clock.now())

    assert await scheduler.run_due() == 1
    row = await job(any_db, job_id)
    assert (row.state, row.attempts, row.due_at) == ("pending", 1, clock.now() + 5 * MINUTE)
    assert row.last_error == "RuntimeError: boom 1"
    assert await scheduler.run_due() == 0  # not before the retry delay

    clock.advance(5 * MINUTE)
    assert await scheduler.run_due() == 1
    row = await job(any_db, job_id)
    assert row.due_at == clock.now() + 10 * MINUTE  # twice as long after each failure
    clock.advance(5 * MINUTE)
    assert await scheduler.run_due() == 0
    clock.advance(5 * MINUTE)
    assert await scheduler.run_due() == 1
    clock.advance(timedelta(hours=1))
    assert await scheduler.run_due() == 0

    assert [run.attempt for run in handler.runs] == [1, 2, 3]
    row = await job(any_db, job_id)
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "RuntimeError: boom 3")
    assert row.finished_at == clock.now() - timedelta(hours=1)


async def test_a_rolled_back_schedule_never_fires(any_db: Database, live_clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, live_clock)
    handler = Recorder()
    scheduler.register("remind", handler)
    await scheduler.start()
    try:
        async def schedule_then_fail() -> None:
            async with any_db.transaction() as session:
                await scheduler.schedule(session, kind="remind", due_at=live_clock.now() + MINUTE)
                assert scheduler.armed == set()  # not before the commit
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await schedule_then_fail()
        kept = await schedule(scheduler, any_db, kind="remind", due_at=live_clock.now() + MINUTE)

        assert scheduler.armed == {kept}
        assert await count_jobs(any_db) == 1
        live_clock.advance(MINUTE)
        await scheduler.run_due()
    finally:
        await scheduler.stop()
    assert handler.ids == [kept]


async def test_a_dedupe_key_schedules_once(any_db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, clock)
    scheduler.register("remind", Recorder())
    first = await schedule(scheduler, any_db, kind="remind", due_at=clock.now(), dedupe_key="afterwork:3:24h")
    again = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + MINUTE,
                           dedupe_key="afterwork:3:24h")
    racing = await asyncio.gather(*(
        schedule(scheduler, any_db, kind="remind", due_at=clock.now(), dedupe_key="afterwork:4:24h")
        for _ in range(10)
    ))

    assert again == first
    assert len(set(racing)) == 1
    assert await count_jobs(any_db) == 2
    assert (await job(any_db, first)).due_at == clock.now()  # the first schedule wins


async def test_cancel_is_scoped_by_community_and_disarms(any_db: Database, live_clock: FrozenClock) -> None:
    async with any_db.transaction() as session:
        ours = (await ensure_community(session, "discord", "1")).id
        theirs = (await ensure_community(session, "discord", "2")).id
    scheduler = Scheduler(any_db, live_clock)
    handler = Recorder()
    scheduler.register("remind", handler)
    await scheduler.start()
    try:
        by_id = await schedule(scheduler, any_db, kind="remind", due_at=live_clock.now() + MINUTE,
                               community_id=ours)
        by_key = await schedule(scheduler, any_db, kind="remind", due_at=live_clock.now() + MINUTE,
                                community_id=ours, dedupe_key="mission:9:expire")
        async with any_db.transaction() as session:
            elsewhere = await scheduler.cancel(session, dedupe_key="mission:9:expire", community_id=theirs)
            assert elsewhere is False
            assert await scheduler.cancel(session, job_id=by_id, community_id=ours) is True
            assert await scheduler.cancel(session, dedupe_key="mission:9:expire") is True
            assert scheduler.armed == {by_id, by_key}  # disarmed only once committed
        assert scheduler.armed == set()
        async with any_db.transaction() as session:
            assert await scheduler.cancel(session, job_id=by_id) is False

        live_clock.advance(timedelta(hours=1))
        assert await scheduler.run_due() == 0
        assert handler.runs == []
        assert (await job(any_db, by_key)).state == "skipped"
    finally:
        await scheduler.stop()


async def test_the_timer_fires_a_job_at_its_due_time(any_db: Database) -> None:
    scheduler = Scheduler(any_db, SystemClock())
    handler = Recorder()
    scheduler.register("remind", handler)
    await scheduler.start()
    try:
        due = datetime.now(UTC) + timedelta(milliseconds=50)
        job_id = await schedule(scheduler, any_db, kind="remind", due_at=due)
        await asyncio.wait_for(handler.called.wait(), timeout=1)
        started = datetime.now(UTC)
    finally:
        await scheduler.stop()
    assert handler.ids == [job_id]
    assert timedelta(0) <= started - due < timedelta(seconds=1)
    assert (await job(any_db, job_id)).state == "done"


async def test_a_stale_claim_is_taken_over(any_db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, clock, stale_after=timedelta(minutes=10))
    handler = Recorder()
    scheduler.register("remind", handler)
    dead = await schedule(scheduler, any_db, kind="remind", due_at=clock.now())
    busy = await schedule(scheduler, any_db, kind="remind", due_at=clock.now())
    async with any_db.transaction() as session:
        for job_id, claimed in ((dead, clock.now()), (busy, clock.now() + 9 * MINUTE)):
            await session.execute(
                update(Job).where(Job.id == job_id)
                .values(state="running", claimed_by="crashed", claimed_at=claimed, attempts=1)
            )
    clock.advance(timedelta(minutes=11))

    assert await scheduler.run_due() == 1
    assert handler.ids == [dead]
    assert handler.runs[0].attempt == 2
    assert (await job(any_db, dead)).state == "done"
    assert (await job(any_db, busy)).state == "running"


async def test_unregistered_kinds_stay_pending(any_db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, clock)
    job_id = await schedule(scheduler, any_db, kind="unknown", due_at=clock.now())
    assert await scheduler.run_due() == 0
    assert await scheduler.run_job(job_id) is False
    assert (await job(any_db, job_id)).state == "pending"


async def test_registering_after_start_arms_that_kind(db: Database, live_clock: FrozenClock) -> None:
    scheduler = Scheduler(db, live_clock)
    job_id = await schedule(scheduler, db, kind="later", due_at=live_clock.now() + timedelta(hours=1))
    await scheduler.start()
    try:
        assert scheduler.armed == set()
        scheduler.register("later", Recorder())
        for _ in range(100):
            if scheduler.armed:
                break
            await asyncio.sleep(0.005)
        assert scheduler.armed == {job_id}
    finally:
        await scheduler.stop()


async def test_start_and_stop_are_idempotent(db: Database, live_clock: FrozenClock) -> None:
    scheduler = Scheduler(db, live_clock)
    await scheduler.stop()  # never started
    await scheduler.start()
    await scheduler.start()
    assert scheduler.running
    await scheduler.stop()
    await scheduler.stop()
    assert not scheduler.running
    await scheduler.start()  # and again after a stop
    assert scheduler.running
    await scheduler.stop()


async def test_stop_gives_an_interrupted_job_back(db: Database) -> None:
    clock = SystemClock()
    scheduler = Scheduler(db, clock, stop_timeout=0.05)
    started = asyncio.Event()

    async def forever(run: JobRun) -> None:
        started.set()
        await asyncio.Event().wait()

    scheduler.register("slow", forever)
    job_id = await schedule(scheduler, db, kind="slow", due_at=clock.now() - MINUTE)
    await scheduler.start()  # its first sweep picks the job up
    await asyncio.wait_for(started.wait(), timeout=1)
    await scheduler.stop()

    row = await job(db, job_id)
    assert (row.state, row.attempts, row.claimed_by) == ("pending", 0, None)  # interrupted, not failed
    assert row.last_error == "interrupted by shutdown"


async def test_a_job_interrupted_on_its_last_attempt_runs_after_the_restart(
    any_db: Database, clock: FrozenClock
) -> None:
    """Before, the interrupted attempt counted: the row went back pending with attempts == max_attempts,
    which no sweep claims, and the reminder was never sent nor recorded as failed."""
    attempts: list[int] = []
    started = asyncio.Event()

    async def flaky(run: JobRun) -> None:
        attempts.append(run.attempt)
        if len(attempts) < 5:
            raise RuntimeError("503 Service Unavailable")  # a platform outage
        if len(attempts) == 5:
            started.set()
            await asyncio.Event().wait()  # the 5th attempt is in flight when the bot is redeployed

    first = Scheduler(any_db, clock, stop_timeout=0.05)
    first.register("remind", flaky)
    job_id = await schedule(first, any_db, kind="remind", due_at=clock.now())
    for _ in range(4):  # four failed attempts, with their backoff
        await first.run_due()
        clock.advance(timedelta(hours=1))
    await first.start()  # its first sweep takes the 5th attempt
    await asyncio.wait_for(started.wait(), timeout=2)
    await first.stop()  # a deploy cancels it

    second = Scheduler(any_db, clock)  # the new process
    second.register("remind", flaky)
    assert await second.run_due() == 1
    assert attempts == [1, 2, 3, 4, 5, 5]  # the interrupted attempt is made again
    assert (await job(any_db, job_id)).state == "done"


async def test_a_job_waiting_for_its_community_keeps_its_lateness_limit(
    any_db: Database, clock: FrozenClock
) -> None:
    """Before, each hourly look while the bot was away moved due_at on and the lateness counted from
    the last look: a notice to be dropped after a day went out days late when the bot came back."""
    scheduler = Scheduler(any_db, clock)
    handler = Recorder()
    scheduler.register("remind", handler, max_lateness=timedelta(days=1))
    async with any_db.transaction() as session:
        communities = [await ensure_community(session, "discord", str(n)) for n in (1, 2)]
        for community in communities:
            community.active = False  # both removed the bot
        soon, late = (community.id for community in communities)
    due = clock.now()
    ids = {c: await schedule(scheduler, any_db, kind="remind", due_at=due, community_id=c)
           for c in (soon, late)}

    async def away(hours: int) -> None:
        for _ in range(hours):
            clock.advance(timedelta(hours=1))
            await scheduler.run_due()

    async def back(community_id: int) -> None:
        async with any_db.transaction() as session:
            await session.execute(update(Community).where(Community.id == community_id).values(active=True))

    await scheduler.run_due()
    row = await job(any_db, ids[soon])
    assert (row.state, row.attempts, row.due_at, row.original_due_at) == ("pending", 0, due + HOUR, due)
    await away(20)
    await back(soon)  # within the day: runs once, told when it was due
    await away(1)
    assert [(run.id, run.due_at) for run in handler.runs] == [(ids[soon], due)]
    await away(4 * 24)
    await back(late)  # days later: stale, dropped
    await away(2)
    assert len(handler.runs) == 1
    row = await job(any_db, ids[late])
    assert (row.state, row.last_error) == ("skipped", f"stale: due {due.isoformat()}")


async def test_naive_due_times_are_refused(db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(db, clock)
    with pytest.raises(ValueError, match="aware"):
        await schedule(scheduler, db, kind="remind", due_at=datetime(2026, 12, 1, 19, 0))


async def test_a_stale_claim_on_the_last_attempt_fails(any_db: Database, clock: FrozenClock) -> None:
    scheduler = Scheduler(any_db, clock, max_attempts=2)
    handler = Recorder()
    scheduler.register("remind", handler)
    job_id = await schedule(scheduler, any_db, kind="remind", due_at=clock.now())
    async with any_db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == job_id)
            .values(state="running", claimed_by="crashed", claimed_at=clock.now(), attempts=2)
        )
    clock.advance(timedelta(hours=1))

    assert await scheduler.run_due() == 0
    assert handler.runs == []
    row = await job(any_db, job_id)
    assert (row.state, row.finished_at) == ("failed", clock.now())


async def test_the_sweep_arms_jobs_scheduled_by_another_process(
    any_db: Database, live_clock: FrozenClock
) -> None:
    ours = Scheduler(any_db, live_clock, sweep_seconds=30)
    ours.register("remind", Recorder())
    other = Scheduler(any_db, live_clock)  # not started: it only writes rows, like another process
    await ours.start()
    try:
        soon = await schedule(other, any_db, kind="remind", due_at=live_clock.now() + timedelta(seconds=20))
        await schedule(other, any_db, kind="remind", due_at=live_clock.now() + timedelta(hours=2))
        assert ours.armed == set()
        await ours.run_due()
        assert ours.armed == {soon}  # the far one is armed by a later sweep, before it is due
    finally:
        await ours.stop()


async def test_a_sweep_that_read_a_job_before_its_cancel_does_not_arm_it(
    db: Database, live_clock: FrozenClock
) -> None:
    scheduler = Scheduler(db, live_clock)
    scheduler.register("remind", Recorder())
    await scheduler.start()
    try:
        job_id = await schedule(scheduler, db, kind="remind", due_at=live_clock.now() + MINUTE)
        now = live_clock.now()
        read_before = await scheduler._pending_rows(after=now, before=now + timedelta(hours=1),
                                                    kinds=["remind"])  # a sweep's read, in flight
        async with db.transaction() as session:
            assert await scheduler.cancel(session, job_id=job_id) is True
        scheduler._arm_many(read_before)  # the sweep arms what it read, after the cancel committed
        assert job_id not in scheduler.armed
    finally:
        await scheduler.stop()


async def test_a_job_done_when_the_shutdown_comes_is_recorded_done_not_run_again(
    db: Database, sqlite_url: str
) -> None:
    """The handler ran (the reminder went out); recording "done" waits for another process's write
    lock when the shutdown's cancellation comes: left "running", the row was claimed again once stale
    and the member reminded twice. The outcome is now recorded first (within the busy timeout)."""
    import sqlite3

    clock = SystemClock()
    path = sqlite_url.split("///", 1)[1]
    runs: list[int] = []
    holder: list[sqlite3.Connection] = []
    finished = asyncio.Event()

    async def remind(run: JobRun) -> None:
        runs.append(run.id)
        if len(runs) == 1:
            other = sqlite3.connect(path, isolation_level=None)  # another process takes the write lock
            other.execute("BEGIN IMMEDIATE")
            holder.append(other)
            finished.set()

    async def release_soon() -> None:
        await asyncio.sleep(0.5)  # the other process is done a moment later
        holder[0].rollback()
        holder[0].close()

    first = Scheduler(db, clock, stop_timeout=0.2)
    first.register("remind", remind)
    async with db.transaction() as session:
        job_id = await first.schedule(session, kind="remind", due_at=clock.now() - timedelta(minutes=1))
    await first.start()
    await asyncio.wait_for(finished.wait(), timeout=2)
    await asyncio.sleep(0.05)  # recording "done" now waits for the lock
    releasing = asyncio.create_task(release_soon())
    await first.stop()  # a deploy
    await releasing

    second = Scheduler(db, FrozenClock(clock.now() + timedelta(minutes=11)))  # past stale_after
    second.register("remind", remind)
    await second.run_due()
    assert runs == [job_id]
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(Job.state).where(Job.id == job_id)) == "done"
