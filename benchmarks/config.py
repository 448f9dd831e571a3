"""Config speed: 1,000 communities in SQLite, `/config show` and a single setting change.

Run: `.venv/bin/python -m benchmarks.config [--communities 1000] [--runs 500] [--rounds 3]`.
Target (issue 4): handler time p99 <= 10 ms for each. The handler time is what a binding does: the
caller resolved (a query when the cache does not hold it: each community is picked at random, so
most picks are a first visit) then the use case through `run` (its own transaction, the audit row,
the card). No platform I/O: the directory is the default id-only one and no notifier is
registered, so the modlog post is skipped. Each round is printed with the process CPU time (both
threads: less sensitive to a busy machine than the wall time) and the time spent in the garbage
collector; the last line gives the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._common import LibraryFloor, Samples, p99, report, timed
from bot.clock import FrozenClock
from bot.config import Secrets, load_settings
from bot.context import Origin
from bot.services import Services
from cogs.config._context import run
from cogs.config._settings import set_setting
from cogs.config._show import show
from cogs.config._trades import add_trade
from storage.migrate import upgrade

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)


def origin(index: int, user: str = "moderator") -> Origin:
    return Origin("discord", f"{900_000_000_000_000_000 + index}", f"Collectif {index}", user, "Modo",
                  "fr", "fr", True)


async def seed(services: Services, communities: int) -> None:
    for index in range(communities):
        caller = await services.caller(origin(index))
        await run(services, caller, set_setting, "reminders", "24h, 1h, 30m")
        await run(services, caller, add_trade, f"Métier {index}")
        await run(services, caller, show)  # default packs created


class GcClock:
    """Milliseconds spent in the garbage collector, and the collections by generation."""

    def __init__(self) -> None:
        self.ms, self.collections, self._start = 0.0, [0, 0, 0], 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._start) * 1000
            self.collections[info["generation"]] += 1


def line(name: str, samples: Samples, collector: GcClock) -> tuple[float, float]:
    report(name, samples, None, 10.0)
    print(f"    gc {collector.ms:5.1f} ms in total, collections by generation {collector.collections}")
    collector.ms, collector.collections = 0.0, [0, 0, 0]
    return statistics.median(samples.wall), p99(samples.wall)


async def main(communities: int, runs: int, rounds: int) -> None:
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings, _ = load_settings(env={"COLLECTIF_DATABASE__URL": url})
        services = Services.build(settings, Secrets(), clock=FrozenClock(NOW))
        await upgrade(services.db.engine)
        started = time.perf_counter()
        await seed(services, communities)
        print(f"seeded {communities} communities in {time.perf_counter() - started:.1f} s")

        async def show_once(_: int) -> object:
            caller = await services.caller(origin(rng.randrange(communities)))
            return await run(services, caller, show)

        async def change_once(i: int) -> object:
            caller = await services.caller(origin(rng.randrange(communities)))
            return await run(services, caller, set_setting, "limit.missions_per_week", 2 + i % 5)

        await timed(20, show_once, warm_up=0)  # warm-up: caches, prepared statements
        floor = LibraryFloor(url)
        collector = GcClock()
        figures: dict[str, list[tuple[float, float]]] = {"/config show": [], "single setting change": []}
        for round_ in range(1, rounds + 1):
            print(f"round {round_} (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")
            collector.ms, collector.collections = 0.0, [0, 0, 0]
            for name, work in (("/config show", show_once), ("single setting change", change_once)):
                samples = (await timed(runs, work, floor=floor, warm_up=0))["all"]
                figures[name].append(line(name, samples, collector))
        await floor.close()
        await services.db.dispose()
    for name, rows in figures.items():
        median, tail = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
        print(f"{name}: median of {rounds} rounds: median {median:.2f} ms, p99 {tail:.2f} ms "
              f"({'ok' if tail <= 10 else 'OVER TARGET'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.communities, args.runs, args.rounds))
