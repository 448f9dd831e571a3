"""A fake Slack on 127.0.0.1: Web API methods, response_url, file uploads, Socket Mode; and a signed sender.

`FakeSlack` records every call (method, arguments, token, when it arrived) so tests assert what users
would see; `fail_next` scripts HTTP failures (429 with Retry-After, 5xx with a non-JSON body).
`SlackSender` posts correctly signed requests (slash commands, block actions, view submissions,
events) to a Bolt app over HTTP, or deliberately badly signed / stale ones.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

BOT_TOKEN = "xoxb-collectif-test"
APP_TOKEN = "xapp-collectif-test"
SIGNING_SECRET = "collectif-test-signing-secret"
TEAM_ID = "T0COLLECT"
TEAM_DOMAIN = "collectif-test"
BOT_USER_ID = "UCOLLECTIF"
APP_ID = "ACOLLECTIF"
CLIENT_ID = "1000000001.2000000002"  # distribution (OAuth install flow): the app's Basic Information
CLIENT_SECRET = "collectif-test-client-secret"
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")
PLAIN_TEXT_INPUT_MAX = 3000  # a plain_text_input's max_length, per Slack's Block Kit reference
FILE_INPUT_MAX_FILES = 10  # a file_input's max_files: 1 to 10
# Not a Web API method: a file's url_private_download. Its downloads are recorded in `calls` under this
# name (with the token they carried), and `fail_next(FILE_DOWNLOAD, …)` / `dropped` script them.
FILE_DOWNLOAD = "files.download"
# What Slack answers a download whose token may not read files (no `files:read`): its sign-in page.
SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"

T = TypeVar("T")


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)  # when the fake received it
    error: str | None = None  # what the fake answered when not ok


@dataclass(frozen=True)
class HttpFailure:
    """One scripted answer that is not Slack's usual HTTP 200 JSON."""

    status: int
    body: str
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def rate_limited(retry_after: int = 1) -> HttpFailure:
    """What Slack answers above a method's rate limit."""
    return HttpFailure(429, json.dumps({"ok": False, "error": "ratelimited"}),
                       headers=(("Retry-After", str(retry_after)),))


def server_error(status: int = 500) -> HttpFailure:
    """An outage as a proxy in front of Slack shows it: not JSON at all."""
    return HttpFailure(status, "upstream connect error or disconnect/reset before headers",
                       content_type="text/plain")


@dataclass
class FakeUser:
    id: str
    name: str
    locale: str = "fr-FR"
    is_admin: bool = False
    is_owner: bool = False
    tz: str = "Europe/Paris"
    deleted: bool = False  # deactivated: users.info still answers, with "deleted": true

    def as_json(self, team_id: str, with_locale: bool) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.name.title(),
            "deleted": self.deleted,
            "is_bot": False,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
            "tz": self.tz,
            "profile": {"display_name": self.name, "real_name": self.name.title()},
        }
        if with_locale:
            user["locale"] = self.locale
        return user


@dataclass
class FakeWorkspace:
    """Another workspace, for distribution: installing the app there (oauth.v2.access) yields its token."""

    team_id: str
    domain: str
    name: str
    bot_token: str
    bot_user_id: str = BOT_USER_ID
    bot_id: str = "BCOLLECTIF"
    installer: str = "UINSTALLER"
    # Token rotation turned on: installing yields a refresh token and a token expiring in this many
    # seconds; each refresh (oauth.v2.access grant_type=refresh_token) a new pair, valid 12 hours.
    expires_in: int | None = None
    refresh_token: str | None = None

    def auth_test(self) -> dict[str, Any]:
        return {"ok": True, "url": f"https://{self.domain}.slack.com/", "team": self.name,
                "user": "collectif", "team_id": self.team_id, "user_id": self.bot_user_id,
                "bot_id": self.bot_id, "is_enterprise_install": False}


@dataclass
class Posted:
    """A message posted to a response_url (what the user sees after a slash command or a click)."""

    url: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The fallback text and every text of its blocks, joined: what a reader sees."""
        return visible_text(self.body)


def visible_text(message: dict[str, Any]) -> str:
    parts = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    walk(message.get("view", {}))
    return "\n".join(parts)


class FakeSlack:
    """Slack's Web API as far as Collectif uses it, on 127.0.0.1 and a free port."""

    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN, team_id: str = TEAM_ID,
                 team_domain: str = TEAM_DOMAIN) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.enterprise_id: str | None = None  # the bot token's workspace is in this Enterprise Grid org
        self.calls: list[ApiCall] = []
        self.posted: list[Posted] = []
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.missing_channels: set[str] = set()
        self.forbidden_channels: dict[str, str] = {}  # channel -> error (not_in_channel, is_archived…)
        self.conversations: dict[str, list[str]] = {}  # DM / group DM id -> its members (bot aside)
        self.shared_files: list[dict[str, Any]] = []  # files completed into a channel: id, filename, …
        self._pending_files: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}  # method -> error it answers (until removed)
        self.dropped: set[str] = set()  # methods answered by closing the connection (a network error)
        self.failures: dict[str, list[HttpFailure]] = {}  # method -> its next answers, one per call
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        # Files users uploaded (a form's file_input): id -> (content, mimetype), served at their
        # url_private_download (add_file). Without `files_read` the app lacks the files:read scope.
        self.hosted_files: dict[str, tuple[bytes, str]] = {}
        self.files_read = True
        self.download_delay = 0.0  # seconds a download waits before answering (a slow Slack)
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.socket_connected = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Distribution: workspaces by bot token, accepted beside bot_token; oauth.v2.access trades a
        # code (install_code) for the workspace's token when the client id and secret are right.
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.workspaces: dict[str, FakeWorkspace] = {}
        self.oauth_codes: dict[str, str] = {}  # code -> team id (each code works once)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{key}/download/{name}", self._download)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._seq)}"

    def add_user(self, user_id: str, name: str, *, locale: str = "fr-FR", is_admin: bool = False,
                 is_owner: bool = False) -> FakeUser:
        self.users[user_id] = FakeUser(user_id, name, locale, is_admin, is_owner)
        return self.users[user_id]

    def add_file(self, content: bytes, name: str, *, mimetype: str = "text/plain",
                 user: str = "UDOMINIQUE") -> dict[str, Any]:
        """A file `user` uploaded through a form's file_input: its dict as the view_submission's state
        carries it (`{"type": "file_input", "files": [this]}`). Its url_private_download serves
        `content` to a request with the bot token (or a workspace's) as `Authorization: Bearer`."""
        file_id = f"F{next(self._seq):08d}"
        self.hosted_files[file_id] = (content, mimetype)
        now = int(time.time())
        base = f"{self.url}/files-pri/{self.team_id}-{file_id}"
        return {
            "id": file_id, "created": now, "timestamp": now, "name": name, "title": name,
            "mimetype": mimetype, "filetype": name.rpartition(".")[2] if "." in name else "text",
            "pretty_type": "Plain Text", "user": user, "user_team": self.team_id, "editable": False,
            "size": len(content), "mode": "hosted", "is_external": False, "external_type": "",
            "is_public": False, "public_url_shared": False, "display_as_bot": False, "username": "",
            "url_private": f"{base}/{quote(name)}",
            "url_private_download": f"{base}/download/{quote(name)}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file_id}/{quote(name)}",
            "comments_count": 0, "is_starred": False, "shares": {}, "channels": [], "groups": [], "ims": [],
            "has_more_shares": False, "has_rich_preview": False, "file_access": "visible",
        }

    # ---- assertions ------------------------------------------------------------------------------

    def add_workspace(self, team_id: str, domain: str, *, name: str | None = None,
                      bot_token: str | None = None, expires_in: int | None = None) -> FakeWorkspace:
        """A workspace the app can be installed in; its bot token is accepted once added.

        `expires_in`: the app has token rotation on; the installed token expires that many seconds later.
        """
        workspace = FakeWorkspace(team_id, domain, name or domain.title(),
                                  bot_token or f"xoxb-{team_id.lower()}-{uuid.uuid4().hex[:8]}",
                                  expires_in=expires_in)
        if expires_in is not None:
            workspace.bot_token = workspace.bot_token.replace("xoxb-", "xoxe.xoxb-", 1)
            workspace.refresh_token = f"xoxe-1-{uuid.uuid4().hex[:12]}"
        self.workspaces[workspace.bot_token] = workspace
        return workspace

    def install_code(self, team_id: str) -> str:
        """The code Slack hands the redirect URL after an admin of `team_id` approved the install."""
        code = f"code-{team_id.lower()}-{uuid.uuid4().hex[:8]}"
        self.oauth_codes[code] = team_id
        return code

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its token is refused from now on (invalid_auth)."""
        for token, workspace in list(self.workspaces.items()):
            if workspace.team_id == team_id:
                del self.workspaces[token]

    def calls_with_token(self, token: str) -> list[ApiCall]:
        return [c for c in self.calls if c.token == token]

    def fail_next(self, method: str, *failures: HttpFailure) -> None:
        """Answer the next calls of `method` with these failures, in order, then normally again."""
        self.failures.setdefault(method, []).extend(failures)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def _wait(self, find: Callable[[], T | None], within: float) -> T:
        async with asyncio.timeout(within), self._changed:
            while (found := find()) is None:
                await self._changed.wait()
            return found

    async def wait_for_call(self, method: str, predicate: Callable[[ApiCall], bool] = lambda c: True,
                            *, within: float = 5.0) -> ApiCall:
        return await self._wait(
            lambda: next((c for c in self.calls_to(method) if predicate(c)), None), within
        )

    async def wait_for_post(self, url: str, *, within: float = 5.0) -> Posted:
        """The first message posted to this response_url."""
        return await self._wait(lambda: next((p for p in self.posted if p.url == url), None), within)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- Web API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        for key in JSON_ARGS:
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        if method == "oauth.v2.access":  # authenticated by the client id and secret, not a token
            self.calls.append(ApiCall(method, {k: v for k, v in args.items() if k != "client_secret"}, None))
            answer = self._oauth_v2_access(args, auth)
            await self._notify()
            return web.json_response(answer)
        self.calls.append(ApiCall(method, args, token))
        if method in self.dropped:
            assert request.transport is not None
            request.transport.abort()  # the client sees the server disconnect, with no answer
            await self._notify()
            return web.Response()
        if self.failures.get(method):
            failure = self.failures[method].pop(0)
            await self._notify()
            return web.Response(status=failure.status, text=failure.body, content_type=failure.content_type,
                                headers=dict(failure.headers))
        answer = self._answer(method, args, token)
        if not answer.get("ok", True):
            self.calls[-1].error = answer.get("error")
        await self._notify()
        return web.json_response(answer)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A file's url_private_download, as files.slack.com serves it to a bot token."""
        file_id = request.match_info["key"].rpartition("-")[2]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        self.calls.append(ApiCall(FILE_DOWNLOAD, {"file": file_id}, token))
        await self._notify()
        if self.download_delay:
            await asyncio.sleep(self.download_delay)
        if FILE_DOWNLOAD in self.dropped:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if self.failures.get(FILE_DOWNLOAD):
            failure = self.failures[FILE_DOWNLOAD].pop(0)
            return web.Response(status=failure.status, text=failure.body, content_type=failure.content_type,
                                headers=dict(failure.headers))
        if not self.files_read or (token != self.bot_token and token not in self.workspaces):
            # Slack's answer to a token that may not read the file is no error status: a sign-in page.
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html")
        if file_id not in self.hosted_files:
            return web.Response(status=404, text="Not Found", content_type="text/plain")
        content, mimetype = self.hosted_files[file_id]
        return web.Response(body=content, content_type=mimetype)

    def malformed_calls(self) -> list[ApiCall]:
        """Calls Slack would refuse as built wrong, whatever the workspace's state: a bot bug."""
        return [c for c in self.calls if c.error in ("invalid_arguments", "invalid_blocks")]

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return {"ok": False, "error": "not_authed"}
        workspace = self.workspaces.get(token) if method != "apps.connections.open" else None
        if token != expected and workspace is None:
            return {"ok": False, "error": "invalid_auth"}
        if workspace is not None and method == "auth.test":
            return workspace.auth_test()
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(args)

    def _oauth_v2_access(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if auth.startswith("Basic "):
            with contextlib.suppress(ValueError):
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            error = "invalid_client_id" if client_id != self.client_id else "bad_client_secret"
            return {"ok": False, "error": error}
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token", "")))
        team_id = self.oauth_codes.pop(str(args.get("code", "")), None)
        workspace = next((w for w in self.workspaces.values() if w.team_id == team_id), None)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        rotation: dict[str, Any] = {}
        if workspace.refresh_token is not None:
            rotation = {"refresh_token": workspace.refresh_token, "expires_in": workspace.expires_in}
        return {**rotation, "ok": True, "app_id": APP_ID, "authed_user": {"id": workspace.installer},
                "scope": "commands,chat:write", "token_type": "bot", "access_token": workspace.bot_token,
                "bot_user_id": workspace.bot_user_id,
                "team": {"id": workspace.team_id, "name": workspace.name},
                "enterprise": None, "is_enterprise_install": False}

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """Token rotation: a new token and refresh token; the old token is refused from now on."""
        workspace = next((w for w in self.workspaces.values() if w.refresh_token == refresh_token), None)
        if workspace is None or not refresh_token:
            return {"ok": False, "error": "invalid_refresh_token"}
        del self.workspaces[workspace.bot_token]
        workspace.bot_token = f"xoxe.xoxb-{workspace.team_id.lower()}-{uuid.uuid4().hex[:8]}"
        workspace.refresh_token = f"xoxe-1-{uuid.uuid4().hex[:12]}"
        workspace.expires_in = 43_200
        self.workspaces[workspace.bot_token] = workspace
        return {"ok": True, "app_id": APP_ID, "token_type": "bot", "scope": "commands,chat:write",
                "access_token": workspace.bot_token, "refresh_token": workspace.refresh_token,
                "expires_in": workspace.expires_in, "bot_user_id": workspace.bot_user_id,
                "team": {"id": workspace.team_id, "name": workspace.name}, "enterprise": None,
                "is_enterprise_install": False}

    def _ts(self) -> str:
        n = next(self._seq)
        return f"{1_764_150_000 + n}.{n:06d}"

    def _channel(self, args: dict[str, Any], key: str = "channel") -> tuple[str | None, str | None]:
        channel = str(args.get(key, ""))
        if not channel:
            return None, "channel_not_found"
        if channel in self.missing_channels:
            return None, "channel_not_found"
        if channel.startswith(("U", "W")):  # a user id: the app's DM with that user
            channel = "D" + channel
        return channel, None

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"https://{self.team_domain}.slack.com/", "team": "Collectif Test",
                "user": "collectif", "team_id": self.team_id, "user_id": BOT_USER_ID, "bot_id": "BCOLLECTIF",
                "is_enterprise_install": False, **({"enterprise_id": self.enterprise_id} if self.enterprise_id
                                                   else {})}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        with_locale = str(args.get("include_locale", "")).lower() in ("1", "true")
        return {"ok": True, "user": user.as_json(self.team_id, with_locale)}

    def thread_replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The messages posted in the thread of message `ts`, oldest first."""
        return [m for (c, _), m in self.messages.items() if c == channel and m.get("thread_ts") == ts]

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel(args)
        if error or channel is None:
            return {"ok": False, "error": error}
        if channel in self.forbidden_channels:
            return {"ok": False, "error": self.forbidden_channels[channel]}
        thread_ts = str(args.get("thread_ts") or "")
        if thread_ts and (channel, thread_ts) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._ts()
        message = {"type": "message", "user": BOT_USER_ID, "ts": ts, "text": args.get("text", ""),
                   "blocks": args.get("blocks", []), **({"thread_ts": thread_ts} if thread_ts else {})}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel(args)
        key = (str(channel), str(args.get("ts")))
        if error or key not in self.messages:
            return {"ok": False, "error": error or "message_not_found"}
        self.messages[key].update(text=args.get("text", ""), blocks=args.get("blocks", []))
        return {"ok": True, "channel": channel, "ts": key[1], "text": args.get("text", "")}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel(args)
        key = (str(channel), str(args.get("ts")))
        if error or key not in self.messages:
            return {"ok": False, "error": error or "message_not_found"}
        del self.messages[key]
        return {"ok": True, "channel": channel, "ts": key[1]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        _channel, error = self._channel(args)
        if error:
            return {"ok": False, "error": error}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._ts()}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        for block in view.get("blocks") or ():
            element = block.get("element") or {} if isinstance(block, dict) else {}
            if element.get("type") == "plain_text_input":  # max_length: 1 to 3,000 on Slack
                longest = element.get("max_length", PLAIN_TEXT_INPUT_MAX)
                initial = element.get("initial_value", "")
                if not 1 <= longest <= PLAIN_TEXT_INPUT_MAX or len(initial) > longest:
                    return {"ok": False, "error": "invalid_arguments"}
            if element.get("type") == "file_input":  # only in an input block; max_files 1 to 10
                most = element.get("max_files", FILE_INPUT_MAX_FILES)
                fits = isinstance(most, int) and 1 <= most <= FILE_INPUT_MAX_FILES
                if block.get("type") != "input" or not fits:
                    return {"ok": False, "error": "invalid_arguments"}
                if not self.files_read:  # "your app must have the files:read scope" (Block Kit reference)
                    return {"ok": False, "error": "missing_scope", "needed": "files:read"}
        view_id = str(args.get("view_id") or f"V{next(self._seq):08d}")
        return {"ok": True,
                "view": {**view, "id": view_id, "hash": uuid.uuid4().hex, "team_id": self.team_id}}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(args)

    _m_views_push = _m_views_open

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not (args.get("view_id") or args.get("external_id")):
            return {"ok": False, "error": "not_found"}
        return self._view(args)

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("user_id") not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return self._view(args)

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """A DM with one user ("D" + their id), or a group DM with 2 to 8 (the same id for the same set)."""
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 8:
            return {"ok": False, "error": "too_many_users"}
        if len(users) == 1:
            self.conversations["D" + users[0]] = users
            return {"ok": True, "channel": {"id": "D" + users[0], "is_im": True}}
        unknown = [u for u in users if self.users and u not in self.users]
        if unknown:
            return {"ok": False, "error": "user_not_found"}
        group = "G" + hashlib.sha1(",".join(sorted(set(users))).encode()).hexdigest()[:10].upper()
        self.conversations[group] = sorted(set(users))
        return {"ok": True, "channel": {"id": group, "is_mpim": True, "is_im": False}}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel(args)
        if error or channel is None:
            return {"ok": False, "error": error}
        info = self.channels.get(channel) or {"id": channel, "name": channel.lower(), "is_channel": True,
                                              "is_private": False, "is_member": True}
        return {"ok": True, "channel": info}

    def _m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channels added to `channels` (one page): how `#name` is found."""
        return {"ok": True, "channels": list(self.channels.values()),
                "response_metadata": {"next_cursor": ""}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._seq):08d}"
        self._pending_files[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files") or []
        if any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        channel = str(args.get("channel_id") or "")
        if channel and channel in self.forbidden_channels:
            return {"ok": False, "error": self.forbidden_channels[channel]}
        for f in files:
            pending = self._pending_files.get(f["id"], {})
            self.shared_files.append({
                "id": f["id"], "filename": pending.get("filename", ""), "title": f.get("title", ""),
                "channel": channel, "thread_ts": str(args.get("thread_ts") or ""),
                "content": self.uploads[f["id"]]})
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", ""), "name": f.get("title", "")}
                                      for f in files]}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket?ticket={uuid.uuid4().hex}"}

    # ---- other endpoints -------------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        self.posted.append(Posted(f"{self.url}/response/{request.match_info['key']}", await request.json()))
        await self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads[request.match_info["file_id"]] = data
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": APP_ID}, "debug_info": {"host": "fake"}})
        self.socket_connected.set()
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(message.data)
                    if "envelope_id" in data:
                        self.socket_acks[data["envelope_id"]] = data
                        await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0,
                            retry_reason: str = "") -> str:
        """Deliver a Socket Mode envelope (slash_commands | interactive | events_api); returns its id."""
        envelope_id = uuid.uuid4().hex
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": retry_attempt, "retry_reason": retry_reason}
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, *, within: float = 5.0) -> dict[str, Any]:
        return await self._wait(lambda: self.socket_acks.get(envelope_id), within)


# ---- signed requests to a Bolt app ---------------------------------------------------------------


def sign(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackAnswer:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.text)


class SlackSender:
    """Builds Slack's payloads and posts them to a Bolt app, signed like Slack does (or not)."""

    def __init__(self, url: str, fake: FakeSlack, session: aiohttp.ClientSession, *,
                 signing_secret: str = SIGNING_SECRET, command: str = "/collectif") -> None:
        self.url = url
        self.fake = fake
        self.session = session
        self.signing_secret = signing_secret
        self.command_name = command

    async def send(self, body: str, content_type: str, *, timestamp: int | None = None,
                   signature: str | None = None, headers: dict[str, str] | None = None) -> SlackAnswer:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.signing_secret, ts, body),
            **(headers or {}),
        }
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as response:
            return SlackAnswer(response.status, await response.text(), dict(response.headers))

    # payloads (also used as Socket Mode envelope payloads)

    def command_payload(self, text: str, *, user_id: str, channel_id: str = "CGENERAL",
                        response_url: str | None = None, team: FakeWorkspace | None = None) -> dict[str, str]:
        """`team`: sent from another workspace than the fake's own (distribution)."""
        return {
            "token": "legacy-verification-token", "team_id": team.team_id if team else self.fake.team_id,
            "team_domain": team.domain if team else self.fake.team_domain,
            "channel_id": channel_id, "channel_name": "general",
            "user_id": user_id, "user_name": self.fake.users[user_id].name if user_id in self.fake.users
            else user_id.lower(), "command": self.command_name, "text": text, "api_app_id": APP_ID,
            "is_enterprise_install": "false", "response_url": response_url or self.fake.response_url(),
            "trigger_id": f"{next(self.fake._seq)}.trigger",
        }

    def _user(self, user_id: str) -> dict[str, str]:
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(),
                "team_id": self.fake.team_id}

    def action_payload(self, action_id: str, *, user_id: str, channel_id: str = "CGENERAL",
                       value: str | None = None, response_url: str | None = None) -> dict[str, Any]:
        return {
            "type": "block_actions", "user": self._user(user_id), "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": "1764150000.000100", "channel_id": channel_id,
                          "is_ephemeral": False},
            "trigger_id": f"{next(self.fake._seq)}.trigger",
            "team": {"id": self.fake.team_id, "domain": self.fake.team_domain},
            "channel": {"id": channel_id, "name": "general"},
            "message": {"type": "message", "ts": "1764150000.000100", "text": "card", "blocks": []},
            "response_url": response_url or self.fake.response_url(),
            "actions": [{"action_id": action_id, "block_id": "b1", "type": "button",
                         "value": value or action_id, "text": {"type": "plain_text", "text": "x"},
                         "action_ts": f"{time.time():.6f}"}],
        }

    def view_payload(self, callback_id: str, values: dict[str, dict[str, Any]], *, user_id: str,
                     private_metadata: str = "", view_id: str | None = None) -> dict[str, Any]:
        """A view's submission; without `view_id`, of a view of its own (each opened modal has its id)."""
        return {
            "type": "view_submission", "team": {"id": self.fake.team_id, "domain": self.fake.team_domain},
            "user": self._user(user_id), "api_app_id": APP_ID, "token": "legacy-verification-token",
            "trigger_id": f"{next(self.fake._seq)}.trigger",
            "view": {"id": view_id or f"V{next(self.fake._seq):08d}", "team_id": self.fake.team_id,
                     "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                     "state": {"values": values}, "hash": "h",
                     "title": {"type": "plain_text", "text": "t"}, "blocks": []},
            "response_urls": [],
        }

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None,
                      team: FakeWorkspace | None = None) -> dict[str, Any]:
        team_id = team.team_id if team else self.fake.team_id
        return {
            "token": "legacy-verification-token", "team_id": team_id, "api_app_id": APP_ID,
            "event": {"event_ts": f"{time.time():.6f}", **event}, "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        }

    # senders

    async def command(self, text: str, *, user_id: str, channel_id: str = "CGENERAL",
                      **kwargs: Any) -> tuple[SlackAnswer, str]:
        """Send the slash command; returns Bolt's answer and the response_url the app may post to."""
        payload = self.command_payload(text, user_id=user_id, channel_id=channel_id)
        answer = await self.send(urlencode(payload), "application/x-www-form-urlencoded", **kwargs)
        return answer, payload["response_url"]

    async def action(self, action_id: str, *, user_id: str, **kwargs: Any) -> tuple[SlackAnswer, str]:
        payload = self.action_payload(action_id, user_id=user_id)
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", **kwargs), payload["response_url"]

    async def view_submission(self, callback_id: str, values: dict[str, dict[str, Any]], *, user_id: str,
                              private_metadata: str = "", view_id: str | None = None,
                              **kwargs: Any) -> SlackAnswer:
        payload = self.view_payload(callback_id, values, user_id=user_id, private_metadata=private_metadata,
                                    view_id=view_id)
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", **kwargs)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
                    retry_reason: str = "http_timeout", **kwargs: Any) -> SlackAnswer:
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(self.event_payload(event, event_id=event_id))
        return await self.send(body, "application/json", headers=headers, **kwargs)
