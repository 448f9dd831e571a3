"""A fake Discord (REST + gateway) on 127.0.0.1, port 0, that the real discord.py bot runs against.

Point the bot at `fake.api_base` (settings `discord.api_base_url`): REST, webhook follow-ups,
interaction callbacks and — through GET /gateway/bot — the gateway all come here. Every request is
recorded (`fake.requests`) so tests assert what users would see. Drive the bot with
`invoke_slash`, `autocomplete`, `click`, `choose` (select options), `submit_modal`,
`invoke_message_command` / `invoke_user_command` (context menus), `join_guild`, `remove_guild`,
`create_role` and `dispatch`. A channel with `bot_may_post = False` answers 403 Missing Permissions
(`bot_may_create_threads = False`: only starting a thread on one of its messages does);
threads keep their members, archived and locked state; scheduled events their status. Files
attached to command options (`attachment`) are served from /attachments/.
`fake.rate_limits[(method, path regex)] = seconds` answers those requests 429 with that `retry_after`.
"""

# ruff: noqa: ASYNC109 - helpers take a timeout so that a silent bot fails the test instead of hanging it

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
from aiohttp import web

from bot.discord_bot.invite import required_permissions
from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_interactions import EPHEMERAL, FakeInteraction, InteractionsMixin
from tests.fakes.discord_payloads import (
    DiscordError,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    edit_message,
    message_payload,
    scheduled_event_payload,
    snowflake,
)

Handler = Callable[..., Awaitable[tuple[int, Any]]]
THREAD_CREATOR_MAY_EDIT = frozenset({"name", "archived", "auto_archive_duration"})
JSON_HEADERS = {"Content-Type": "application/json"}  # exactly: discord.py compares it verbatim


@dataclass
class Recorded:
    """One request the bot made, and what the fake answered."""

    method: str
    path: str  # below /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    body: Any
    status: int = 0
    response: Any = None
    files: list[str] = field(default_factory=list)
    file_contents: dict[str, bytes] = field(default_factory=dict)  # filename -> bytes sent


class FakeDiscord(InteractionsMixin):
    """The fake: `await fake.start()`, then `fake.api_base` for the bot; `await fake.close()`."""

    def __init__(self, *, token: str = "fake-bot-token", shard_count: int = 1) -> None:
        self.token = token
        self.shard_count = shard_count
        self.bot_user = FakeUser("Collectif", bot=True)
        self.application_id = self.bot_user.id
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.requests: list[Recorded] = []
        self.unhandled: list[Recorded] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.scheduled_events: dict[int, dict[str, Any]] = {}
        # What the bot was granted: the invite link's permissions (bot/discord_bot/invite.py).
        self.bot_permissions: discord.Permissions = required_permissions()
        self.closed_dms: set[int] = set()
        self.failing_dms: set[int] = set()  # users whose DMs Discord answers 503 (an outage)
        # (method, path regex) -> retry_after seconds: answered 429 as Discord does (`_rate_limited`).
        self.rate_limits: dict[tuple[str, str], float] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        # Seconds after which Discord refuses the first answer (10062) and follow-ups (50027).
        self.interaction_deadline = 3.0
        self.followup_deadline = 15 * 60.0
        self.attachments: dict[int, FakeAttachment] = {}
        self.attachment_downloads: list[int] = []  # attachment ids, in the order the bot fetched them
        self._waiters: list[tuple[Callable[[Recorded], bool], asyncio.Future[Recorded]]] = []
        self.gateway = Gateway(self.bot_user, self.application_id, lambda: list(self.guilds.values()),
                               lambda: self.gateway_url)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._add_routes()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{aid}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self.gateway.accept_connections()  # held connections go on, and are closed below
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- the world ---------------------------------------------------------------------------

    def add_guild(self, name: str = "Les Freelances", *, preferred_locale: str = "fr",
                  channels: tuple[str, ...] = ("général", "développement", "design"),
                  guild_id: int | None = None) -> FakeGuild:
        """A guild the bot is in from the start (sent in READY / GUILD_CREATE)."""
        guild = FakeGuild(name=name, preferred_locale=preferred_locale, id=guild_id or snowflake())
        for channel_name in channels:
            self.channels_add(guild.add_channel(channel_name))
        self.guilds[guild.id] = guild
        return guild

    def new_guild(self, name: str, *, preferred_locale: str = "fr") -> FakeGuild:
        """A guild the bot is not in yet; `join_guild` adds the bot to it."""
        guild = FakeGuild(name=name, preferred_locale=preferred_locale)
        self.channels_add(guild.add_channel("général"))
        return guild

    def channels_add(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.id] = channel
        return channel

    def add_user(self, name: str, *, locale: str = "fr", guild: FakeGuild | None = None,
                 moderator: bool = False) -> FakeUser:
        user = FakeUser(name, locale=locale)
        self.users[user.id] = user
        if guild is not None:
            guild.add_member(user, moderator=moderator)
        return user

    async def join_guild(self, guild: FakeGuild) -> None:
        """The bot is added to a server: GUILD_CREATE without `unavailable` (discord.py: guild_join)."""
        self.guilds[guild.id] = guild
        for channel in guild.channels:
            self.channels_add(channel)
        payload = guild.payload(self.bot_user)
        payload.pop("unavailable")
        await self.dispatch("GUILD_CREATE", payload, guild_id=guild.id)

    async def remove_guild(self, guild: FakeGuild) -> None:
        """The bot is kicked or the server deleted: GUILD_DELETE."""
        self.guilds.pop(guild.id, None)
        await self.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id)

    async def create_role(self, guild: FakeGuild, name: str) -> FakeRole:
        """A new role in a guild the bot is in: GUILD_ROLE_CREATE, so the bot knows it right away."""
        role = guild.add_role(name)
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()},
                            guild_id=guild.id)
        return role

    def attachment(self, filename: str, content: bytes | str) -> FakeAttachment:
        """A file to pass as an ATTACHMENT option value; the fake serves it to the bot over 127.0.0.1."""
        data = content.encode() if isinstance(content, str) else content
        return self._host(FakeAttachment(filename=filename, content=data))

    def _host(self, attachment: FakeAttachment) -> FakeAttachment:
        attachment.url = f"http://127.0.0.1:{self.port}/attachments/{attachment.id}/{attachment.filename}"
        self.attachments[attachment.id] = attachment
        return attachment

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None) -> None:
        await self.gateway.dispatch(event, data, guild_id=guild_id)

    # -- what tests look at ------------------------------------------------------------------

    def requests_to(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests whose path matches the regex `pattern` (full match)."""
        compiled = re.compile(pattern)
        return [r for r in self.requests if r.method == method and compiled.fullmatch(r.path)]

    @property
    def command_syncs(self) -> list[Recorded]:
        return self.requests_to("PUT", r"/applications/\d+(/guilds/\d+)?/commands")

    def registered(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        """The registered command called `name` (global, or of `guild_id`)."""
        return next(c for c in self.commands.get(guild_id, []) if c["name"] == name)

    def dm_messages(self, user: FakeUser) -> list[dict[str, Any]]:
        """What the bot sent `user` in direct messages, oldest first."""
        dms = [c.id for c in self.channels.values() if c.type == 1 and c.recipient is user]
        return [m for m in self.messages.values() if int(m["channel_id"]) in dms]

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """What everyone sees in the channel, oldest first (ephemeral answers left out)."""
        return [m for m in self.messages.values()
                if m["channel_id"] == str(channel_id) and not int(m.get("flags") or 0) & EPHEMERAL]

    async def wait_for_request(self, predicate: Callable[[Recorded], bool], timeout: float = 5.0) -> Recorded:
        """The first request (past or future) matching `predicate`."""
        for recorded in self.requests:
            if predicate(recorded):
                return recorded
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    # -- HTTP plumbing -----------------------------------------------------------------------

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    async def _serve(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files, contents = await _read_body(request)
        recorded = Recorded(request.method, path, dict(request.query), body, files=files,
                            file_contents=contents)
        limited = self._rate_limited(request.method, path)
        if limited is not None:
            status, response = 429, limited
        else:
            status, response = await self._answer(request, path, recorded)
        recorded.status, recorded.response = status, response
        self.requests.append(recorded)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(recorded):
                future.set_result(recorded)
        if status == 204:
            return web.Response(status=204)
        headers = JSON_HEADERS if limited is None else {
            **JSON_HEADERS, "Via": "1.1 google", "Retry-After": str(int(limited["retry_after"]))}
        return web.Response(status=status, body=json.dumps(response).encode(), headers=headers)

    async def _answer(self, request: web.Request, path: str, recorded: Recorded) -> tuple[int, Any]:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                if not self._authorized(request, path):
                    return 401, {"message": "401: Unauthorized", "code": 0}
                try:
                    return await handler(recorded, **match.groupdict())
                except DiscordError as exc:
                    return exc.status, {"message": exc.message, "code": exc.code}
        self.unhandled.append(recorded)
        return 404, {"message": "404: Not Found", "code": 0}

    def _rate_limited(self, method: str, path: str) -> dict[str, Any] | None:
        """A 429's body when `rate_limits` holds this request: with `retry_after`, and sent with
        Cloudflare's `Via` header (without it discord.py takes a 429 for a ban and raises at once).
        Command creation over its daily cap is code 30034, as on Discord."""
        for (verb, pattern), retry_after in self.rate_limits.items():
            if method == verb and re.fullmatch(pattern, path):
                return {"message": "You are being rate limited.", "retry_after": retry_after, "global": False,
                        "code": 30034 if path.endswith("/commands") else 0}
        return None

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        """The CDN: an attachment's bytes (no authorization, like Discord's signed CDN URLs)."""
        found = self.attachments.get(int(request.match_info["aid"]))
        if found is None or found.filename != request.match_info["filename"]:
            return web.Response(status=404)
        self.attachment_downloads.append(found.id)
        return web.Response(body=found.content, content_type=found.content_type.split(";")[0])

    def _authorized(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/interactions/", "/webhooks/")):
            return True  # authenticated by the interaction token in the URL
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _add_routes(self) -> None:
        app = r"/applications/(?P<app>\d+)"
        route = self._route
        route("GET", r"/users/@me", self._me)
        route("GET", r"/oauth2/applications/@me", self._application)
        route("GET", r"/gateway(/bot)?", self._gateway_info)
        route("PUT", app + r"(/guilds/(?P<guild>\d+))?/commands", self._put_commands)
        route("GET", app + r"(/guilds/(?P<guild>\d+))?/commands", self._get_commands)
        route("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback)
        route("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup)
        route("GET", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
              self._webhook_get)
        route("PATCH", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
              self._webhook_edit)
        route("DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
              self._webhook_delete)
        route("POST", r"/channels/(?P<cid>\d+)/messages", self._post_message)
        route("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._get_message)
        route("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._edit_message)
        route("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._delete_message)
        route("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads", self._create_thread)
        route("POST", r"/channels/(?P<cid>\d+)/threads", self._create_thread)
        route("PATCH", r"/channels/(?P<cid>\d+)", self._edit_channel)
        route("PUT", r"/channels/(?P<cid>\d+)/thread-members/(?P<uid>\d+)", self._add_thread_member)
        route("POST", r"/users/@me/channels", self._dm_channel)
        route("GET", r"/users/(?P<uid>\d+)", self._get_user)
        route("GET", r"/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)", self._get_member)
        route("GET", r"/guilds/(?P<gid>\d+)/scheduled-events", self._list_events)
        route("POST", r"/guilds/(?P<gid>\d+)/scheduled-events", self._create_event)
        route("GET", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._get_event)
        route("PATCH", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._edit_event)
        route("DELETE", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._delete_event)

    # -- login and commands --------------------------------------------------------------------

    async def _me(self, r: Recorded) -> tuple[int, Any]:
        return 200, {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0}

    async def _application(self, r: Recorded) -> tuple[int, Any]:
        owner = FakeUser("Operator", id=1)
        return 200, {
            "id": str(self.application_id), "name": "Collectif", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": owner.payload(),
            "verify_key": "0" * 64, "flags": 0, "team": None, "summary": "",
            "interactions_endpoint_url": None,
        }

    async def _gateway_info(self, r: Recorded) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url, "shards": self.shard_count,
                     "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                             "max_concurrency": 1}}

    async def _put_commands(self, r: Recorded, app: str, guild: str | None = None) -> tuple[int, Any]:
        old = {c["name"]: c["id"] for c in self.commands.get(int(guild) if guild else None, [])}
        stored = [
            {**c, "id": old.get(c["name"], str(snowflake())), "application_id": app,
             "version": str(snowflake()), **({"guild_id": guild} if guild else {})}
            for c in r.body
        ]
        self.commands[int(guild) if guild else None] = stored
        return 200, stored

    async def _get_commands(self, r: Recorded, app: str, guild: str | None = None) -> tuple[int, Any]:
        return 200, self.commands.get(int(guild) if guild else None, [])

    # -- channel messages, threads, DMs ----------------------------------------------------------

    def _channel(self, cid: str) -> FakeChannel:
        channel = self.channels.get(int(cid))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _message(self, cid: str, mid: str) -> dict[str, Any]:
        message = self.messages.get(int(mid))
        if message is None or message["channel_id"] != cid:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _not_archived(self, cid: str) -> None:
        """Discord: a message of an archived thread is neither edited nor deleted until it is reopened."""
        channel = self.channels.get(int(cid))
        if channel is not None and channel.is_thread and channel.archived:
            raise DiscordError(400, 50083, "Thread is archived")

    def _may_post(self, channel: FakeChannel) -> None:
        """Discord's refusals: no Send Messages permission, a locked thread, an archived one."""
        parent = self.channels.get(channel.parent_id) if channel.parent_id else None
        if not channel.bot_may_post or (channel.is_thread and parent is not None and not parent.bot_may_post):
            raise DiscordError(403, 50013, "Missing Permissions")
        if channel.locked:
            raise DiscordError(400, 50083, "Thread is locked")
        channel.archived = False  # a message in an archived (not locked) thread reopens it, like Discord

    async def _post_message(self, r: Recorded, cid: str) -> tuple[int, Any]:
        channel = self._channel(cid)
        if channel.type == 1 and channel.recipient and channel.recipient.id in self.closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        if channel.type == 1 and channel.recipient and channel.recipient.id in self.failing_dms:
            raise DiscordError(503, 0, "Service Unavailable")
        self._may_post(channel)
        message = message_payload(channel=channel, channel_id=channel.id, author=self.bot_user, body=r.body)
        for attachment in message["attachments"]:
            attachment["size"] = len(r.file_contents.get(attachment["filename"], b""))
        self.messages[int(message["id"])] = message
        return 200, message

    async def _get_message(self, r: Recorded, cid: str, mid: str) -> tuple[int, Any]:
        return 200, self._message(cid, mid)

    async def _edit_message(self, r: Recorded, cid: str, mid: str) -> tuple[int, Any]:
        message = self._message(cid, mid)
        self._not_archived(cid)
        return 200, edit_message(message, r.body)

    async def _delete_message(self, r: Recorded, cid: str, mid: str) -> tuple[int, Any]:
        self._message(cid, mid)
        self._not_archived(cid)
        del self.messages[int(mid)]
        return 204, None

    async def _create_thread(self, r: Recorded, cid: str, mid: str | None = None) -> tuple[int, Any]:
        """A thread on a message (its id is the message's) or, without one, a public/private thread."""
        parent = self._channel(cid)
        if mid is not None:
            self._message(cid, mid)
            if int(mid) in self.channels:
                raise DiscordError(400, 160004, "A thread has already been created for this message")
        if not parent.bot_may_post or (mid is not None and not parent.bot_may_create_threads):
            raise DiscordError(403, 50013, "Missing Permissions")
        kind = 11 if mid else int(r.body.get("type") or 12)
        thread = FakeChannel(name=r.body.get("name", "thread"), guild_id=parent.guild_id, type=kind,
                             parent_id=parent.id, owner_id=self.bot_user.id,
                             id=int(mid) if mid else snowflake(),
                             invitable=bool(r.body.get("invitable", True)))
        self.channels_add(thread)
        guild = self.guilds.get(parent.guild_id or 0)
        if guild is not None:
            guild.channels.append(thread)
        return 201, thread.payload()

    async def _edit_channel(self, r: Recorded, cid: str) -> tuple[int, Any]:
        """Discord: a thread's creator may change its name, archived and auto_archive_duration; anything
        else (`locked`, say), any change to a thread of someone else, and reopening a locked thread,
        need Manage Threads."""
        channel = self._channel(cid)
        if channel.is_thread and not self.bot_permissions.manage_threads:
            beyond = set(r.body) - THREAD_CREATOR_MAY_EDIT
            reopening_locked = channel.locked and r.body.get("archived") is False
            if beyond or channel.owner_id != self.bot_user.id or reopening_locked:
                raise DiscordError(403, 50013, "Missing Permissions")
        if channel.is_thread:
            for key in ("archived", "locked"):
                if key in r.body:
                    setattr(channel, key, bool(r.body[key]))
        if "name" in r.body:
            channel.name = str(r.body["name"])
        return 200, channel.payload()

    async def _add_thread_member(self, r: Recorded, cid: str, uid: str) -> tuple[int, Any]:
        thread = self._channel(cid)
        guild = self.guilds.get(thread.guild_id or 0)
        if not thread.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if guild is None or int(uid) not in guild.members:
            raise DiscordError(404, 10013, "Unknown User")
        if thread.archived:
            raise DiscordError(400, 50083, "Thread is archived")
        if int(uid) not in thread.members:
            thread.members.append(int(uid))
        return 204, None

    async def _get_member(self, r: Recorded, gid: str, uid: str) -> tuple[int, Any]:
        """A guild member (no privileged intent needed); one removed from `guild.members` has left."""
        guild = self.guilds.get(int(gid))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        member = guild.members.get(int(uid))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, member.payload()

    async def _get_user(self, r: Recorded, uid: str) -> tuple[int, Any]:
        user = self.users.get(int(uid))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return 200, user.payload()

    async def _dm_channel(self, r: Recorded) -> tuple[int, Any]:
        user = self.users.get(int(r.body["recipient_id"]))
        if user is None:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        existing = next((c for c in self.channels.values() if c.type == 1 and c.recipient is user), None)
        channel = existing or self.channels_add(FakeChannel(name="", guild_id=None, type=1, recipient=user))
        return 200, channel.payload()

    # -- guild scheduled events ------------------------------------------------------------------

    def _event(self, gid: str, eid: str) -> dict[str, Any]:
        event = self.scheduled_events.get(int(eid))
        if event is None or event["guild_id"] != gid:
            raise DiscordError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    async def _list_events(self, r: Recorded, gid: str) -> tuple[int, Any]:
        return 200, [e for e in self.scheduled_events.values() if e["guild_id"] == gid]

    async def _create_event(self, r: Recorded, gid: str) -> tuple[int, Any]:
        if int(gid) not in self.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        body = r.body or {}
        if body.get("entity_type") == 3 and not (body.get("scheduled_end_time")
                                                 and (body.get("entity_metadata") or {}).get("location")):
            raise DiscordError(400, 50035, "Invalid Form Body: external events need an end and a location")
        event = scheduled_event_payload(snowflake(), int(gid), self.bot_user, body)
        self.scheduled_events[int(event["id"])] = event
        return 200, event

    async def _get_event(self, r: Recorded, gid: str, eid: str) -> tuple[int, Any]:
        return 200, self._event(gid, eid)

    async def _edit_event(self, r: Recorded, gid: str, eid: str) -> tuple[int, Any]:
        event = self._event(gid, eid)
        if event["status"] in (3, 4):
            raise DiscordError(400, 180000, "Cannot update a finished or cancelled event")
        event.update({k: v for k, v in r.body.items() if k in event})
        return 200, event

    async def _delete_event(self, r: Recorded, gid: str, eid: str) -> tuple[int, Any]:
        self._event(gid, eid)
        del self.scheduled_events[int(eid)]
        return 204, None


async def _read_body(request: web.Request) -> tuple[Any, list[str], dict[str, bytes]]:
    """JSON, or multipart with `payload_json` and files (their names and contents)."""
    if not request.can_read_body:
        return None, [], {}
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        uploads = [f for k, f in form.items() if k.startswith("files[")]
        files = [f.filename for f in uploads]  # type: ignore[union-attr]
        contents = {f.filename: f.file.read() for f in uploads}  # type: ignore[union-attr]
        raw = form.get("payload_json")
        return (json.loads(raw) if isinstance(raw, str) else {}), files, contents
    text = await request.text()
    return (json.loads(text) if text else None), [], {}
