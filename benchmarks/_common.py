"""What the benchmark scripts share: the p99, timed calls beside the libraries' floor, a count of logged
errors, a bot's services on a temp SQLite, seeding in batches, and a cProfile of a handler."""

from __future__ import annotations

import cProfile
import logging
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot.clock import FrozenClock
from bot.config import Secrets, load_settings
from bot.services import Services
from storage.migrate import upgrade
from storage.models import Community
from tests.fakes.notifier import RecordingNotifier


def p99(samples: list[float]) -> float:
    """The nearest-rank 99th percentile (nan without samples)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


class LibraryFloor:
    """The floor of a handler timed in process: the libraries alone doing the least a handler does.

    A handler timed here runs with a recording notifier, so no platform is in the loop and the
    platform's floor (stock discord.py, benchmarks.discord_commands) does not apply. Its floor is one
    read the way SQLAlchemy's documentation shows it, `async with sessionmaker() as session,
    session.begin():` on its stock aiosqlite dialect, a `communities` row by primary key, from the
    benchmark's own database file: no Collectif code. `timed` takes as many right after the calls
    it times, so both see the same machine, and `report` prints the handler's median as a ratio of
    it. In a block, not one after each call: run between the handler's calls, the floor's own code
    left the handler's colder (I'm interested, median 6.4-7.1 ms alone, took 8.7-9.9 ms so).
    """

    def __init__(self, url: str | URL) -> None:
        self.engine = create_async_engine(url)  # the stock dialect, not the bot's (storage/engine.py)
        self.sessionmaker = async_sessionmaker(self.engine)

    async def sample(self) -> float:
        """One floor read, in ms."""
        started = time.perf_counter()
        async with self.sessionmaker() as session, session.begin():
            await session.scalar(select(Community.id).where(Community.id == 1))
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self.engine.dispose()


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)  # ms
    cpu: list[float] = field(default_factory=list)  # ms of process CPU (both threads): less load-sensitive
    floor: list[float] = field(default_factory=list)  # ms of the floor reads taken after the calls


async def timed(runs: int, call: Callable[[int], Awaitable[object]], by: Callable[[int], str] | None = None,
                *, floor: LibraryFloor | None = None, warm_up: int = 10) -> dict[str, Samples]:
    """Each call's wall and CPU time under "all" (and under `by(i)`), after `warm_up` untimed calls
    (the statement and page caches); with `floor`, as many floor reads after them, for every key."""
    for i in range(warm_up):
        await call(i)
    out: dict[str, Samples] = {"all": Samples()}
    for i in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        await call(i)
        wall_ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
        for key in ("all", by(i)) if by else ("all",):
            samples = out.setdefault(key, Samples())
            samples.wall.append(wall_ms)
            samples.cpu.append(cpu_ms)
    if floor is not None:
        for _ in range(10):  # its connection made, its statement cached, as the handler's were
            await floor.sample()
        floor_ms = [await floor.sample() for _ in range(runs)]
        for samples in out.values():
            samples.floor = floor_ms
    return out


def pooled(rounds: list[dict[str, Samples]]) -> dict[str, Samples]:
    """Every round's samples together, per key: the figures judged against the targets."""
    out: dict[str, Samples] = {}
    for samples in rounds:
        for key, one in samples.items():
            together = out.setdefault(key, Samples())
            together.wall.extend(one.wall)
            together.cpu.extend(one.cpu)
            together.floor.extend(one.floor)
    return out


def report(name: str, samples: Samples, median_target: float | None, p99_target: float,
           verdict: bool = True) -> bool:
    """One line: wall median and p99, CPU, the floor beside it, and the verdict on the targets."""
    median = statistics.median(samples.wall)
    ok = p99(samples.wall) <= p99_target and (median_target is None or median <= median_target)
    targets = f"median <= {median_target}, " if median_target else ""
    cpu = f"cpu median {statistics.median(samples.cpu):6.2f} p99 {p99(samples.cpu):6.2f} ms"
    floor = ""
    if samples.floor:
        floor_median = statistics.median(samples.floor)
        floor = f" | floor median {floor_median:5.2f} ms, {median / floor_median:5.1f}x"
    judged = f"  ({targets}p99 <= {p99_target}) {'OK' if ok else 'MISSED'}" if verdict else ""
    print(f"  {name:<32} wall median {median:6.2f} p99 {p99(samples.wall):6.2f} | {cpu}{floor}{judged}",
          flush=True)
    return ok


class ErrorCount(logging.Handler):
    """Counts the ERROR records (a failed effect is logged, not raised), keeping the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count, self.first = 0, []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(f"{record.name}: {record.getMessage()}"
                              + (f" ({record.exc_info[1]!r})" if record.exc_info else ""))


async def bench_services(folder: Path, now: datetime) -> tuple[Services, RecordingNotifier]:
    """The services of a bot on a migrated SQLite file in `folder`, its clock frozen at `now`, its
    Discord notifier recording instead of posting."""
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    settings, _ = load_settings(env={"COLLECTIF_DATABASE__URL": url})
    services = Services.build(settings, Secrets(), clock=FrozenClock(now))
    await upgrade(services.db.engine)
    notifier = RecordingNotifier()
    services.notifiers["discord"] = notifier
    return services, notifier


async def insert_in_batches(
    session: AsyncSession, tables: Iterable[tuple[Any, Sequence[dict[str, Any]]]]
) -> None:
    """Seed rows fast: each (model, rows) as executemany INSERTs of 5,000 rows."""
    for model, values in tables:
        for start in range(0, len(values), 5000):
            await session.execute(insert(model), values[start : start + 5000])


async def profile(
    name: str, call: Callable[[int], Awaitable[object]], runs: int, dump: str | None = None
) -> None:
    """cProfile of `runs` calls after 10 warm-up calls; prints the top, `dump` writes the stats file."""
    for i in range(10):  # warm the statement caches, as the timed runs do
        await call(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(runs):
        await call(i)
    profiler.disable()
    if dump:
        profiler.dump_stats(dump)
    print(f"cProfile of {runs} x {name} (cumulative, top 35):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
