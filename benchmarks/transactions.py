"""A transaction's own cost: `Database.transaction` beside SQLAlchemy's documented async pattern.

Run: `python -m benchmarks.transactions [--runs 3000] [--pause 0] [--url postgresql+asyncpg://…]`
(default: a temporary SQLite file with 2,000 seeded profiles).

Every command runs one transaction, and through SQLAlchemy's asyncio layer each step of it (begin,
take a connection, each statement, commit, close) goes through AsyncSession's wrappers and a
greenlet hand-off. The floor is what SQLAlchemy's documentation shows:
`async with sessionmaker() as session, session.begin():` (for a read, its connection taken with the
same no-write-lock option). Three shapes: an empty read, `/profile`'s read (two statements) and a
one-row write. The variants alternate call by call, so that a busy machine weighs on both alike;
`--pause` sleeps between calls (an idle bot between two interactions: colder caches, slower calls).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks._common import p99
from benchmarks.directory import seed
from cogs.intros._profile import get_profile
from cogs.intros.models import Profile
from storage.engine import WRITE_OPTION, Database
from storage.migrate import upgrade


@asynccontextmanager
async def documented(db: Database, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """SQLAlchemy's documented pattern: the floor."""
    async with db.sessionmaker() as session, session.begin():
        if not write:
            await session.connection(execution_options={WRITE_OPTION: False})
        yield session


Transaction = Callable[..., Any]  # db.transaction or documented


async def main(runs: int, pause: float, url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="collectif-tx-"))
    db = Database.from_url(url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    try:
        await measure(db, runs, pause)
    finally:
        await db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


async def measure(db: Database, runs: int, pause: float) -> None:
    await upgrade(db.engine)
    caller, _, _ = await seed(db, 2000, random.Random(7))
    async with db.transaction(write=False) as session:
        member_id = await session.scalar(
            select(Profile.member_id).where(Profile.community_id == caller.community_id).limit(1)
        )
    assert member_id is not None

    def shapes(begin: Transaction) -> dict[str, Callable[[], Awaitable[object]]]:
        async def empty_read() -> None:
            async with begin(db, write=False):
                pass

        async def profile_read() -> None:
            async with begin(db, write=False) as session:
                await get_profile(session, caller.community_id, member_id)

        async def one_write() -> None:
            async with begin(db) as session:
                await session.execute(update(Profile).where(Profile.member_id == member_id)
                                      .values(updated_at=datetime.now(UTC)))

        return {"empty read": empty_read, "/profile read (2 statements)": profile_read,
                "one-row write": one_write}

    ours, floor = shapes(lambda d, **kw: d.transaction(**kw)), shapes(documented)
    print(f"{runs} calls of each, alternating; pause {pause * 1000:.0f} ms between calls; "
          f"{db.engine.dialect.name}")
    print(f"{'shape':32s} {'floor median':>13s} {'ours median':>12s} {'ratio':>6s} {'ours p99':>9s}")
    for name in ours:
        times: dict[str, list[float]] = {"floor": [], "ours": []}
        for i in range(runs + 50):  # 50 warm-up rounds
            for label, call in (("floor", floor[name]), ("ours", ours[name])):
                if pause:
                    await asyncio.sleep(pause)
                started = time.perf_counter()
                await call()
                if i >= 50:
                    times[label].append((time.perf_counter() - started) * 1e6)
        f, o = statistics.median(times["floor"]), statistics.median(times["ours"])
        print(f"{name:32s} {f:10.0f} µs {o:9.0f} µs {o / f:6.2f} {p99(times['ours']):6.0f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between calls")
    parser.add_argument("--url", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.pause, args.url))
