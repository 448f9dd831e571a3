"""`collectif run`: migrate, start the scheduler and every platform that has credentials, stop cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot import startup, submissions
from bot.clock import Clock
from bot.config import Secrets, Settings
from bot.ops import backup
from bot.ops.server import Ops, routes_hook
from bot.services import PlatformRuntime, Services
from storage.migrate import UnknownRevisionError, upgrade

log = logging.getLogger(__name__)

SETTLE_SECONDS = 5.0  # how long a runtime's wait() may take to return once the runtime is stopped
START_PAUSE_SECONDS = 10.0  # the garbage collector's pause while starting, at most
NO_CREDENTIALS = (
    "no platform credentials: set DISCORD_TOKEN for Discord, and/or SLACK_BOT_TOKEN with "
    "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack "
    "(README: \"Tokens\")"
)


def incomplete_slack(settings: Settings, secrets: Secrets) -> str | None:
    """What is missing when some Slack credentials are set but not enough to start Slack."""
    mode = settings.slack.mode
    distribution = _incomplete_distribution(mode, secrets)
    if distribution is not None:
        return distribution
    if secrets.slack_distributed(mode):
        return None
    if secrets.slack_bot_token is None:
        if secrets.slack_app_token or secrets.slack_signing_secret:
            return "SLACK_BOT_TOKEN is missing (the Bot User OAuth Token, xoxb-…) (README: \"Tokens\")"
        return None
    if secrets.has_slack(mode):
        return None
    if mode == "socket":
        hint = ("; SLACK_SIGNING_SECRET is set: for HTTP mode set slack.mode = \"http\""
                if secrets.slack_signing_secret else "")
        return ("SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is missing: Socket Mode (slack.mode = "
                f"\"socket\") needs it, HTTP mode (slack.mode = \"http\") needs SLACK_SIGNING_SECRET{hint} "
                "(README: \"Tokens\")")
    return ("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is missing: HTTP mode (slack.mode = \"http\") "
            "needs it, Socket Mode (slack.mode = \"socket\") needs SLACK_APP_TOKEN (README: \"Tokens\")")


def _incomplete_distribution(mode: str, secrets: Secrets) -> str | None:
    """What is wrong with SLACK_CLIENT_ID / SLACK_CLIENT_SECRET (distribution to many workspaces)."""
    client_id, client_secret = secrets.slack_client_id, secrets.slack_client_secret
    if client_id is None and client_secret is None:
        return None
    where = "(README: \"Slack for many workspaces\")"
    if client_id is None or client_secret is None:
        missing = "SLACK_CLIENT_ID" if client_id is None else "SLACK_CLIENT_SECRET"
        return f"{missing} is missing: distributing to many workspaces needs both (Basic Information) {where}"
    if secrets.slack_bot_token is not None:
        return ("SLACK_BOT_TOKEN and SLACK_CLIENT_ID / SLACK_CLIENT_SECRET are both set: keep the bot token "
                f"for one workspace, or the client id and secret to install in many {where}")
    if mode != "http":
        return ("SLACK_CLIENT_ID / SLACK_CLIENT_SECRET need HTTP mode (slack.mode = \"http\"): the install "
                f"flow's pages are served by its server {where}")
    if secrets.slack_signing_secret is None:
        return f"SLACK_CLIENT_ID / SLACK_CLIENT_SECRET are set but SLACK_SIGNING_SECRET is missing {where}"
    return None


async def migrate(services: Services) -> None:
    """Apply pending migrations; a database that cannot be opened or written is a StartupError."""
    try:
        await backup.before_upgrade(services.settings, services.db.engine)
        await upgrade(services.db.engine)
    except backup.BackupError as exc:
        raise startup.StartupError(
            startup.DATABASE, f"no migration without a backup first: {exc} (or set backup.before_migrate "
            "= false)") from None
    except (SQLAlchemyError, OSError, UnknownRevisionError, TypeError, ValueError) as exc:
        # TypeError / ValueError: only the driver refusing database.url's options (a config error).
        failure = startup.database_error(services.settings.database.url, exc)
        if failure is None:
            raise
        raise failure from None


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
    """Migrate, run the features' start hooks (job kinds), start the platforms, then the scheduler.

    The scheduler comes after the platforms: its first sweep runs at once, and due jobs (reminders,
    DMs) need the platforms' notifiers. Jobs scheduled while the platforms start are armed by
    `scheduler.start()`. The features' warm-ups come last, once connected.
    Returns the started runtimes. When a step fails, whatever started is stopped and the database
    closed before the error propagates.
    """
    started: list[PlatformRuntime] = []
    try:
        await migrate(services)
        for feature in services.features:
            if feature.on_start is not None:
                await feature.on_start(services)
        await submissions.on_start(services)  # the nightly forgetting of form submissions' keys
        ops = Ops(services, names)  # /healthz and /metrics (bot/ops/server.py)
        if ops.own_server:
            await ops.start()
            started.append(ops)
        for runtime in build_runtimes(services, names):
            if hasattr(runtime, "routes"):  # Slack in HTTP mode serves them when ops has no port
                runtime.routes = routes_hook(ops)
            await runtime.start()
            started.append(runtime)
            ops.attach(runtime)
            log.info("%s ready", runtime.name)
        await services.scheduler.start()
        for feature in services.features:
            if feature.warm_up is not None:
                try:
                    feature.warm_up(services)
                except Exception:  # only a head start: the first use does the same work
                    log.exception("warming up %s failed; its first use will be slower", feature.name)
    except BaseException:
        await shutdown(services, started)
        raise
    return started


async def shutdown(services: Services, runtimes: list[PlatformRuntime]) -> None:
    """Stop the runtimes (last started first), then the scheduler; the database is closed in any case."""
    try:
        for runtime in reversed(runtimes):
            try:
                await runtime.stop()
            except Exception:
                log.exception("stopping %s failed", runtime.name)
        await services.scheduler.stop()
        await asyncio.wait_for(services.settle(), SETTLE_SECONDS)  # members' new names being stored
    except TimeoutError:
        log.warning("members' new names still being stored at shutdown: stored at their next request")
    finally:
        await services.db.dispose()


def _watch(runtimes: list[PlatformRuntime]) -> dict[asyncio.Future[Any], str]:
    """A task per runtime that has a `wait()` (returns when its connection ended for good), by name.

    They are never cancelled before shutdown: a runtime's `wait()` may await its own connection
    task, which cancelling would tear down behind the runtime's back.
    """
    return {
        asyncio.ensure_future(wait()): runtime.name
        for runtime in runtimes
        if (wait := getattr(runtime, "wait", None)) is not None
    }


async def _until_stopped(stop: asyncio.Event, watched: dict[asyncio.Future[Any], str]) -> list[str]:
    """Wait for `stop` or for a runtime's end; returns the runtimes that ended on their own."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopping, *watched}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    return [] if stop.is_set() else [name for task, name in watched.items() if task.done()]


@contextmanager
def collector_paused_while_starting() -> Iterator[None]:
    """The garbage collector off while the bot starts; once started, one collection and a freeze.

    Starting builds hundreds of thousands of objects that live as long as the process (modules,
    features, every guild's channels and roles) and almost no garbage cycles. With the collector
    on, each full collection walked the growing heap again: in a 2,500-guild start, five of them,
    20-165 ms each, found 0-20 objects to free, and READY came about a second later
    (benchmarks/memory.py). `collectif run` turns it off before its imports (bot/cli.py).

    Once started, the start-up objects are collected once and frozen (`gc.freeze`): every later
    collection skips them (a full one walking them stalled every interaction for 75-115 ms with
    one guild and 10,000 profiles), while what the bot allocates serving is collected as usual;
    `gc.unfreeze()` at stop gives them back (an embedding process, the tests). The collector is on
    again in any case, also after a failed start, and after `START_PAUSE_SECONDS` if the start is
    still going on then (many shards, a gateway retried): interactions are answered meanwhile and
    their garbage must not pile up.
    """
    gc.disable()
    resume = asyncio.get_running_loop().call_later(START_PAUSE_SECONDS, gc.enable)
    try:
        yield
    except BaseException:
        gc.enable()
        raise
    finally:
        resume.cancel()
    gc.collect()
    gc.freeze()
    gc.enable()


async def _settle(watched: dict[asyncio.Future[Any], str]) -> None:
    """After shutdown the runtimes' wait tasks are done; collect them (their errors are logged already)."""
    if not watched:
        return
    _, late = await asyncio.wait(watched, timeout=SETTLE_SECONDS)
    for task in late:
        task.cancel()
    await asyncio.gather(*watched, return_exceptions=True)


class _StoppedWhileStarting(Exception):
    """SIGINT/SIGTERM (or `stop`) came before the start ended; whatever had started is stopped."""


async def _start_unless_stopped(services: Services, names: list[str],
                                stop: asyncio.Event) -> list[PlatformRuntime]:
    """`start()`, given up as soon as `stop` is set (SIGINT, SIGTERM).

    A Discord that does not answer (no READY for up to two minutes), a slow Slack or database must not
    keep `systemctl stop` / `docker stop` waiting. `start()` stops what it started and closes the
    database when it is cancelled.
    """
    starting = asyncio.ensure_future(start(services, names))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        given_up = not starting.done()
        if given_up:
            starting.cancel()
            try:
                await starting
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # this run itself is being cancelled
                    raise
            except Exception:  # stopping what had started failed: logged, the process stops anyway
                log.exception("stopping while starting failed")
            await services.db.dispose()  # closed already, unless the start had not begun
    if given_up:
        raise _StoppedWhileStarting
    return starting.result()


async def run(settings: Settings, secrets: Secrets, *, clock: Clock | None = None,
              stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); returns the exit code.

    0 after a requested stop; 1 when a platform's connection ended for good on its own (a revoked
    token, say), so that a supervisor restarts the process rather than leaving it connected to nothing;
    2 (bot.startup.CONFIG) when credentials are missing. Other start-up failures an operator must fix
    raise bot.startup.StartupError, which carries its own exit code.
    """
    missing = incomplete_slack(settings, secrets)
    if missing is not None:
        log.error(missing)
        return startup.CONFIG
    names = platforms(settings, secrets)
    if not names:
        log.error(NO_CREDENTIALS)
        return startup.CONFIG
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        startup.check_database(settings.database.url)
        with backup.running(settings.database.url):  # `collectif db restore` refuses meanwhile
            try:
                with collector_paused_while_starting():
                    services = Services.build(settings, secrets, clock=clock)
                    runtimes = await _start_unless_stopped(services, names, stop)
            except _StoppedWhileStarting:
                log.info("stopped while starting")
                return 0
            watched = _watch(runtimes)
            try:
                ended = await _until_stopped(stop, watched)
                if ended:
                    log.error("%s connection ended; stopping", ", ".join(ended))
                else:
                    log.info("stopping")
            finally:
                gc.unfreeze()
                await shutdown(services, runtimes)
                await _settle(watched)
    finally:
        for sig in handled:  # the loop may outlive this run (tests, embedding)
            loop.remove_signal_handler(sig)
    return 1 if ended else 0
