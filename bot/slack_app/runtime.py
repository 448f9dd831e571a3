"""The Slack platform runtime: Socket Mode, or HTTP mode serving Bolt at /slack/events; clean stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import lifecycle, startup
from bot.slack_app.app import CollectifApp, build_app
from bot.slack_app.installations import INSTALL_PATH
from bot.slack_app.notifier import SlackNotifier

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
CONNECT_TIMEOUT = 30.0


class SlackStartError(startup.StartupError):
    """Slack refused a token or could not be reached; the message names what to fix."""


def _refused(variable: str, exc: SlackApiError) -> SlackStartError:
    response = exc.response
    error = response.get("error") if isinstance(response.data, dict) else f"HTTP {response.status_code}"
    where = "OAuth & Permissions > Bot User OAuth Token" if variable == "SLACK_BOT_TOKEN" else (
        "Basic Information > App-Level Tokens, scope connections:write")
    message = f"Slack refused {variable} ({error}): copy it again from your app's page ({where})"
    return SlackStartError(startup.SLACK_TOKEN, message)


def _unreachable(app: AsyncApp, exc: BaseException) -> SlackStartError:
    cause = startup.unreachable("Slack", app.client.base_url, exc, "slack.api_base_url")
    return SlackStartError(cause.exit_code, str(cause))


class SlackRuntime:
    """Implements bot.services.PlatformRuntime for one workspace (SLACK_BOT_TOKEN).

    Or, in HTTP mode, for every workspace that installed the app (SLACK_CLIENT_ID / SECRET:
    bot/slack_app/installations.py).
    """

    name = "slack"

    def __init__(self, services: Services, *,
                 routes: Callable[[web.Application], None] | None = None) -> None:
        self.services = services
        self.routes = routes  # HTTP mode: more routes for the same server (/healthz, /metrics: bot.ops)
        self.app: CollectifApp | None = None
        self.port: int | None = None  # HTTP mode: the port actually bound (the setting may be 0)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        """Check the tokens, then serve HTTP or open the Socket Mode connection; returns once ready."""
        self._session = aiohttp.ClientSession(trace_configs=[self.services.metrics.trace_config(self.name)])
        try:
            self.app = build_app(self.services, session=self._session)
            self.services.notifiers[self.name] = SlackNotifier(self.app.client, teams=self.app.teams)
            if self.app.teams is None:
                await self._check_bot_token(self.app)
            else:  # distributed: no token of our own; each workspace's comes with its installation
                log.info("Slack: distributed, workspaces install through %s", INSTALL_PATH)
            if self.services.settings.slack.mode == "http":
                await self._serve_http(self.app)
            else:
                await self._connect_socket(self.app)
        except BaseException:
            await self.stop()
            raise

    async def _check_bot_token(self, app: CollectifApp) -> None:
        try:
            auth = await app.client.auth_test()
        except SlackApiError as exc:
            raise _refused("SLACK_BOT_TOKEN", exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _unreachable(app, exc) from None
        log.info("Slack: signed in as %s in workspace %s", auth.get("user"), auth.get("team"))
        if app.workspace is not None:  # the one workspace served (bot/slack_app/workspace.py)
            app.workspace.learn(auth.data if isinstance(auth.data, dict) else {})
        team_id = str(auth.get("team_id") or "")
        if team_id:
            # Slack accepts the token, so the app is installed there: a workspace that uninstalled it
            # (paused, purge scheduled) and installed it again is restored now, as Discord restores a
            # guild at start, rather than at its first command, which may come after the purge.
            await lifecycle.reactivate(self.services, "slack", team_id)

    async def _serve_http(self, app: AsyncApp) -> None:
        settings = self.services.settings.slack
        application = app.web_app(path=EVENTS_PATH)
        if self.routes is not None:
            self.routes(application)
        self._runner = web.AppRunner(application, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, settings.http_host, settings.http_port).start()
        except OSError as exc:
            raise SlackStartError(
                startup.CONFIG,
                f"cannot listen on {settings.http_host}:{settings.http_port} ({exc.strerror or exc}): "
                "change slack.http_host / slack.http_port or stop what uses the port",
            ) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("Slack: HTTP mode, serving %s on %s:%s", EVENTS_PATH, settings.http_host, self.port)

    async def _connect_socket(self, app: AsyncApp) -> None:
        secrets = self.services.secrets
        if secrets.slack_app_token is None:
            raise SlackStartError(startup.CONFIG, "Socket Mode needs SLACK_APP_TOKEN (README: \"Tokens\")")
        token = secrets.slack_app_token.get_secret_value()
        # Ask for the WebSocket URL ourselves: the Socket Mode client retries a refused token forever.
        try:
            opened = await app.client.apps_connections_open(app_token=token)
        except SlackApiError as exc:
            raise _refused("SLACK_APP_TOKEN", exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _unreachable(app, exc) from None
        self._socket = AsyncSocketModeHandler(app, app_token=token, web_client=app.client)
        self._socket.client.wss_uri = opened["url"]
        try:
            await asyncio.wait_for(self._socket.connect_async(), CONNECT_TIMEOUT)
        except TimeoutError:
            raise SlackStartError(
                startup.UNREACHABLE,
                f"no Socket Mode connection to {opened['url']} within {CONNECT_TIMEOUT:.0f} s"
            ) from None
        log.info("Slack: Socket Mode connected")

    async def health(self) -> dict[str, Any]:
        """For /healthz: the Socket Mode connection is open, or the HTTP server is serving."""
        if self._runner is not None:
            return {"ok": True, "mode": "http"}
        if self._socket is not None:
            connected = await self._socket.client.is_connected()
            return {"ok": connected, "mode": "socket",
                    **({} if connected else {"error": "Socket Mode connection lost (reconnecting)"})}
        return {"ok": False, "error": "not connected"}

    async def stop(self) -> None:
        """Close the Socket Mode connection or the HTTP server, then the shared session; idempotent."""
        socket, self._socket = self._socket, None
        runner, self._runner = self._runner, None
        session, self._session = self._session, None
        if self.app is not None:  # work still running in the background (bot.slack_app.inflight)
            await self.app.close()
        if socket is not None:
            await socket.close_async()
        if runner is not None:
            await runner.cleanup()
        if session is not None:
            await session.close()
