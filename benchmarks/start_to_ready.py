"""Start to ready on an empty SQLite database (Discord): migrations, login, command sync, READY.

Target (issue #2): <= 2 s, platform latency excluded; issue 7 item 14: first start with 2,500 new
communities close to stock discord.py. Run:
`.venv/bin/python -m benchmarks.start_to_ready [--runs 5] [--guilds 2500] [--guild-ready-timeout 0.05]`.
Each run uses a new database file and a fake Discord on 127.0.0.1 (so platform latency is ~0), and
starts a stock discord.py `AutoShardedBot` against the same fake in the same run: the floor.
discord.py waits `discord.guild_ready_timeout` after the last GUILD_CREATE before READY; that wait
is Discord streaming guilds (platform latency), so it is kept small here and printed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import discord
from discord.ext import commands
from pydantic import SecretStr

from bot.config import Secrets, load_settings
from bot.discord_bot.runtime import DiscordRuntime
from bot.services import Services
from storage.migrate import upgrade
from tests.fakes.discord_api import FakeDiscord


async def _fake(guilds: int) -> FakeDiscord:
    fake = FakeDiscord()
    await fake.start()
    for i in range(guilds):
        fake.add_guild(f"Collectif {i}", channels=("général",))
    return fake


async def one_run(guilds: int, guild_ready_timeout: float) -> tuple[float, float, float]:
    """Collectif: (start to ready, migrations, login + sync + READY + communities created)."""
    fake = await _fake(guilds)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings, _ = load_settings(env={
                "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                "COLLECTIF_DISCORD__API_BASE_URL": fake.api_base,
                "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": str(guild_ready_timeout),
            })
            started = time.perf_counter()
            services = Services.build(settings, Secrets(discord_token=SecretStr(fake.token)))
            await upgrade(services.db.engine)
            migrated = time.perf_counter()
            runtime = DiscordRuntime(services)
            await runtime.start()
            ready = time.perf_counter()
            await runtime.stop()
            await services.db.dispose()
    finally:
        await fake.close()
    return ready - started, migrated - started, ready - migrated


async def stock_run(guilds: int, guild_ready_timeout: float) -> float:
    """Stock discord.py (no database, no extensions): login to READY through the same fake."""
    fake = await _fake(guilds)
    discord.http.Route.BASE = fake.api_base
    bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.default(),
                                  guild_ready_timeout=guild_ready_timeout, chunk_guilds_at_startup=False)
    try:
        started = time.perf_counter()
        await bot.login(fake.token)
        gateway = asyncio.create_task(bot.connect(reconnect=False))
        await asyncio.wait_for(bot.wait_until_ready(), 120)
        ready = time.perf_counter()
        await bot.close()
        await asyncio.gather(gateway, return_exceptions=True)
    finally:
        await fake.close()
    return ready - started


def import_time() -> float:
    """Seconds a fresh interpreter takes to import the runtime (paid once per process start)."""
    code = ("import time; t = time.perf_counter(); import bot.discord_bot.runtime, bot.services, "
            "storage.migrate, bot.features; [__import__(f.package) for f in bot.features.load_features()]; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


MIGRATE_CHILD = """
import asyncio, sys, time
t = time.perf_counter()
import bot.discord_bot.runtime, bot.services, bot.features
from storage.engine import Database
from storage.migrate import upgrade
[__import__(f.package) for f in bot.features.load_features()]

async def main():
    db = Database.from_url(sys.argv[1])
    await upgrade(db.engine)
    await db.dispose()

asyncio.run(main())
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(rss / 1024, time.perf_counter() - t, "alembic" in sys.modules)
"""


def migrate_rss(runs: int) -> dict[str, tuple[float, float]]:
    """(RSS MB, seconds) of a fresh process that imports the runtime and migrates: a new database
    (migrations pending: Alembic imported) against an up-to-date one (Alembic not imported)."""
    figures: dict[str, list[tuple[float, float]]] = {"pending": [], "up to date": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            for state in ("pending", "up to date"):
                out = subprocess.run([sys.executable, "-c", MIGRATE_CHILD, url], capture_output=True,
                                     text=True, check=True).stdout.split()
                assert out[2] == ("True" if state == "pending" else "False"), (state, out)
                figures[state].append((float(out[0]), float(out[1])))
    return {state: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
            for state, rows in figures.items()}


async def main(runs: int, guilds: int, guild_ready_timeout: float) -> None:
    results, floor = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        results.append(await one_run(guilds, guild_ready_timeout))
        floor.append(await stock_run(guilds, guild_ready_timeout))
    total, migrations, connect = (statistics.median(r[i] for r in results) for i in range(3))
    stock = statistics.median(floor)
    imports = statistics.median(import_time() for _ in range(runs))
    print(f"{guilds} new guild(s), {runs} runs, guild_ready_timeout {guild_ready_timeout * 1000:.0f} ms")
    print(f"collectif start to ready: median {total * 1000:.0f} ms (migrations {migrations * 1000:.0f} ms, "
          f"login + sync + READY + communities {connect * 1000:.0f} ms) (target <= 2000 ms)")
    print(f"stock discord.py login to READY: median {stock * 1000:.0f} ms; "
          f"collectif after migrations / stock: {connect / stock:.2f}x, "
          f"whole start / stock: {total / stock:.2f}x")
    print(f"plus imports in a fresh process: median {imports * 1000:.0f} ms "
          f"-> cold start to ready about {(total + imports) * 1000:.0f} ms")
    rss = migrate_rss(runs)
    (pending_mb, pending_s), (current_mb, current_s) = rss["pending"], rss["up to date"]
    print(f"fresh process, imports + migrate: pending (Alembic imported) RSS {pending_mb:.1f} MB, "
          f"{pending_s * 1000:.0f} ms; up to date (Alembic not imported) RSS {current_mb:.1f} MB, "
          f"{current_s * 1000:.0f} ms; saved {pending_mb - current_mb:.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--guilds", type=int, default=1)
    parser.add_argument("--guild-ready-timeout", type=float, default=0.05)
    logging.basicConfig(level=logging.ERROR)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.guilds, arguments.guild_ready_timeout))
