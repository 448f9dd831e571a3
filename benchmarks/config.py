"""Config speed: 1,000 communities in SQLite, `/config show` and a single setting change.

Run: `.venv/bin/python -m benchmarks.config [--communities 1000] [--runs 500]`.
Target (issue 4): handler time p99 <= 10 ms for each. The handler time is what a binding does: the
caller resolved (one transaction, as on every interaction) then the use case through `run` (its own
transaction, the audit row, the card). No platform I/O: the directory is the default id-only one
and no notifier is registered, so the modlog post is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

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


async def measure(runs: int, work: Callable[[int], Awaitable[object]]) -> list[float]:
    timings = []
    for i in range(runs):
        start = time.perf_counter()
        await work(i)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def report(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    verdict = "ok" if p99 <= 10 else "OVER TARGET"
    print(f"{name:<28} median {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   ({verdict})")


async def main(communities: int, runs: int) -> None:
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

        await measure(20, show_once)  # warm-up: caches, prepared statements
        report("/config show", await measure(runs, show_once))
        report("single setting change", await measure(runs, change_once))
        await services.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.communities, args.runs))
