"""`/help` round trip through the fake Discord: INTERACTION_CREATE sent -> interaction callback received.

Target (issue #2): median <= 5 ms. Run: `.venv/bin/python -m benchmarks.discord_help [--runs 200]`.
The real bot, its SQLite database (caller resolved in a transaction each time) and the fake run
in one process on 127.0.0.1; the figure includes the gateway frame, discord.py's dispatch, the
command, the rendering and the HTTP callback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
from pathlib import Path

from pydantic import SecretStr

from bot.config import Secrets, load_settings
from bot.discord_bot.runtime import DiscordRuntime
from bot.services import Services
from storage.migrate import upgrade
from tests.fakes.discord_api import FakeDiscord


async def main(runs: int) -> None:
    fake = FakeDiscord()
    await fake.start()
    guild = fake.add_guild("Les Freelances")
    users = [fake.add_user(f"Membre {i}", guild=guild) for i in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        settings, _ = load_settings(env={
            "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "COLLECTIF_DISCORD__API_BASE_URL": fake.api_base,
            "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        })
        services = Services.build(settings, Secrets(discord_token=SecretStr(fake.token)))
        await upgrade(services.db.engine)
        runtime = DiscordRuntime(services)
        await runtime.start()
        try:
            for user in users:  # warm up: members created, code paths hot
                await fake.invoke_slash(guild, user, "help", locale="fr")
            times = []
            for i in range(runs):
                answer = await fake.invoke_slash(guild, users[i % len(users)], "help",
                                                 locale="fr" if i % 2 else "en-US")
                times.append((answer.answered_at - answer.sent_at) * 1000)
        finally:
            await runtime.stop()
            await services.db.dispose()
            await fake.close()
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"/help round trip over {runs} runs: median {statistics.median(times):.2f} ms, "
          f"p99 {p99:.2f} ms, max {times[-1]:.2f} ms (target: median <= 5 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args().runs))
