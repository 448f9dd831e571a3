"""Only jobs due within the window get a timer; the sweep arms the others as they come within it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.clock import FrozenClock, SystemClock
from bot.scheduler import JobRun, Scheduler
from storage.engine import Database
from storage.models import Job
from tests.test_scheduler import Recorder, schedule


def live_clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


async def test_a_job_due_in_3_hours_is_armed_by_a_later_sweep(any_db: Database) -> None:
    clock = live_clock()
    scheduler = Scheduler(any_db, clock, window=timedelta(hours=1))
    scheduler.register("remind", Recorder())
    far = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + timedelta(hours=3))
    await scheduler.start()
    try:
        assert far not in scheduler.armed
        near = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + timedelta(minutes=30))
        later = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + timedelta(hours=2))
        assert near in scheduler.armed and later not in scheduler.armed  # on commit: only within the window

        clock.advance(timedelta(hours=1, minutes=30))
        await scheduler.run_due()
        assert later in scheduler.armed and far not in scheduler.armed
        clock.advance(timedelta(hours=1))
        await scheduler.run_due()
        assert far in scheduler.armed
    finally:
        await scheduler.stop()


async def test_start_arms_only_the_window_of_many_pending_jobs(db: Database) -> None:
    clock = live_clock()
    start = clock.now() + timedelta(minutes=1)
    async with db.transaction() as session:  # one job every 2 minutes for a week
        await session.execute(insert(Job), [
            {"kind": "remind", "payload": {}, "due_at": start + timedelta(minutes=2 * i), "state": "pending",
             "attempts": 0, "created_at": clock.now()} for i in range(5040)])
    scheduler = Scheduler(db, clock, window=timedelta(hours=1))
    scheduler.register("remind", Recorder())
    await scheduler.start()
    try:
        assert len(scheduler.armed) == 30
    finally:
        await scheduler.stop()


async def test_a_job_armed_by_the_sweep_runs_on_time(any_db: Database) -> None:
    """The same, in real time: window 1 s, sweep every 0.2 s, a job due in 3 s."""
    clock = SystemClock()
    fired: list[float] = []
    done = asyncio.Event()

    async def record(run: JobRun) -> None:
        fired.append((datetime.now(UTC) - run.due_at).total_seconds())
        done.set()

    scheduler = Scheduler(any_db, clock, window=timedelta(seconds=1), sweep_seconds=0.2)
    scheduler.register("remind", record)
    job_id = await schedule(scheduler, any_db, kind="remind", due_at=clock.now() + timedelta(seconds=3))
    timers: list[int] = []
    on_timer = scheduler._on_job_timer

    def timer_fired(fired_id: int) -> None:
        timers.append(fired_id)
        on_timer(fired_id)

    scheduler._on_job_timer = timer_fired  # type: ignore[method-assign]
    await scheduler.start()
    try:
        assert job_id not in scheduler.armed
        for _ in range(400):  # a sweep arms it once it is within the window, i.e. before it is due
            if job_id in scheduler.armed:
                break
            await asyncio.sleep(0.01)
        assert job_id in scheduler.armed and fired == []
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await scheduler.stop()
    assert len(fired) == 1
    # Run by its own timer, not left to a later sweep; the lateness bound is loose because a loaded
    # machine (CI beside other jobs) delays the event loop itself by a second at times.
    assert timers == [job_id] and 0 <= fired[0] < 2
