"""Scheduler figures: time to arm 10,000 pending jobs at start, and how late jobs fire.

Targets (issue #2): arming 10,000 pending jobs <= 1 s; each job fires within 1 s of its due time.
Run: `python -m benchmarks.scheduler [--url postgresql+asyncpg://…]` (default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

from bot.clock import SystemClock
from bot.scheduler import JobRun, Scheduler
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Job


async def _noop(run: JobRun) -> None:
    return None


async def seed(db: Database, count: int, first_due: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(delete(Job))
        await session.execute(
            insert(Job),
            [
                {"kind": "bench", "payload": {"n": i}, "due_at": first_due + timedelta(seconds=i),
                 "state": "pending", "attempts": 0, "created_at": first_due}
                for i in range(count)
            ],
        )


async def arming(db: Database, count: int, rounds: int) -> list[float]:
    await seed(db, count, datetime.now(UTC) + timedelta(days=1))
    timings = []
    for _ in range(rounds):
        scheduler = Scheduler(db, SystemClock())
        scheduler.register("bench", _noop)
        started = time.perf_counter()
        await scheduler.start()
        timings.append(time.perf_counter() - started)
        assert len(scheduler.armed) == count, len(scheduler.armed)
        await scheduler.stop()
    return timings


async def lateness(db: Database, count: int, window: float) -> list[float]:
    async with db.transaction() as session:
        await session.execute(delete(Job))
    delays: list[float] = []
    done = asyncio.Event()

    async def record(run: JobRun) -> None:
        delays.append((datetime.now(UTC) - run.due_at).total_seconds())
        if len(delays) == count:
            done.set()

    scheduler = Scheduler(db, SystemClock())
    scheduler.register("fire", record)
    await scheduler.start()
    try:
        base = datetime.now(UTC) + timedelta(milliseconds=200)
        async with db.transaction() as session:
            for i in range(count):
                due = base + timedelta(seconds=window * i / count)
                await scheduler.schedule(session, kind="fire", due_at=due)
        await asyncio.wait_for(done.wait(), timeout=window + 10)
    finally:
        await scheduler.stop()
    return delays


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(url: str | None, jobs: int, rounds: int, fire: int, window: float) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db.engine)
        try:
            print(f"backend: {db.engine.dialect.name}")
            armed = await arming(db, jobs, rounds)
            median = statistics.median(armed)
            print(f"arm {jobs} pending jobs at start: median {median:.3f} s, "
                  f"min {min(armed):.3f} s, max {max(armed):.3f} s  (target <= 1 s)")
            delays = await lateness(db, fire, window)
            ms = {"median": statistics.median(delays), "p99": _p(delays, 0.99), "max": max(delays)}
            figures = ", ".join(f"{name} {value * 1000:.1f} ms" for name, value in ms.items())
            print(f"fire {fire} jobs due over {window:.0f} s: delay {figures}  (target <= 1 s)")
            ok = median <= 1 and max(delays) <= 1
        finally:
            await db.dispose()
    print("OK" if ok else "SLOWER THAN TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fire", type=int, default=200)
    parser.add_argument("--window", type=float, default=2.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.url, args.jobs, args.rounds, args.fire, args.window)))
