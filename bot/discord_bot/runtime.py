"""The Discord platform runtime: log in, sync commands when they changed, connect, wait for READY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any

import aiohttp
import discord

from bot import startup
from bot.discord_bot.client import CollectifBot
from bot.discord_bot.notifier import DiscordNotifier
from bot.discord_bot.sync import discord_token, sync_commands
from bot.services import Services

log = logging.getLogger(__name__)
DISCORD_REFUSED = (
    "Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the Developer "
    "Portal (your application > Bot > Reset Token)"
)


async def login(bot: CollectifBot, token: str) -> None:
    """`bot.login`, with a refused token or an unreachable Discord as a StartupError."""
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise startup.StartupError(startup.DISCORD_TOKEN, DISCORD_REFUSED) from None
    except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
        raise startup.unreachable(
            "Discord", bot.services.settings.discord.api_base, exc, "discord.api_base_url"
        ) from None


async def sync_once(services: Services) -> int:
    """`collectif discord sync`: log in (no gateway), sync unconditionally, log out; the exit code."""
    token = discord_token(services)  # before building a bot that would need closing
    bot = CollectifBot(services)
    try:
        await login(bot, token)
        await sync_commands(bot, force=True)
    except discord.HTTPException as exc:
        print(f"collectif: Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    except discord.RateLimited as exc:
        print(f"collectif: {rate_limited(exc)}", file=sys.stderr)
        return 1
    finally:
        await bot.close()
    print(f"{len(bot.tree.get_commands())} commands synced")
    return 0


def rate_limited(exc: discord.RateLimited) -> str:
    """Why the command sync waits: Discord's cap on command changes (200 a day), in one line."""
    wait = exc.retry_after
    later = (f"{wait / 3600:.1f} h" if wait >= 3600 else f"{wait / 60:.0f} min" if wait >= 60
             else f"{wait:.0f} s")
    return f"Discord rate-limits the command sync (command changes are capped per day): try again in {later}"


def _gateway_failure(error: BaseException) -> BaseException:
    """Why the gateway connection ended before READY, as a StartupError when the operator can fix it."""
    if isinstance(error, discord.LoginFailure) or (
        isinstance(error, discord.ConnectionClosed) and error.code == 4004  # authentication failed
    ):
        return startup.StartupError(startup.DISCORD_TOKEN, DISCORD_REFUSED)
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return startup.StartupError(startup.CONFIG, f"Discord refused the gateway intents ({error})")
    return error


DRAIN_SECONDS = 5.0  # how long a stop waits for the interactions in flight


class DiscordRuntime:
    """PlatformRuntime for Discord. `start()` returns once every shard is ready."""

    name = "discord"

    def __init__(self, services: Services, *, ready_timeout: float = 120.0) -> None:
        self.services = services
        self.ready_timeout = ready_timeout
        self.bot: CollectifBot | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._ready = False  # before READY, start() reports why the connection ended

    async def start(self) -> None:
        token = discord_token(self.services)  # before building a bot that would need closing
        bot = self.bot = CollectifBot(self.services)
        self.services.notifiers[self.name] = DiscordNotifier(bot)
        try:
            await login(bot, token)
            try:
                await sync_commands(bot, force=False)
            except discord.RateLimited as exc:  # not waited out for hours: the bot starts all the same
                log.warning("%s; the bot goes on with the commands Discord already has, and syncs again at "
                            "the next start", rate_limited(exc))
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
                failure = self._gateway.exception() if self._gateway in done else None
                if failure is not None:
                    raise _gateway_failure(failure) from None
                raise startup.StartupError(
                    startup.UNREACHABLE,
                    f"Discord's gateway sent no READY within {self.ready_timeout:.0f} s: check the "
                    "network, DNS and proxy, and discord.api_base_url",
                )
            created = await bot.ensure_guilds()
        except BaseException:
            await self.stop()
            raise
        self._ready = True
        log.info("Discord ready as %s in %d guild(s), %d new", bot.user, len(bot.guilds), created)

    def _gateway_done(self, task: asyncio.Task[None]) -> None:
        if self._ready and not task.cancelled() and task.exception() is not None:
            log.error("Discord connection ended", exc_info=task.exception())

    async def health(self) -> dict[str, Any]:
        """For /healthz: every shard of this process is connected to the gateway."""
        bot = self.bot
        if bot is None or bot.is_closed() or not self._ready:
            return {"ok": False, "error": "not connected"}
        shards = {str(shard_id): not shard.is_closed() for shard_id, shard in bot.shards.items()}
        down = [shard_id for shard_id, up in shards.items() if not up]
        detail: dict[str, Any] = {"ok": not down, "shards": shards, "guilds": len(bot.guilds)}
        if down:
            detail["error"] = f"shard(s) {', '.join(down)} disconnected (reconnecting)"
        return detail

    def latencies(self) -> list[tuple[int, float]]:
        """Each shard's heartbeat latency in seconds (shards without one yet are left out)."""
        bot = self.bot
        if bot is None:
            return []
        return [(shard_id, latency) for shard_id, latency in bot.latencies if latency == latency
                and latency != float("inf")]

    async def wait(self) -> None:
        """Returns when the gateway connection ends for good (raising its error, if any)."""
        if self._gateway is not None:
            await self._gateway

    async def stop(self) -> None:
        bot, self.bot = self.bot, None
        gateway, self._gateway = self._gateway, None
        if bot is not None:
            # What was answered may still be posting its card or DMs: that finishes on the open client.
            await bot.drain(DRAIN_SECONDS)
            await bot.close()
        if gateway is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(gateway, timeout=5)

