"""Memory and first READY: Collectif in 2,500 guilds with 50,000 pending jobs, beside stock discord.py.

Run: `.venv/bin/python -m benchmarks.memory [--runs 3] [--guilds 2500] [--jobs 50000]`.
Budget (issue 7): RSS <= 115 MB and first READY <= 2 s.

Each run starts, in its own process, `collectif run` (the console script) on a new SQLite database
(migrated, holding `--jobs` pending jobs spread over 30 days) and a stock discord.py
`AutoShardedBot` (one slash command, no database: the floor), one after the other, each against
a fake Discord on 127.0.0.1 streaming `--guilds` guilds of 20 channels and 11 roles (@everyone and
10) in READY / GUILD_CREATE. Collectif meets every guild for the first time (a community created
for each). Printed: the resident set size (VmRSS) one second after READY and its peak (VmHWM), and
the time from spawning the process to READY (Python imports included; discord.py waits
`guild_ready_timeout`, 0.05 s here, after the last GUILD_CREATE). Medians of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.discord_commands import collectif_command, spawn, tail
from tests.fakes.discord_api import FakeDiscord

SETTLE = 1.0  # seconds after READY before reading the RSS
RSS_BUDGET_MB, READY_BUDGET_S = 115.0, 2.0


async def seed_jobs(path: Path, jobs: int) -> None:
    from sqlalchemy import insert

    from cogs.intros._publish import REPUBLISH
    from storage.engine import Database
    from storage.migrate import upgrade
    from storage.models import Job

    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    await upgrade(db.engine)
    first = datetime.now(UTC) + timedelta(minutes=10)  # none falls due while the benchmark runs
    async with db.transaction() as session:
        for start in range(0, jobs, 5000):
            await session.execute(insert(Job), [
                {"kind": REPUBLISH, "payload": {"card": i}, "due_at": first + timedelta(days=30) * i / jobs,
                 "state": "pending", "attempts": 0, "created_at": first}
                for i in range(start, min(jobs, start + 5000))])
    await db.dispose()


async def fake_discord(guilds: int) -> FakeDiscord:
    fake = FakeDiscord()
    await fake.start()
    for i in range(guilds):
        guild = fake.add_guild(f"Collectif {i}", channels=tuple(f"salon-{c}" for c in range(20)))
        for r in range(10):
            guild.add_role(f"rôle {r}")
    return fake


def logged(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(errors="replace")


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def start_and_measure(command: list[str], env: dict[str, str], tmp: Path, log: Path, ready_text: str
                            ) -> tuple[float, float, float]:
    """(seconds from spawn to READY, RSS MB, peak RSS MB) of one process, then stopped."""
    started = time.perf_counter()
    process = spawn(command, tmp, log, env)
    try:
        while not logged(log, ready_text):
            if process.poll() is not None:
                raise SystemExit(f"{command[-1]} exited with {process.returncode}:\n{tail(log)}")
            if time.perf_counter() - started > 180:
                raise SystemExit(f"no READY after 180 s:\n{tail(log)}")
            await asyncio.sleep(0.01)
        ready = time.perf_counter() - started
        await asyncio.sleep(SETTLE)
        rss, peak = memory_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except Exception:
            process.kill()
    return ready, rss, peak


async def main(runs: int, guilds: int, jobs: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="collectif-memory-"))
    try:
        seeded = tmp / "seeded.db"
        await seed_jobs(seeded, jobs)
        bot: list[tuple[float, float, float]] = []
        floor: list[tuple[float, float, float]] = []
        for run in range(runs):  # interleaved, so both see the same machine load
            fake = await fake_discord(guilds)
            try:
                db = tmp / f"run{run}.db"
                shutil.copy(seeded, db)
                bot.append(await start_and_measure(collectif_command(), {
                    "DISCORD_TOKEN": fake.token,
                    "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{db}",
                    "COLLECTIF_DISCORD__API_BASE_URL": fake.api_base,
                    "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
                    "COLLECTIF_LOGGING__LEVEL": "INFO",
                }, tmp, tmp / f"collectif{run}.log", "Discord ready as"))
            finally:
                await fake.close()
            fake = await fake_discord(guilds)
            try:
                floor_command = [sys.executable, "-m", "benchmarks.discord_commands", "--floor",
                                 fake.api_base, fake.token]
                floor.append(await start_and_measure(floor_command, {}, tmp, tmp / f"floor{run}.log",
                                                     "floor ready"))
            finally:
                await fake.close()
            print(f"run {run + 1}: collectif READY {bot[-1][0]:.2f} s, RSS {bot[-1][1]:.1f} MB "
                  f"(peak {bot[-1][2]:.1f}); stock discord.py READY {floor[-1][0]:.2f} s, RSS "
                  f"{floor[-1][1]:.1f} MB (peak {floor[-1][2]:.1f}) (load average {os.getloadavg()[0]:.2f})",
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ready, rss, peak = (statistics.median(r[i] for r in bot) for i in range(3))
    floor_ready, floor_rss, floor_peak = (statistics.median(r[i] for r in floor) for i in range(3))
    print(f"{guilds} guilds x 20 channels x 11 roles, {jobs} pending jobs, medians of {runs} runs:")
    print(f"  collectif        RSS {rss:6.1f} MB (peak {peak:6.1f})   spawn to READY {ready:5.2f} s")
    print(f"  stock discord.py RSS {floor_rss:6.1f} MB (peak {floor_peak:6.1f})   spawn to READY "
          f"{floor_ready:5.2f} s")
    print(f"  ratio            RSS {rss / floor_rss:.2f}x (+{rss - floor_rss:.1f} MB)   READY "
          f"{ready / floor_ready:.2f}x (+{ready - floor_ready:.2f} s)")
    ok = rss <= RSS_BUDGET_MB and ready <= READY_BUDGET_S
    print(f"budget: RSS <= {RSS_BUDGET_MB:.0f} MB, first READY <= {READY_BUDGET_S:.0f} s -> "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--guilds", type=int, default=2500)
    parser.add_argument("--jobs", type=int, default=50_000)
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.runs, arguments.guilds, arguments.jobs)))
