"""Start to ready on an empty SQLite database (Discord): migrations, login, command sync, READY.

Target (issue #2): <= 2 s, platform latency excluded. Run:
`.venv/bin/python -m benchmarks.start_to_ready [--runs 5] [--guild-ready-timeout 0.05]`.
Each run uses a new database file and a fake Discord on 127.0.0.1 (so platform latency is ~0).
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

from pydantic import SecretStr

from bot.config import Secrets, load_settings
from bot.discord_bot.runtime import DiscordRuntime
from bot.services import Services
from storage.migrate import upgrade
from tests.fakes.discord_api import FakeDiscord


async def one_run(guild_ready_timeout: float) -> tuple[float, float, float]:
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild("Les Freelances")
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


def import_time() -> float:
    """Seconds a fresh interpreter takes to import the runtime (paid once per process start)."""
    code = ("import time; t = time.perf_counter(); import bot.discord_bot.runtime, bot.services, "
            "storage.migrate, bot.features; [__import__(f.package) for f in bot.features.load_features()]; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


async def main(runs: int, guild_ready_timeout: float) -> None:
    results = [await one_run(guild_ready_timeout) for _ in range(runs)]
    total, migrations, connect = (statistics.median(r[i] for r in results) for i in range(3))
    imports = statistics.median(import_time() for _ in range(runs))
    print(f"start to ready over {runs} runs: median {total * 1000:.0f} ms "
          f"(migrations {migrations * 1000:.0f} ms, login + sync + gateway READY {connect * 1000:.0f} ms, "
          f"of which guild_ready_timeout {guild_ready_timeout * 1000:.0f} ms) (target <= 2000 ms)")
    print(f"plus imports in a fresh process: median {imports * 1000:.0f} ms "
          f"-> cold start to ready about {(total + imports) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--guild-ready-timeout", type=float, default=0.05)
    logging.basicConfig(level=logging.ERROR)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.guild_ready_timeout))
