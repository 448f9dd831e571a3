"""`collectif run`: migrate, start the scheduler and every platform that has credentials, stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

from bot.clock import Clock
from bot.config import Secrets, Settings
from bot.services import PlatformRuntime, Services
from storage.migrate import upgrade

log = logging.getLogger(__name__)

NO_CREDENTIALS = (
    "no platform credentials: set DISCORD_TOKEN for Discord, and/or SLACK_BOT_TOKEN with "
    "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack "
    "(README: \"Tokens\")"
)


def platforms(settings: Settings, secrets: Secrets) -> list[str]:
    """The platforms that have what they need to start."""
    found = []
    if secrets.has_discord:
        found.append("discord")
    if secrets.has_slack(settings.slack.mode):
        found.append("slack")
    return found


def build_runtimes(services: Services, names: list[str]) -> list[PlatformRuntime]:
    runtimes: list[PlatformRuntime] = []
    if "discord" in names:
        from bot.discord_bot.runtime import DiscordRuntime

        runtimes.append(DiscordRuntime(services))
    if "slack" in names:
        from bot.slack_app.runtime import SlackRuntime

        runtimes.append(SlackRuntime(services))
    return runtimes


async def start(services: Services, names: list[str]) -> list[PlatformRuntime]:
    """Migrate, start the scheduler and the platforms; returns the started runtimes."""
    await upgrade(services.db.engine)
    for feature in services.features:
        if feature.on_start is not None:
            await feature.on_start(services)
    await services.scheduler.start()
    runtimes = build_runtimes(services, names)
    started: list[PlatformRuntime] = []
    try:
        for runtime in runtimes:
            await runtime.start()
            started.append(runtime)
            log.info("%s ready", runtime.name)
    except BaseException:
        await shutdown(services, started)
        raise
    return started


async def shutdown(services: Services, runtimes: list[PlatformRuntime]) -> None:
    for runtime in reversed(runtimes):
        try:
            await runtime.stop()
        except Exception:
            log.exception("stopping %s failed", runtime.name)
    await services.scheduler.stop()
    await services.db.dispose()


async def run(settings: Settings, secrets: Secrets, *, clock: Clock | None = None,
              stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); returns the exit code."""
    names = platforms(settings, secrets)
    if not names:
        log.error(NO_CREDENTIALS)
        return 2
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    services = Services.build(settings, secrets, clock=clock)
    runtimes = await start(services, names)
    try:
        await stop.wait()
        log.info("stopping")
    finally:
        await shutdown(services, runtimes)
    return 0
