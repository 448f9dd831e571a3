"""Sustained load: 50 interactions per second for 5 minutes on 10,000 profiles, p50/p99 and RSS per minute.

Run: `.venv/bin/python -m benchmarks.load [--rate 50] [--minutes 5] [--profiles 10000]`.
Targets (issue 14): p99 <= 10 ms in every minute, and RSS growth under 10 % from minute 1 to minute 5.

`collectif run` runs in its own process (the console script) against the fake Discord served by this
process, on a temporary SQLite database seeded with `--profiles` profiles (benchmarks.directory's
seed). This process sends the interactions through the fake gateway on a fixed schedule (open loop:
one every 1/rate seconds whether or not the previous ones were answered, as members would), cycling
through a mix of commands (`MIX`), and measures what Discord sees: INTERACTION_CREATE sent -> first
interaction callback received. Each minute it prints the count, p50, p99, max, unanswered, and the
bot's resident memory (VmRSS of its process, read at the minute's end).

Side by side, the floor: a stock discord.py bot answering one trivial command (benchmarks.
discord_commands `--floor`), in its own process against a second fake served by this process, sent
the same number of interactions on the same schedule, each half an interval after the bot's. Both
see the same machine, so the floor's p99 in a minute shows how much of a tail is the machine's
(the fake, the scheduler of a shared box) rather than the bot's; each minute prints the floor's p50
and p99 and the bot's p50 as a ratio of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.discord_commands import (
    SKILLS,
    USERS,
    Command,
    collectif_command,
    p99,
    quiet_harness,
    seed_database,
    send,
    spawn,
    start_fake,
    tail,
    wait_ready,
)

# What members do most: help, searching the directory (and its autocomplete), profiles, availability;
# a moderator looks at the settings now and then.
MIX = [
    Command("/help", "help"),
    Command("/members skill", "members", lambda i: {"skill": SKILLS[i % len(SKILLS)]}),
    Command("/members autocomplete", "members", lambda i: {"skill": ("s", "fi", "wo", "")[i % 4]},
            autocomplete="skill"),
    Command("/profile", "profile"),
    Command("/members city", "members", lambda i: {"city": ("Paris", "Lyon", "Nantes")[i % 3]}),
    Command("/availability", "availability", lambda i: {"status": ("available", "busy")[i % 2]}),
    Command("/help", "help"),
    Command("/members autocomplete", "members", lambda i: {"skill": ("re", "py", "br", "")[i % 4]},
            autocomplete="skill"),
    Command("/profile", "profile"),
    Command("/config show", "config show", moderator=True),
]
FLOOR = Command("floor", "ping")  # what the stock discord.py bot answers


def trim(fake: Any) -> None:
    """Keep the fake's records short without forgetting an interaction still waiting for its answer
    (benchmarks.discord_commands.trim assumes one in flight; here many may be)."""
    if len(fake.interactions) > 256:
        answered = [key for key, interaction in fake.interactions.items() if interaction.answered_at]
        for key in answered[:-64]:
            del fake.interactions[key]
    if len(fake.requests) > 256:
        del fake.requests[:-64]
    if len(fake.messages) > 256:
        for key in list(fake.messages)[:-64]:
            del fake.messages[key]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def main(rate: float, minutes: int, profiles: int) -> int:
    world, stock = await start_fake(USERS), await start_fake(USERS)
    tmp = Path(tempfile.mkdtemp(prefix="collectif-load-"))
    process: subprocess.Popen[bytes] | None = None
    floor_process: subprocess.Popen[bytes] | None = None
    try:
        db_path = tmp / "bench.db"
        await seed_database(db_path, profiles, [u.id for u in world.members])
        log = tmp / "collectif.log"
        process = spawn(collectif_command(), tmp, log, {
            "DISCORD_TOKEN": world.fake.token,
            "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{db_path}",
            "COLLECTIF_DISCORD__API_BASE_URL": world.fake.api_base,
            "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
            "COLLECTIF_LOGGING__LEVEL": "WARNING",
        })
        floor_log = tmp / "floor.log"
        floor_process = spawn([sys.executable, "-m", "benchmarks.discord_commands", "--floor",
                               stock.fake.api_base, stock.fake.token], tmp, floor_log, {})
        await wait_ready(world.fake, process, "collectif run", log)
        await wait_ready(stock.fake, floor_process, "the stock discord.py bot", floor_log)
        world.fake.interaction_deadline = stock.fake.interaction_deadline = 30.0
        quiet_harness()
        # Warm-up (first contacts, caches, code paths): every command of the mix a few times.
        for i in range(3 * len(MIX)):
            command = MIX[i % len(MIX)]
            guild, user = ((world.config_guild, world.moderator) if command.moderator
                           else (world.guild, world.members[i % USERS]))
            await send(world.fake, guild, user, command, i)
            await send(stock.fake, stock.guild, stock.members[i % USERS], FLOOR, i)
        print(f"ready; {rate:g} interactions/s for {minutes} min on {profiles} profiles, and as many to "
              f"the floor (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)", flush=True)
        header = (("minute", 6), ("sent", 6), ("p50 ms", 7), ("p99 ms", 7), ("max ms", 8), ("lost", 5),
                  ("floor p50", 9), ("floor p99", 9), ("x floor", 7), ("RSS MB", 7),
                  ("bot CPU ms/i", 12), ("harness CPU ms/i", 16))
        print(" ".join(f"{name:>{width}}" for name, width in header), flush=True)

        samples: list[list[float]] = [[] for _ in range(minutes)]
        floor: list[list[float]] = [[] for _ in range(minutes)]
        lost = [0] * minutes
        sent = [0] * minutes
        rss: list[float] = []
        tasks: set[asyncio.Task[None]] = set()
        by_command: dict[str, list[float]] = {}

        async def one(i: int, minute: int) -> None:
            command = MIX[i % len(MIX)]
            guild, user = ((world.config_guild, world.moderator) if command.moderator
                           else (world.guild, world.members[i % USERS]))
            first, _ = await send(world.fake, guild, user, command, i)
            if first is None:
                lost[minute] += 1
            else:
                samples[minute].append(first)
                by_command.setdefault(command.label, []).append(first)

        async def ping(i: int, minute: int) -> None:
            first, _ = await send(stock.fake, stock.guild, stock.members[i % USERS], FLOOR, i)
            if first is not None:
                floor[minute].append(first)

        def launch(work: Any) -> None:
            task = asyncio.create_task(work)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        bot_cpu, harness_cpu = cpu_seconds(process.pid), time.process_time()
        start = time.perf_counter()
        interval = 1.0 / rate
        i = 0
        for minute in range(minutes):
            end = start + 60.0 * (minute + 1)
            while (due := start + i * interval) < end:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                launch(one(i, minute))
                delay = due + interval / 2 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                launch(ping(i, minute))
                sent[minute] += 1
                i += 1
                if i % 50 == 0:
                    trim(world.fake)
                    trim(stock.fake)
            rss.append(rss_mb(process.pid))
            done = samples[minute]
            median = statistics.median(done) if done else float("nan")
            floor_median = statistics.median(floor[minute]) if floor[minute] else float("nan")
            # CPU per interaction sent: the bot's (its whole process) and this one's (fake + driver),
            # to tell the bot's own cost from a busy machine or a slow harness.
            used, bot_cpu = cpu_seconds(process.pid) - bot_cpu, cpu_seconds(process.pid)
            spent, harness_cpu = time.process_time() - harness_cpu, time.process_time()
            print(f"{minute + 1:>6} {sent[minute]:>6} {median:>7.2f} "
                  f"{p99(done):>7.2f} {max(done, default=float('nan')):>8.1f} {lost[minute]:>5} "
                  f"{floor_median:>9.2f} {p99(floor[minute]):>9.2f} {median / floor_median:>6.2f}x "
                  f"{rss[-1]:>7.1f} {1000 * used / sent[minute]:>12.2f} "
                  f"{1000 * spent / sent[minute]:>16.2f}", flush=True)
        if tasks:
            await asyncio.wait(tasks, timeout=35)
        worst = max(p99(s) for s in samples)
        print("by command, whole run: " + ", ".join(
            f"{label} median {statistics.median(times):.2f} / p99 {p99(times):.2f} ms"
            for label, times in sorted(by_command.items(), key=lambda item: -p99(item[1]))))
        growth = (rss[-1] - rss[0]) / rss[0] * 100
        pooled = [t for minute in floor for t in minute]
        print(f"floor, whole run: median {statistics.median(pooled):.2f} / p99 {p99(pooled):.2f} ms, "
              f"worst minute p99 {max(p99(m) for m in floor):.2f} ms")
        print(f"p99 per minute: worst {worst:.2f} ms (target <= 10 ms): "
              f"{'met' if worst <= 10 else 'MISSED'}")
        print(f"RSS minute 1 -> {minutes}: {rss[0]:.1f} -> {rss[-1]:.1f} MB, {growth:+.1f} % "
              f"(target < 10 %): {'met' if growth < 10 else 'MISSED'}")
        errors = [line for line in tail(log).splitlines() if "ERROR" in line or "Traceback" in line]
        if errors:
            print(f"collectif logged {len(errors)} error line(s), first: {errors[0][:300]}")
        return 0 if worst <= 10 and growth < 10 and not sum(lost) else 1
    finally:
        for child in (process, floor_process):
            if child is not None:
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
        await world.fake.close()
        await stock.fake.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="interactions per second (default 50)")
    parser.add_argument("--minutes", type=int, default=5, help="how long (default 5)")
    parser.add_argument("--profiles", type=int, default=10_000, help="profiles seeded (default 10,000)")
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.rate, arguments.minutes, arguments.profiles)))
