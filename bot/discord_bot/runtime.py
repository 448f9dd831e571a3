"""The Discord platform runtime: log in, sync commands when they changed, connect, wait for READY."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.discord_bot.client import CollectifBot
from bot.discord_bot.notifier import DiscordNotifier
from bot.discord_bot.sync import discord_token, sync_commands
from bot.services import Services

log = logging.getLogger(__name__)


class DiscordRuntime:
    """PlatformRuntime for Discord. `start()` returns once every shard is ready."""

    name = "discord"

    def __init__(self, services: Services, *, ready_timeout: float = 120.0) -> None:
        self.services = services
        self.ready_timeout = ready_timeout
        self.bot: CollectifBot | None = None
        self._gateway: asyncio.Task[None] | None = None

    async def start(self) -> None:
        token = discord_token(self.services)  # before building a bot that would need closing
        bot = self.bot = CollectifBot(self.services)
        self.services.notifiers[self.name] = DiscordNotifier(bot)
        try:
            await bot.login(token)
            try:
                await sync_commands(bot, force=False)
            except Exception:
                # The bot still answers with the definitions Discord already has.
                log.exception("command sync failed; will try again at the next start")
            self._gateway = asyncio.create_task(bot.connect(reconnect=True), name="discord-gateway")
            self._gateway.add_done_callback(self._gateway_done)
            ready = asyncio.create_task(bot.wait_until_ready())
            done, _ = await asyncio.wait(
                {ready, self._gateway}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if self._gateway in done:
                    self._gateway.result()  # raises why the connection ended
                raise TimeoutError(f"Discord not ready after {self.ready_timeout:.0f} s")
            created = await bot.ensure_guilds()
        except BaseException:
            await self.stop()
            raise
        log.info("Discord ready as %s in %d guild(s), %d new", bot.user, len(bot.guilds), created)

    def _gateway_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("Discord connection ended", exc_info=task.exception())

    async def wait(self) -> None:
        """Returns when the gateway connection ends for good (raising its error, if any)."""
        if self._gateway is not None:
            await self._gateway

    async def stop(self) -> None:
        bot, self.bot = self.bot, None
        gateway, self._gateway = self._gateway, None
        if bot is not None:
            await bot.close()
        if gateway is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(gateway, timeout=5)

