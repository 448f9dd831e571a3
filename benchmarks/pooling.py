"""Pooling speed on SQLite: a Join click, and a storm of concurrent Joins on a pool with 50 seats.

Run: `.venv/bin/python -m benchmarks.pooling [--members 2000] [--pools 20] [--runs 500] [--rounds 3]
[--storm 300] [--seats 50]`.
Targets (issue 15): Join p99 <= 10 ms; 300 concurrent Join clicks on a 50-seat pool: exactly 50 in,
250 waitlisted in click order, no error.

What is timed is what the Discord binding does (cogs/pooling/_discord.py): the caller resolved, then
`check_answer` (read-only) and `join_pool` through `bot.usecase.run`, whose effect (the card edited)
runs before it returns; the platform is a recording notifier (tests/fakes/notifier.py). Members are
seeded in bulk, pools created through `create_pool`.

- Join: each timed click is a member joining a pool they are not in yet (one of `--pools` pools of
  50 seats, picked at random: they fill, then their waitlists grow).
- Storm: `--storm` members who never clicked before (caller not cached) all click Join at once
  (asyncio.gather, launched in click order) on a new `--seats`-seat pool; checked: the count in,
  the waitlist, the order (stored position against the launch order), the positions answered,
  errors raised and errors logged (a failed effect is only logged), and Joins/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from benchmarks._common import ErrorCount, LibraryFloor, bench_services, p99, report, timed
from bot.context import Caller, Origin
from bot.services import Services
from bot.usecase import Check, run
from cogs.pooling._form import PoolForm
from cogs.pooling._pools import check_answer, create_pool, join_pool, on_start
from cogs.pooling._settings import CHANNEL
from cogs.pooling.models import IN, WAITLIST, Pool, PoolMember
from storage.models import FeatureSetting, Member

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)  # a Thursday, 11:00 in Paris
GUILD = "900000000000000001"
PARTS = ("caller + check", "join", "effects")
TARGET_JOIN_MS = 10.0




def origin(user: int) -> Origin:
    return Origin("discord", GUILD, "Collectif bench", f"U{user}", f"Member {user}", "fr", "fr", user == 0)


def form(seats: int) -> PoolForm:
    return PoolForm(title="Licences Figma", what="Un an de Figma Pro", link="https://figma.example/team",
                    tiers="1-9: 15; 10-29: 12,50; 30+: 10", minimum="5", maximum=str(seats),
                    deadline="2026-12-04 18:00")




def split(parts: dict[str, list[float]]) -> str:
    return ", ".join(f"{name} {statistics.median(v):.1f} / {p99(v):.1f}" for name, v in parts.items())


async def seed_members(services: Services, organizer: Caller, first: int, count: int) -> None:
    """Members as `origin()` describes them, so that resolving their caller writes nothing."""
    async with services.db.transaction() as session:
        await session.execute(insert(Member), [
            {"community_id": organizer.community_id, "platform_user_id": f"U{n}",
             "display_name": f"Member {n}", "locale": "fr", "created_at": NOW}
            for n in range(first, first + count)
        ])


async def click(services: Services, user: int, pool_id: int, parts: dict[str, list[float]] | None = None
                ) -> Any:
    """The binding's on_join, without the platform: caller, read-only check, Join and its effect."""
    marks = [time.perf_counter()]
    # As the binding: the check runs in the caller's lookup transaction when not cached.
    caller = await services.caller(origin(user), Check(check_answer, (pool_id,)))
    marks.append(time.perf_counter())

    async def committed(_: object) -> None:
        marks.append(time.perf_counter())

    joined = await run(services, caller, join_pool, pool_id, respond=committed)
    marks.append(time.perf_counter())
    if parts is not None:
        for name, (begin, end) in zip(PARTS, itertools.pairwise(marks), strict=True):
            parts.setdefault(name, []).append((end - begin) * 1000)
    return joined


async def storm(services: Services, organizer: Caller, first_user: int, clicks: int, seats: int,
                errors: ErrorCount) -> dict[str, Any]:
    pid = (await run(services, organizer, create_pool, form(seats))).pool_id
    logged_before = errors.count
    users = list(range(first_user, first_user + clicks))  # launch order = click order
    parts: dict[str, list[float]] = {}
    started = time.perf_counter()
    results = await asyncio.gather(*(click(services, u, pid, parts) for u in users), return_exceptions=True)
    seconds = time.perf_counter() - started
    raised = [r for r in results if isinstance(r, BaseException)]
    answered = [r for r in results if not isinstance(r, BaseException)]
    async with services.db.transaction(write=False) as session:
        rows = (await session.execute(
            select(Member.platform_user_id, PoolMember.status)
            .join(Member, Member.id == PoolMember.member_id)
            .where(PoolMember.pool_id == pid).order_by(PoolMember.position, PoolMember.id)
        )).all()
        count = await session.scalar(select(Pool.participant_count).where(Pool.id == pid))
    order = [int(uid[1:]) - first_user for uid, _ in rows]  # launch index of each, in stored order
    joined = [i for i, (_, status) in zip(order, rows, strict=True) if status == IN]
    waiting = [i for i, (_, status) in zip(order, rows, strict=True) if status == WAITLIST]
    positions = sorted(r.position for r in answered if r.status == WAITLIST)
    return {
        "seconds": seconds, "rate": clicks / seconds, "raised": len(raised),
        "raised_first": [repr(r) for r in raised[:3]], "logged": errors.count - logged_before,
        "in": len(joined), "count": count, "waitlist": len(waiting),
        "positions_ok": positions == list(range(1, clicks - seats + 1)),
        # Launch order, strictly: those in are the first `seats` launched, no waitlisted pair reversed.
        "overtaken": len(set(joined) - set(range(seats))),
        "inversions": sum(1 for a, b in itertools.pairwise(waiting) if a > b),
        "parts": split(parts),
    }


async def main(args: argparse.Namespace) -> int:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        services, notifier = await bench_services(Path(tmp), NOW)
        await on_start(services)
        organizer = await services.caller(origin(0))
        async with services.db.transaction() as session:
            await session.merge(FeatureSetting(community_id=organizer.community_id, key=CHANNEL.key,
                                               value="C-POOL"))
        seeded = time.perf_counter()
        await seed_members(services, organizer, 1, args.members + args.storm * args.rounds)
        pools = [(await run(services, organizer, create_pool, form(50))).pool_id for _ in range(args.pools)]
        print(f"seeded {args.members} members (+ {args.storm * args.rounds} for the storms) and {args.pools} "
              f"pools of 50 seats in {time.perf_counter() - seeded:.1f} s", flush=True)
        # Each timed Join is a (member, pool) pair not joined yet.
        pairs = [(m, p) for m in range(1, args.members + 1) for p in pools]
        rng.shuffle(pairs)
        next_pair = iter(pairs)
        parts: dict[str, list[float]] = {}

        async def join(_: int) -> object:
            user, pool = next(next_pair)
            return await click(services, user, pool, parts)

        await timed(20, join, warm_up=0)  # warm-up: caches, prepared statements
        floor = LibraryFloor(services.db.engine.url)
        figures: list[tuple[float, float]] = []
        storms: list[dict[str, Any]] = []
        storm_first = args.members + 1
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_} (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)",
                  flush=True)
            parts.clear()
            samples = (await timed(args.runs, join, floor=floor, warm_up=0))["all"]
            figures.append((statistics.median(samples.wall), p99(samples.wall)))
            report("Join", samples, None, TARGET_JOIN_MS)
            print(f"    its steps, median / p99 ms: {split(parts)}")
            result = await storm(services, organizer, storm_first + (round_ - 1) * args.storm, args.storm,
                                 args.seats, errors)
            storms.append(result)
            print(f"  storm: {args.storm} Joins, {args.seats} seats: {result['in']} in (participant_count "
                  f"{result['count']}), {result['waitlist']} waitlisted, positions answered "
                  f"1..{args.storm - args.seats} {'yes' if result['positions_ok'] else 'NO'}, launch order: "
                  f"in but not among the first {args.seats} launched {result['overtaken']}, reversed "
                  f"waitlisted pairs {result['inversions']}, errors raised {result['raised']} logged "
                  f"{result['logged']}; {result['seconds']:.2f} s = {result['rate']:.0f} Joins/s", flush=True)
            print(f"    each click's steps, median / p99 ms: {result['parts']}")
            for first in result["raised_first"]:
                print(f"    raised: {first}")
        print(f"  (recording notifier: {len(notifier.calls)} calls)")
        if errors.first:
            print(f"  first errors logged: {errors.first}")
        await floor.close()
        await services.db.dispose()

    median, tail = statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)
    print(f"Join: median of {args.rounds} rounds: median {median:.2f} ms, p99 {tail:.2f} ms "
          f"({'ok' if tail <= TARGET_JOIN_MS else 'OVER TARGET'}, target p99 <= {TARGET_JOIN_MS:.0f} ms)")
    exact = all(s["in"] == args.seats and s["count"] == args.seats
                and s["waitlist"] == args.storm - args.seats and s["positions_ok"]
                and not s["raised"] and not s["logged"] for s in storms)
    in_order = all(not s["inversions"] and not s["overtaken"] for s in storms)
    rate = statistics.median(s["rate"] for s in storms)
    print(f"storm: counts {'exact, no error' if exact else 'NOT EXACT OR ERRORS'} in {args.rounds} rounds; "
          f"launch order {'kept' if in_order else 'NOT KEPT'}; median {rate:.0f} Joins/s")
    ok = tail <= TARGET_JOIN_MS and exact and in_order
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm", type=int, default=300)
    parser.add_argument("--seats", type=int, default=50)
    sys.exit(asyncio.run(main(parser.parse_args())))
