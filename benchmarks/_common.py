"""What the benchmark scripts share: the p99, a count of logged errors, a bot's services on a temp SQLite,
seeding in batches, and a cProfile of a handler."""

from __future__ import annotations

import cProfile
import logging
import pstats
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.config import Secrets, load_settings
from bot.services import Services
from storage.migrate import upgrade
from tests.fakes.notifier import RecordingNotifier


def p99(samples: list[float]) -> float:
    """The nearest-rank 99th percentile (nan without samples)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


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
