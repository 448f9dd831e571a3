"""`/healthz`, `/livez` and `/metrics`: on their own small HTTP server, or on Slack's in HTTP mode.

Where they are served (README: "Health and metrics"):

- `ops.http_port` set: on their own server at `ops.http_host:ops.http_port` (127.0.0.1 by default:
  only this machine; the container image sets 0.0.0.0 inside its own network namespace);
- else, when Slack runs in HTTP mode: on the Slack server, beside `/slack/events`;
- else (Socket Mode and/or Discord only, the default): not served at all.

`/healthz` answers 200 when every check passes, else 503, with a JSON body naming each check:
the database answers a query (within `DB_TIMEOUT`), each configured platform is connected (every
Discord shard of this process; Slack's Socket Mode connection or HTTP server), and the scheduler runs
with no due job waiting longer than `ops.scheduler_lag_seconds`. `/livez` answers 200 as long as the
event loop does (restart the process only when that fails). `/metrics` is the Prometheus text format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select, text

from bot import __version__, startup
from bot.ops.metrics import Labels, gauge, resident_memory_bytes
from storage.models import Community, Job, Member

if TYPE_CHECKING:
    from aiohttp import web

    from bot.services import Services

# aiohttp.web (the server side, about 2 MB of RSS) is imported only where a server is built or answers:
# a process that serves no HTTP (Discord only, Slack in Socket Mode, no ops.http_port) never loads it.

log = logging.getLogger(__name__)

DB_TIMEOUT = 2.0  # seconds: a database slower than this to answer `SELECT 1` is not healthy
SCRAPE_TIMEOUT = 5.0
HEALTH_PATH, LIVE_PATH, METRICS_PATH = "/healthz", "/livez", "/metrics"
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


class Checked(Protocol):
    name: str

    async def health(self) -> dict[str, Any]:
        """{"ok": bool, ...details}."""
        ...


class Ops:
    """The health checks and metrics of one process; also a PlatformRuntime when it has its own port."""

    name = "ops"

    def __init__(self, services: Services, platforms: list[str]) -> None:
        self.services = services
        self.platforms = platforms  # the platforms this process was configured to run
        self.runtimes: dict[str, Checked] = {}  # filled as each platform finishes starting
        self.port: int | None = None  # the port actually bound (the setting may be 0)
        self._runner: web.AppRunner | None = None

    # -- where it is served ------------------------------------------------------------------------

    @property
    def own_server(self) -> bool:
        return self.services.settings.ops.http_port is not None

    def add_routes(self, application: web.Application) -> None:
        application.router.add_get(HEALTH_PATH, self._healthz)
        application.router.add_get(LIVE_PATH, self._livez)
        application.router.add_get(METRICS_PATH, self._metrics)

    async def start(self) -> None:
        """Serve on ops.http_host:ops.http_port; a port in use is a configuration error (exit 2)."""
        from aiohttp import web

        settings = self.services.settings.ops
        application = web.Application()
        self.add_routes(application)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, settings.http_host, settings.http_port).start()
        except OSError as exc:
            await self.stop()
            raise startup.StartupError(
                startup.CONFIG,
                f"cannot listen on {settings.http_host}:{settings.http_port} ({exc.strerror or exc}): "
                "change ops.http_host / ops.http_port or stop what uses the port",
            ) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics: serving %s and %s on %s:%s", HEALTH_PATH, METRICS_PATH,
                 settings.http_host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def attach(self, runtime: Any) -> None:
        """A platform runtime that finished starting (one with `async health()`) is checked from now on."""
        if callable(getattr(runtime, "health", None)):
            self.runtimes[runtime.name] = runtime

    # -- health ------------------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {"database": await self._database()}
        for name in self.platforms:
            runtime = self.runtimes.get(name)
            if runtime is None:
                checks[name] = {"ok": False, "error": "not started yet"}
                continue
            try:
                checks[name] = await runtime.health()
            except Exception as exc:  # a check must answer, whatever happens
                checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        checks["scheduler"] = await self._scheduler()
        healthy = all(check["ok"] for check in checks.values())
        return healthy, {"status": "ok" if healthy else "unhealthy", "version": __version__,
                         "checks": checks}

    async def _database(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                async with self.services.db.transaction(write=False) as session:
                    await session.execute(text("SELECT 1"))
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {DB_TIMEOUT:g} s"}
        except Exception as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
        return {"ok": True, "seconds": round(time.perf_counter() - started, 4)}

    async def scheduler_lag(self) -> float:
        """Seconds the oldest due pending job (of a kind this process runs) has been waiting; 0 if none."""
        scheduler = self.services.scheduler
        kinds = list(scheduler.kinds)
        if not kinds:
            return 0.0
        now = self.services.clock.now()
        async with self.services.db.transaction(write=False) as session:
            oldest = await session.scalar(
                select(func.min(Job.due_at)).where(Job.state == "pending", Job.due_at <= now,
                                                   Job.kind.in_(kinds)))
        return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0

    async def _scheduler(self) -> dict[str, Any]:
        scheduler = self.services.scheduler
        bound = self.services.settings.ops.scheduler_lag_seconds
        if not scheduler.running:
            return {"ok": False, "error": "not running"}
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                lag = await self.scheduler_lag()
        except Exception as exc:
            return {"ok": False, "error": f"lag unknown: {type(exc).__name__}"}
        detail: dict[str, Any] = {"ok": lag <= bound, "lag_seconds": round(lag, 3), "bound_seconds": bound}
        if lag > bound:
            detail["error"] = f"a due job has waited {lag:.0f} s (more than {bound:g} s)"
        return detail

    # -- metrics -----------------------------------------------------------------------------------

    async def gauges(self) -> list[str]:
        """Measured at scrape time from the database and the runtimes."""
        lines: list[str] = []
        now = self.services.clock.now()
        async with self.services.db.transaction(write=False) as session:
            communities = (await session.execute(
                select(Community.platform, Community.active, func.count()).group_by(
                    Community.platform, Community.active))).all()
            members = (await session.execute(
                select(Community.platform, func.count(Member.id)).join(
                    Member, Member.community_id == Community.id).where(Community.active.is_(True))
                .group_by(Community.platform))).all()
            states = (await session.execute(
                select(Job.state, func.count()).where(Job.state.in_(("pending", "running", "failed")))
                .group_by(Job.state))).all()
            overdue = await session.scalar(
                select(func.count()).where(Job.state == "pending",
                                           Job.due_at <= now - timedelta(minutes=1)))
        lines += gauge("collectif_communities", "Communities (servers, workspaces) by platform and state.", {
            (("platform", platform), ("state", "active" if active else "paused")): count
            for platform, active, count in communities})
        lines += gauge("collectif_members", "Members known in the active communities, by platform.",
                       {(("platform", platform),): count for platform, count in members})
        by_state: dict[Labels, float] = {(("state", s),): 0 for s in ("pending", "running", "failed")}
        by_state.update({(("state", state),): count for state, count in states})
        lines += gauge("collectif_jobs", "Timed jobs by state (done and skipped ones are not counted).",
                       by_state)
        lines += gauge("collectif_jobs_late", "Pending jobs due more than a minute ago (all processes).",
                       overdue or 0)
        lines += gauge("collectif_scheduler_lag_seconds",
                       "How long the oldest due pending job has waited (0: none waiting).",
                       await self.scheduler_lag())
        lines += gauge("collectif_scheduler_running", "1 when this process's scheduler runs.",
                       1 if self.services.scheduler.running else 0)
        connected: dict[Labels, float] = {}
        for name in self.platforms:
            runtime = self.runtimes.get(name)
            try:
                ok = bool(runtime is not None and (await runtime.health())["ok"])
            except Exception:
                ok = False
            connected[(("platform", name),)] = 1 if ok else 0
        lines += gauge("collectif_platform_connected", "1 when the platform is connected.", connected)
        discord = self.runtimes.get("discord")
        latency = getattr(discord, "latencies", None)
        if callable(latency):
            lines += gauge("collectif_discord_gateway_latency_seconds",
                           "Heartbeat latency of each Discord shard this process runs.",
                           {(("shard", str(shard)),): seconds for shard, seconds in latency()})
        rss = resident_memory_bytes()
        if rss is not None:
            lines += gauge("collectif_process_resident_memory_bytes", "Resident memory of this process.", rss)
        lines += gauge("collectif_process_start_time_seconds", "When this process started (Unix time).",
                       self.services.metrics.started)
        lines += gauge("collectif_build_info", "Collectif's version.", {(("version", __version__),): 1})
        return lines

    # -- handlers ----------------------------------------------------------------------------------

    async def _healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        healthy, body = await self.health()
        return web.json_response(body, status=200 if healthy else 503,
                                 dumps=lambda value: json.dumps(value, ensure_ascii=False))

    async def _livez(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response({"status": "ok"})

    async def _metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        try:
            gauges = await asyncio.wait_for(self.gauges(), SCRAPE_TIMEOUT)
        except Exception:
            log.warning("metrics: the gauges could not be measured", exc_info=True)
            gauges = gauge("collectif_scrape_error", "1 when the database gauges could not be measured.", 1)
        return web.Response(text=self.services.metrics.render(gauges),
                            headers={"Content-Type": TEXT_FORMAT})


def routes_hook(ops: Ops | None) -> Callable[[web.Application], None] | None:
    """What SlackRuntime adds to its HTTP server: the ops routes, unless they have their own server."""
    if ops is None or ops.own_server:
        return None
    return ops.add_routes

