"""Matching speed: 10,000 profiles in one community on SQLite, `/match` for a 4-slot pack and 6 slots.

Run: `.venv/bin/python -m benchmarks.matching [--profiles 10000] [--runs 200]`.
Targets (issue 12): a 4-slot pack with two skills p99 <= 50 ms; 6 slots p99 <= 100 ms, from request to
answer (handler time): the read-only use case in its transaction (resolve; the database's shortlist,
`cogs/matching/_store.py`; the few candidates loaded; the proposal) and the card built. The
proposal's storing, which runs after the answer, is done between samples and not timed, so rotation
data grows as it would.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from benchmarks._common import LibraryFloor, Samples, report
from benchmarks.directory import NOW, SKILLS, seed
from bot.clock import FrozenClock
from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.matching._cards import answer_card
from cogs.matching._match import find_team
from cogs.matching._request import MatchInput
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Trade

PACK4_P99, SLOTS6_P99 = 50.0, 100.0  # ms, issue 12


async def sample(db: Database, catalog: Catalog, caller: Any, typed: MatchInput) -> tuple[float, float]:
    """One /match, timed to the card; then the effects (the proposal stored), untimed."""
    effects: list[Any] = []
    start, cpu = time.perf_counter(), time.process_time()
    async with db.transaction(write=False) as session:
        ctx = SimpleNamespace(session=session, caller=caller, community_id=caller.community_id,
                              clock=FrozenClock(NOW), services=SimpleNamespace(db=db),
                              after_commit=lambda effect: effects.append(effect))
        answer = await find_team(ctx, typed)  # type: ignore[arg-type]
    answer_card(catalog, "fr", answer)
    elapsed = ((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000)
    for effect in effects:
        await effect(None)
    return elapsed


async def main(profiles: int, runs: int) -> int:
    rng = random.Random(42)
    catalog = Catalog.load(locale_folders(load_features()))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(db.engine)
        caller, _, _ = await seed(db, profiles, rng)
        async with db.transaction() as session:
            names = list(await session.scalars(select(Trade.name).where(
                Trade.community_id == caller.community_id).order_by(Trade.id)))  # type: ignore[attr-defined]
        ok = True
        floor = LibraryFloor(db.engine.url)
        for label, slots, target in (("4-slot pack, two skills", 4, PACK4_P99),
                                     ("6 slots, two skills", 6, SLOTS6_P99)):
            samples = Samples()
            for i in range(runs + 10):
                typed = MatchInput(trades=", ".join(rng.sample(names, slots)),
                                   skills=", ".join(rng.sample(SKILLS[:50], 2)),
                                   max_rate="", available_by="")
                wall, cpu = await sample(db, catalog, caller, typed)
                if i >= 10:  # warm-up
                    samples.wall.append(wall)
                    samples.cpu.append(cpu)
            samples.floor = [await floor.sample() for _ in range(runs + 10)][10:]
            ok &= report(label, samples, None, target)
        await floor.close()
        await db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.profiles, args.runs)))
