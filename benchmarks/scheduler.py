"""Scheduler figures: start-up time and memory with many pending jobs, and how late jobs fire.

Targets (issue #2): starting with 10,000 pending jobs <= 1 s; each job fires within 1 s of its due
time. Issue 7 item 14: 50,000 pending jobs (here spread over 30 days) must cost neither 1.2 s nor
48 MB at start: only the jobs due within the window (one hour) get a timer. Printed side by side
with a window wide enough to arm them all (how it worked before), each start in a fresh process so
that its RSS growth is its own; medians and ratios.
Run: `python -m benchmarks.scheduler [--url postgresql+asyncpg://…] [--jobs 50000]`
(default: a temporary SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select

from bot.clock import SystemClock
from bot.scheduler import JobRun, Scheduler
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Job


async def _noop(run: JobRun) -> None:
    return None


SPREAD = timedelta(days=30)
WINDOW = timedelta(hours=1)
EVERYTHING = timedelta(days=3650)


async def seed(db: Database, count: int, first_due: datetime, spread: timedelta = SPREAD) -> None:
    async with db.transaction() as session:
        await session.execute(delete(Job))
        await session.execute(
            insert(Job),
            [
                {"kind": "bench", "payload": {"n": i}, "due_at": first_due + spread * i / count,
                 "state": "pending", "attempts": 0, "created_at": first_due}
                for i in range(count)
            ],
        )


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


async def start_once(url: str, window_seconds: float) -> dict[str, float]:
    """In a fresh process (see --child): one scheduler start; seconds, RSS growth (MB), armed."""
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:  # connect and warm up outside the measurement
            await session.execute(select(Job.id).limit(1))
        scheduler = Scheduler(db, SystemClock(), window=timedelta(seconds=window_seconds))
        scheduler.register("bench", _noop)
        before = _rss_kb()
        started = time.perf_counter()
        await scheduler.start()
        seconds = time.perf_counter() - started
        grown = (_rss_kb() - before) / 1024
        armed = len(scheduler.armed)
        await scheduler.stop()
    finally:
        await db.dispose()
    return {"seconds": seconds, "rss_mb": grown, "armed": armed}


def _child(url: str, window: timedelta) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.scheduler", "--url", url, "--child", str(window.total_seconds())],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


async def arming(db: Database, url: str, count: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    await seed(db, count, datetime.now(UTC) + timedelta(minutes=1))
    results: dict[str, list[dict[str, float]]] = {"window": [], "everything": []}
    for _ in range(rounds):  # interleaved, so both see the same machine load
        results["window"].append(_child(url, WINDOW))
        results["everything"].append(_child(url, EVERYTHING))
    return results


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
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database.from_url(url)
        await upgrade(db.engine)
        try:
            print(f"backend: {db.engine.dialect.name}; {jobs} pending jobs over {SPREAD.days} days, "
                  f"{rounds} starts each")
            runs = await arming(db, url, jobs, rounds)
            keys = ("seconds", "rss_mb", "armed")
            medians = {mode: {key: statistics.median(r[key] for r in rows) for key in keys}
                       for mode, rows in runs.items()}
            for mode, label in (("everything", "arm all (before)"), ("window", f"window {WINDOW}")):
                m = medians[mode]
                print(f"start, {label:>18}: median {m['seconds']:.3f} s, RSS +{m['rss_mb']:.1f} MB, "
                      f"{m['armed']:.0f} timers")
            w, e = medians["window"], medians["everything"]
            print(f"window / arm all: time {w['seconds'] / e['seconds']:.3f}x, "
                  f"RSS {w['rss_mb'] / max(e['rss_mb'], 0.1):.3f}x  (target: start <= 1 s)")
            median = w["seconds"]
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
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fire", type=int, default=200)
    parser.add_argument("--window", type=float, default=2.0, help="seconds over which --fire jobs fall due")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)  # one start with this window (s)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(start_once(args.url, args.child))))
        sys.exit(0)
    sys.exit(asyncio.run(main(args.url, args.jobs, args.rounds, args.fire, args.window)))
