"""Afterworks speed on SQLite: an RSVP click, a storm of Going clicks on a full event, arming at start, dates.

Run: `.venv/bin/python -m benchmarks.afterworks [--members 2000] [--events 20] [--runs 500] [--rounds 3]
[--storm 500] [--seats 50] [--arm 10000] [--starts 5]`.
Targets (issue 10): RSVP handler p99 <= 10 ms; 500 concurrent Going clicks on a 50-seat event: exactly
50 going, 450 waitlisted in click order, no error, >= 400 RSVPs/s; with 10,000 future afterworks and
2 reminders each, arming at start <= 2 s; reading a natural date p99 <= 20 ms after warm-up.

What is timed is what the Discord binding does (cogs/afterworks/_discord.py): the caller resolved,
then `check_answer` (read-only) and `answer_afterwork` through `bot.usecase.run`, whose effects (the
card edited, promotions DMed) run before it returns; the platform is a recording notifier
(tests/fakes/notifier.py). Members, afterworks and reminder jobs are seeded in bulk.

- RSVP: a random member of `--members` answers Going / Maybe / Can't (random) on one of `--events`
  afterworks of 50 seats (so waitlists and promotions happen too).
- Storm: `--storm` members who never clicked before (caller not cached) all click Going at once
  (asyncio.gather, launched in click order) on a new `--seats`-seat event; checked: the count going,
  the waitlist, the waitlist order (by stored position, against the launch order), the positions
  answered, errors raised and errors logged (a failed effect is only logged), then RSVPs/s.
- Start: in a fresh process per start (`--starts` of them), the bot's start without a platform
  (`bot.runner.start`: migrations check, every feature's `on_start`, `scheduler.start()` arming
  what is due within its window, then the warm-ups: afterworks warms its date reader) on a database holding
  `--arm` future afterworks × 2 reminder jobs (24 h and 1 h before, starts spread over 30 days);
  then the first natural date a member types in that process.
- Dates: `check_form` (read-only, the form read as the binding does) with a natural date picked
  among French and English phrasings, after the start's warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks._common import ErrorCount, LibraryFloor, Samples, bench_services, p99, report, timed
from bot.config import Secrets, load_settings
from bot.context import Caller, Origin
from bot.errors import InvalidInput
from bot.runner import shutdown, start
from bot.services import Services
from bot.usecase import Check, run
from cogs.afterworks._domain import REMIND
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks._polls import on_start
from cogs.afterworks._publish import (
    answer_afterwork,
    check_answer,
    check_form,
    create_afterwork,
    warm_date_reader,
)
from cogs.afterworks.models import ANSWERS, GOING, SCHEDULED, WAITLIST, Afterwork, Rsvp
from storage.migrate import upgrade
from storage.models import Job, Member
from storage.settings import get_settings

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)  # a Thursday, 11:00 in Paris
GUILD = "900000000000000001"
PARTS = ("caller + check", "answer", "effects")
TARGET_RSVP_MS, TARGET_RATE, TARGET_START_S, TARGET_DATE_MS = 10.0, 400.0, 2.0, 20.0
DATES = [  # (text, locale): every one of them read by the parser (checked at the start of the run)
    ("jeudi {h}h", "fr"), ("demain {h}h30", "fr"), ("vendredi prochain {h}h", "fr"),
    ("4 décembre {h}h", "fr"), ("le 10 décembre à {h}h", "fr"), ("samedi {h}h", "fr"),
    ("dans 3 jours à {h}h", "fr"), ("mardi 15 décembre 2026 à {h}h30", "fr"), ("lundi {h}h15", "fr"),
    ("tomorrow {p}pm", "en"), ("next friday {p}pm", "en"), ("December 4 at {p}:30pm", "en"),
    ("saturday {p}pm", "en"), ("in 2 weeks at {p}pm", "en"),
]




def origin(user: int) -> Origin:
    return Origin("discord", GUILD, "Collectif bench", f"U{user}", f"Member {user}", "fr", "fr", user == 0)


def form(when: str = "2026-12-04 19:00", capacity: int = 50) -> AfterworkForm:
    return AfterworkForm(title="Apéro des rédacteurs", when=when, where="Le Comptoir, 3 rue X", city="Lyon",
                         capacity=str(capacity), description="On parle SEO.")




def line(name: str, samples: Samples, target: float) -> tuple[float, float]:
    report(name, samples, None, target)
    return statistics.median(samples.wall), p99(samples.wall)


async def seed_members(services: Services, first: int, count: int) -> None:
    """Members as `origin()` describes them, so that resolving their caller writes nothing."""
    organizer = await services.caller(origin(0))
    async with services.db.transaction() as session:
        await session.execute(insert(Member), [
            {"community_id": organizer.community_id, "platform_user_id": f"U{n}",
             "display_name": f"Member {n}", "locale": "fr", "created_at": NOW}
            for n in range(first, first + count)
        ])


async def click(services: Services, user: int, afterwork_id: int, choice: str,
                parts: dict[str, list[float]] | None = None) -> Any:
    """The binding's on_rsvp, without the platform: caller and read-only check, the answer, its effects.

    With `parts`, the ms of each step are appended: caller + check, answer (to the commit: `respond`
    is called then), effects (the card edited, promotions DMed: run before `run` returns).
    """
    marks = [time.perf_counter()]
    # As the binding: the check runs in the caller's lookup transaction when not cached.
    caller = await services.caller(origin(user), Check(check_answer, (afterwork_id,)))
    marks.append(time.perf_counter())

    async def committed(_: object) -> None:
        marks.append(time.perf_counter())

    answered = await run(services, caller, answer_afterwork, afterwork_id, choice, respond=committed)
    marks.append(time.perf_counter())
    if parts is not None:
        for name, (begin, end) in zip(PARTS, itertools.pairwise(marks), strict=True):
            parts.setdefault(name, []).append((end - begin) * 1000)
    return answered


def split(parts: dict[str, list[float]]) -> str:
    return ", ".join(f"{name} {statistics.median(v):.1f} / {p99(v):.1f}" for name, v in parts.items())


async def storm(services: Services, organizer: Caller, first_user: int, clicks: int, seats: int,
                errors: ErrorCount) -> dict[str, Any]:
    created = await run(services, organizer, create_afterwork, form(capacity=seats),
                        origin_channel_id="C-HERE")
    aid = created.afterwork_id
    logged_before = errors.count
    users = list(range(first_user, first_user + clicks))  # launch order = click order
    started = time.perf_counter()
    parts: dict[str, list[float]] = {}
    results = await asyncio.gather(*(click(services, u, aid, GOING, parts) for u in users),
                                   return_exceptions=True)
    seconds = time.perf_counter() - started
    raised = [r for r in results if isinstance(r, BaseException)]
    answered = [r for r in results if not isinstance(r, BaseException)]
    async with services.db.transaction(write=False) as session:
        rows = (await session.execute(
            select(Member.platform_user_id, Rsvp.status, Rsvp.position)
            .join(Member, Member.id == Rsvp.member_id)
            .where(Rsvp.afterwork_id == aid).order_by(Rsvp.position, Rsvp.id)
        )).all()
        going_count = await session.scalar(select(Afterwork.going_count).where(Afterwork.id == aid))
    order = [int(uid[1:]) - first_user for uid, _, _ in rows]  # launch index of each, in stored order
    going = [i for i, (_, status, _) in zip(order, rows, strict=True) if status == GOING]
    waiting = [i for i, (_, status, _) in zip(order, rows, strict=True) if status == WAITLIST]
    # Launch order, strictly: the going are the first `seats` launched, and no waitlisted pair is
    # reversed (the stored position is the order the clicks took the event's turn).
    inversions = sum(1 for a, b in itertools.pairwise(waiting) if a > b)
    overtaken = len(set(going) - set(range(seats)))
    positions = sorted(r.position for r in answered if r.status == WAITLIST)
    return {
        "seconds": seconds, "rate": clicks / seconds, "raised": len(raised),
        "raised_first": [repr(r) for r in raised[:3]], "logged": errors.count - logged_before,
        "going": len(going), "going_count": going_count, "waitlist": len(waiting),
        "answered_going": sum(r.status == GOING for r in answered),
        "positions_ok": positions == list(range(1, clicks - seats + 1)),
        "inversions": inversions, "overtaken": overtaken, "parts": split(parts),
    }


# -- start in a fresh process ---------------------------------------------------------------------


async def seed_arming(url: str, count: int) -> None:
    """`count` afterworks spread over 30 days from one hour on, each with its 24 h and 1 h reminders."""
    settings, _ = load_settings(env={"COLLECTIF_DATABASE__URL": url})
    services = Services.build(settings, Secrets())
    await upgrade(services.db.engine)
    now = datetime.now(UTC)
    organizer = await services.caller(origin(0))
    cid = organizer.community_id
    starts = [now + timedelta(hours=1) + timedelta(days=30) * i / count for i in range(count)]
    async with services.db.transaction() as session:
        first = int(await session.scalar(select(func.coalesce(func.max(Afterwork.id), 0))) or 0) + 1
        await session.execute(insert(Afterwork), [
            {"id": first + i, "community_id": cid, "organizer_id": organizer.member_id,
             "title": f"Afterwork {i}", "kind": "afterwork", "starts_at": at, "duration_minutes": 120,
             "place": "Le Comptoir",
             "link": "", "city": "Lyon", "city_key": "lyon", "capacity": 50, "description": "",
             "status": SCHEDULED, "going_count": 0, "rsvp_seq": 0, "sequence": 0,
             "created_at": now, "updated_at": now}
            for i, at in enumerate(starts)
        ])
        await session.execute(insert(Job), [  # what plan_reminders writes
            {"kind": REMIND, "due_at": at - timedelta(minutes=offset), "community_id": cid,
             "payload": {"afterwork_id": first + i, "offset": offset, "starts_at": int(at.timestamp()),
                         "channel": offset == 1440},
             "dedupe_key": f"{REMIND}:{cid}:{first + i}:{offset}:{int(at.timestamp())}:0",
             "state": "pending", "attempts": 0, "created_at": now}
            for i, at in enumerate(starts) for offset in (1440, 60)
            if at - timedelta(minutes=offset) > now
        ])
    await services.db.dispose()


async def start_once(url: str) -> dict[str, float]:
    """In a fresh process (see --child): the start without a platform, then the first date read."""
    settings, _ = load_settings(env={"COLLECTIF_DATABASE__URL": url})
    services = Services.build(settings, Secrets())
    async with services.db.sessionmaker() as session:  # connect outside the measurement
        await session.execute(select(Job.id).limit(1))
    started = time.perf_counter()
    runtimes = await start(services, [])
    seconds = time.perf_counter() - started
    armed = len(services.scheduler.armed)
    async with services.db.transaction(write=False) as session:
        pending = int(await session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == REMIND, Job.state == "pending")) or 0)
    caller = await services.caller(origin(0))
    first_read = time.perf_counter()
    await run(services, caller, check_form, form("vendredi prochain 19h"), write=False)
    first_ms = (time.perf_counter() - first_read) * 1000
    # The warm-up again, for comparison: what it costs once the language data is loaded.
    warm = time.perf_counter()
    warm_date_reader(services)
    warm_again_ms = (time.perf_counter() - warm) * 1000
    await shutdown(services, runtimes)
    return {"seconds": seconds, "armed": armed, "pending": pending, "first_date_ms": first_ms,
            "warm_again_ms": warm_again_ms}


def start_child(url: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.afterworks", "--child", url],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


async def main(args: argparse.Namespace) -> int:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    rng = random.Random(10)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        # Start, in fresh processes, on its own database (real clock: the jobs are due from now on).
        arm_url = f"sqlite+aiosqlite:///{Path(tmp) / 'arm.db'}"
        seeded = time.perf_counter()
        await seed_arming(arm_url, args.arm)
        print(f"start: {args.arm} future afterworks seeded in {time.perf_counter() - seeded:.1f} s; "
              f"{args.starts} starts in fresh processes (load average {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} CPUs)", flush=True)
        starts = [start_child(arm_url) for _ in range(args.starts)]
        start_s = statistics.median(s["seconds"] for s in starts)
        first_ms = statistics.median(s["first_date_ms"] for s in starts)
        each_start = ", ".join(f"{s['seconds'] * 1000:.0f}" for s in starts)
        each_first = ", ".join(f"{s['first_date_ms']:.1f}" for s in starts)
        again_ms = statistics.median(s["warm_again_ms"] for s in starts)
        print(f"  start (migrations check, on_start hooks, scheduler.start, warm-ups): "
              f"median {start_s * 1000:.0f} ms, "
              f"each {each_start} ms; {starts[0]['armed']} timers armed of {starts[0]['pending']} pending "
              f"reminders ({'ok' if start_s <= TARGET_START_S else 'OVER TARGET'}, target <= "
              f"{TARGET_START_S:.0f} s)")
        print(f"  first date read in that process: median {first_ms:.1f} ms (each {each_first}); "
              f"the date reader's warm-up run again: {again_ms:.1f} ms", flush=True)
        ok &= start_s <= TARGET_START_S

        services, notifier = await bench_services(Path(tmp), NOW)
        await on_start(services)  # job kinds
        warm_date_reader(services)  # as at start
        organizer = await services.caller(origin(0))
        async with services.db.transaction() as session:
            (await get_settings(session, organizer.community_id)).afterworks_channel_id = "C-AW"
        seeded = time.perf_counter()
        storm_first = args.members + 1
        await seed_members(services, 1, args.members + args.storm * args.rounds)
        events = [(await run(services, organizer, create_afterwork, form(), origin_channel_id="C-HERE")
                   ).afterwork_id for _ in range(args.events)]
        print(f"seeded {args.members} members (+ {args.storm * args.rounds} for the storms) and "
              f"{args.events} afterworks of 50 seats in {time.perf_counter() - seeded:.1f} s", flush=True)
        callers = {"fr": organizer, "en": await services.caller(
            Origin("discord", GUILD, "Collectif bench", "E0", "English member", "en", "fr", False))}
        for text, locale in DATES:  # each phrasing is read (InvalidInput otherwise)
            await run(services, callers[locale], check_form, form(text.format(h=19, p=7)), write=False)

        parts: dict[str, list[float]] = {}

        async def rsvp(_: int) -> object:
            user, event = rng.randint(1, args.members), rng.choice(events)
            return await click(services, user, event, rng.choice(ANSWERS), parts)

        refused: set[str] = set()

        async def read_date(_: int) -> object:
            text, locale = rng.choice(DATES)
            typed = text.format(h=rng.randint(8, 22), p=rng.randint(1, 11))
            try:
                return await run(services, callers[locale], check_form, form(typed), write=False)
            except InvalidInput:  # timed all the same: the member is told at once
                refused.add(typed)
                return None

        await timed(20, rsvp, warm_up=0)  # warm-up: caches, prepared statements
        floor = LibraryFloor(services.db.engine.url)
        figures: dict[str, list[tuple[float, float]]] = {"RSVP": [], "natural date": []}
        storms: list[dict[str, Any]] = []
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_} (load average {os.getloadavg()[0]:.2f})", flush=True)
            parts.clear()
            figures["RSVP"].append(line("RSVP", (await timed(args.runs, rsvp, floor=floor, warm_up=0))["all"],
                                        TARGET_RSVP_MS))
            print(f"    its steps, median / p99 ms: {split(parts)}")
            dates = await timed(args.runs, read_date, floor=floor, warm_up=0)
            figures["natural date"].append(line("natural date", dates["all"], TARGET_DATE_MS))
            result = await storm(services, organizer, storm_first + (round_ - 1) * args.storm, args.storm,
                                 args.seats, errors)
            storms.append(result)
            print(f"  storm: {args.storm} Going clicks, {args.seats} seats: {result['going']} going "
                  f"(going_count {result['going_count']}), {result['waitlist']} waitlisted, positions "
                  f"answered 1..{args.storm - args.seats} {'yes' if result['positions_ok'] else 'NO'}, "
                  f"launch order: going not among the first {args.seats} launched "
                  f"{result['overtaken']}, reversed waitlisted pairs {result['inversions']}, "
                  f"errors raised {result['raised']} logged {result['logged']}; "
                  f"{result['seconds']:.2f} s = {result['rate']:.0f} RSVPs/s", flush=True)
            print(f"    each click's steps, median / p99 ms: {result['parts']}")
            for first in result["raised_first"]:
                print(f"    raised: {first}")
        print(f"  (recording notifier: {len(notifier.calls)} calls, {len(notifier.dms)} DMs)")
        if refused:
            print(f"  natural dates refused by the reader (timed all the same): {sorted(refused)}")
        if errors.first:
            print(f"  first errors logged: {errors.first}")
        await floor.close()
        await services.db.dispose()

    for name, rows in figures.items():
        target = TARGET_RSVP_MS if name == "RSVP" else TARGET_DATE_MS
        median, tail = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
        print(f"{name}: median of {args.rounds} rounds: median {median:.2f} ms, p99 {tail:.2f} ms "
              f"({'ok' if tail <= target else 'OVER TARGET'}, target p99 <= {target:.0f} ms)")
        ok &= tail <= target
    exact = all(s["going"] == args.seats and s["going_count"] == args.seats
                and s["waitlist"] == args.storm - args.seats and s["positions_ok"]
                and not s["raised"] and not s["logged"] for s in storms)
    in_order = all(not s["inversions"] and not s["overtaken"] for s in storms)
    rate = statistics.median(s["rate"] for s in storms)
    print(f"storm: counts {'exact, no error' if exact else 'NOT EXACT OR ERRORS'} in {args.rounds} rounds; "
          f"launch order {'kept' if in_order else 'NOT KEPT'}; median {rate:.0f} RSVPs/s "
          f"({'ok' if rate >= TARGET_RATE else 'UNDER TARGET'}, target >= {TARGET_RATE:.0f})")
    print(f"start: median {start_s:.2f} s ({'ok' if start_s <= TARGET_START_S else 'OVER TARGET'})")
    ok &= exact and in_order and rate >= TARGET_RATE
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm", type=int, default=500)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--arm", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one start on this database URL
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(start_once(args.child))))
        sys.exit(0)
    sys.exit(asyncio.run(main(args)))
