"""The fake Discord gateway: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats, and events on demand.

Text JSON frames only: discord.py asks for zlib-stream but only inflates binary frames.
"""

# ruff: noqa: ASYNC109 - helpers take a timeout so that a silent bot fails the test instead of hanging it

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_payloads import FakeGuild, FakeUser

HEARTBEAT_MS = 41250


@dataclass
class Shard:
    ws: web.WebSocketResponse
    shard_id: int = 0
    shard_count: int = 1
    sequence: int = 0
    identify: dict[str, Any] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        frame: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
        if op == 0:
            self.sequence += 1
            frame["s"] = self.sequence
        await self.ws.send_str(json.dumps(frame))


class Gateway:
    """One websocket per shard; events reach the shard owning the guild."""

    def __init__(self, bot_user: FakeUser, application_id: int, guilds: Callable[[], list[FakeGuild]],
                 url: Callable[[], str]) -> None:
        self.bot_user = bot_user
        self.application_id = application_id
        self.guilds = guilds
        self.url = url
        self.shards: dict[int, Shard] = {}
        self.identifies: list[dict[str, Any]] = []
        self.sessions = 0
        self.resumes = 0
        self._session_shards: dict[int, tuple[int, int]] = {}
        self.shard_count = 1
        self._connected = asyncio.Condition()
        self._accepting = asyncio.Event()
        self._accepting.set()

    def hold_reconnections(self) -> None:
        """New connections wait (before the handshake) until `accept_connections()` or the fake closes:
        after `close()`, the shards stay disconnected, however soon discord.py tries again."""
        self._accepting.clear()

    def accept_connections(self) -> None:
        self._accepting.set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        await self._accepting.wait()
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        shard = Shard(ws)
        await shard.send(10, {"heartbeat_interval": HEARTBEAT_MS})
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    break
                await self._receive(shard, json.loads(message.data))
        finally:
            if self.shards.get(shard.shard_id) is shard:
                del self.shards[shard.shard_id]
        return ws

    async def _receive(self, shard: Shard, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            await shard.send(11, None)
        elif op == 2:
            self.identifies.append(data)
            shard.identify = data
            shard.shard_id, shard.shard_count = data.get("shard", [0, 1])
            await self._ready(shard)
        elif op == 6:
            shard.identify = data
            shard.shard_id, shard.shard_count = self._resumed_shard(data)
            shard.sequence = int(data.get("seq") or 0)
            await shard.send(0, {}, "RESUMED")
            async with self._connected:
                self.resumes += 1
                self.shards[shard.shard_id] = shard
                shard.ready.set()
                self._connected.notify_all()

    def _resumed_shard(self, data: dict[str, Any]) -> tuple[int, int]:
        session = int(str(data.get("session_id", "fake-session-1")).rsplit("-", 1)[-1])
        return self._session_shards.get(session, (0, 1))

    async def _ready(self, shard: Shard) -> None:
        self.sessions += 1
        self._session_shards[self.sessions] = (shard.shard_id, shard.shard_count)
        mine = [g for g in self.guilds() if g.shard_id(shard.shard_count) == shard.shard_id]
        await shard.send(0, {
            "v": 10,
            "user": self.bot_user.payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": f"fake-session-{self.sessions}",
            "resume_gateway_url": self.url(),
            "shard": [shard.shard_id, shard.shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
        }, "READY")
        for guild in mine:
            if not guild.outage:
                await shard.send(0, guild.payload(self.bot_user), "GUILD_CREATE")
        async with self._connected:
            self.shards[shard.shard_id] = shard
            shard.ready.set()
            self._connected.notify_all()

    def shard_for(self, guild_id: int | None) -> Shard:
        if not self.shards:
            raise RuntimeError("no bot connected to the fake gateway")
        count = next(iter(self.shards.values())).shard_count
        shard_id = 0 if guild_id is None else (guild_id >> 22) % count
        return self.shards[shard_id]

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None) -> None:
        """Send a DISPATCH (op 0) event to the shard that owns `guild_id`."""
        await self.shard_for(guild_id).send(0, data, event)

    async def wait_connected(self, shards: int = 1, timeout: float = 5.0) -> None:
        async with self._connected:
            await asyncio.wait_for(self._connected.wait_for(lambda: len(self.shards) >= shards), timeout)

    async def ask_reconnect(self, timeout: float = 5.0) -> None:
        """Send RECONNECT (op 7) to every shard, as Discord does, and wait until each resumed."""
        async with self._connected:
            expected = self.resumes + len(self.shards)
            for shard in list(self.shards.values()):
                await shard.send(7, None)
            await asyncio.wait_for(self._connected.wait_for(lambda: self.resumes >= expected), timeout)

    async def close(self) -> None:
        for shard in list(self.shards.values()):
            with contextlib.suppress(Exception):
                await shard.ws.close()
        self.shards.clear()
