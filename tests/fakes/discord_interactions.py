"""Interactions in the fake Discord: sending them to the bot, and recording how the bot answers."""

# ruff: noqa: ASYNC109 - helpers take a timeout so that a silent bot fails the test instead of hanging it

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_payloads import (
    DiscordError,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    edit_message,
    message_payload,
    snowflake,
)

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord, Recorded

EPHEMERAL = 64
OPTION_TYPES = {"subcommand": 1, "group": 2}
RESPONSE_MESSAGE_TYPES = {4, 5}
DEFERRED_MESSAGE = 5  # "thinking…": the answer comes as the first follow-up


@dataclass
class FakeInteraction:
    """One interaction sent to the bot and everything the bot answered to it."""

    id: int
    token: str
    payload: dict[str, Any]
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed to /callback
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages sent with its webhook
    original: dict[str, Any] | None = None  # the response message, once there is one
    edits: list[dict[str, Any]] = field(default_factory=list)  # PATCH bodies on @original
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    sent_at: float = 0.0  # time.perf_counter() when INTERACTION_CREATE went out
    answered_at: float = 0.0  # … and when the first callback arrived
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def callback(self) -> dict[str, Any]:
        """The first (and normally only) callback body: {"type": …, "data": {…}}."""
        return self.callbacks[0]

    @property
    def response_type(self) -> int:
        return self.callback["type"]

    @property
    def data(self) -> dict[str, Any]:
        """What the member sees as the answer: the response's data, or after a "thinking…" defer
        (type 5) the first follow-up, which replaces it on screen."""
        if self.callback.get("type") == DEFERRED_MESSAGE and self.followups:
            return self.followups[0]
        return self.callback.get("data") or {}

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    def all_texts(self) -> list[str]:
        """Every content of the response and follow-ups, for quick assertions."""
        return [m.get("content") or "" for m in [self.data, *self.followups]]

    async def wait_answer(self, timeout: float = 5.0) -> FakeInteraction:
        await asyncio.wait_for(self.answered.wait(), timeout)
        return self

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        async def enough() -> None:
            while len(self.followups) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.followups

    def _touch(self) -> None:
        self._changed.set()


class InteractionsMixin:
    """Half of FakeDiscord: send interactions, serve their callbacks and webhooks."""

    # -- sending interactions ------------------------------------------------------------------

    async def invoke_slash(
        self: FakeDiscord,
        guild: FakeGuild,
        user: FakeUser,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        locale: str | None = None,
        channel: FakeChannel | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Run `/name` ("config show" for a subcommand) as `user`; waits for the first answer.

        `name` is the registered (default, English) name; options by name, with types taken from
        the registered command (FakeUser / FakeChannel / FakeRole / FakeAttachment values become ids
        with resolved data).
        """
        for value in (options or {}).values():
            if isinstance(value, FakeAttachment) and not value.url:
                self._host(value)
        data = self._command_data(guild, name, options or {}, None)
        payload = self._interaction_payload(2, guild, user, locale, channel, data)
        return await self._send_interaction(payload, guild, wait, timeout)

    async def autocomplete(
        self: FakeDiscord,
        guild: FakeGuild,
        user: FakeUser,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        locale: str | None = None,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Type into option `focused` of `/name` (APPLICATION_COMMAND_AUTOCOMPLETE, type 4).

        `options` holds what is typed so far (the focused one included); the bot answers with
        callback type 8, its choices in `answer.data["choices"]`.
        """
        data = self._command_data(guild, name, options, focused)
        payload = self._interaction_payload(4, guild, user, locale, None, data)
        return await self._send_interaction(payload, guild, True, timeout)

    def _command_data(self: FakeDiscord, guild: FakeGuild, name: str, options: dict[str, Any],
                      focused: str | None) -> dict[str, Any]:
        parts = name.split()
        command = next((c for c in self.commands.get(guild.id, []) if c["name"] == parts[0]), None)
        command = command or self.registered(parts[0])
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {"id": command["id"], "name": parts[0], "type": 1,
                                "options": _options(command, parts[1:], options, guild, resolved, focused)}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    async def click(
        self: FakeDiscord,
        message: dict[str, Any],
        custom_id: str,
        user: FakeUser,
        *,
        locale: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Click the button `custom_id` of a message the bot posted (a recorded message payload)."""
        channel = self.channels[int(message["channel_id"])]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction_payload(3, guild, user, locale, channel, data)
        payload["message"] = message
        return await self._send_interaction(payload, guild, wait, timeout)

    async def choose(
        self: FakeDiscord,
        message: dict[str, Any],
        custom_id: str,
        values: list[str],
        user: FakeUser,
        *,
        locale: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Pick `values` in the select menu `custom_id` of a message the bot posted.

        The values must be options of that select (as a member could only pick those), unless the
        message shows no such select (a stale or forged message: the bot must cope). In a user select
        they are user ids of the guild's members, sent with Discord's `resolved` users and members.
        """
        select = next((c for row in message.get("components") or [] for c in row.get("components") or []
                       if c.get("custom_id") == custom_id and c.get("type") in (3, 5)), None)
        kind = select["type"] if select is not None else 3
        if select is not None and kind == 3:
            offered = {o["value"] for o in select.get("options") or []}
            unknown = [v for v in values if v not in offered]
            if unknown:
                raise ValueError(f"select {custom_id} has no option {unknown}")
        channel = self.channels[int(message["channel_id"])]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind, "values": list(values)}
        if kind == 5:
            members = [guild.members[int(v)] for v in values] if guild else []
            data["resolved"] = {
                "users": {str(m.id): m.user.payload() for m in members},
                "members": {str(m.id): {k: v for k, v in m.payload().items() if k != "user"}
                            for m in members},
            }
        payload = self._interaction_payload(3, guild, user, locale, channel, data)
        payload["message"] = message
        return await self._send_interaction(payload, guild, wait, timeout)

    async def invoke_message_command(
        self: FakeDiscord,
        guild: FakeGuild,
        user: FakeUser,
        name: str,
        message: dict[str, Any],
        *,
        locale: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Use the message context menu `name` (its registered name) on `message`."""
        command = self._context_menu(guild, name, 3)
        data = {"id": command["id"], "name": command["name"], "type": 3, "target_id": message["id"],
                "resolved": {"messages": {message["id"]: message}}}
        channel = self.channels.get(int(message["channel_id"]))
        payload = self._interaction_payload(2, guild, user, locale, channel, data)
        return await self._send_interaction(payload, guild, wait, timeout)

    async def invoke_user_command(
        self: FakeDiscord,
        guild: FakeGuild,
        user: FakeUser,
        name: str,
        target: FakeUser,
        *,
        locale: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Use the user context menu `name` on the member `target`."""
        command = self._context_menu(guild, name, 2)
        resolved: dict[str, dict[str, Any]] = {}
        data = {"id": command["id"], "name": command["name"], "type": 2,
                "target_id": _resolve(target, guild, resolved), "resolved": resolved}
        payload = self._interaction_payload(2, guild, user, locale, None, data)
        return await self._send_interaction(payload, guild, wait, timeout)

    def _context_menu(self: FakeDiscord, guild: FakeGuild, name: str, kind: int) -> dict[str, Any]:
        found = [c for c in [*self.commands.get(guild.id, []), *self.commands.get(None, [])]
                 if c["name"] == name and c.get("type") == kind]
        if not found:
            raise KeyError(f"no {'message' if kind == 3 else 'user'} command {name!r} registered")
        return found[0]

    async def submit_modal(
        self: FakeDiscord,
        guild: FakeGuild,
        user: FakeUser,
        custom_id: str,
        values: dict[str, str],
        *,
        locale: str | None = None,
        message: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Submit the modal `custom_id` with text input values by their custom_id."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()]
        channel = self.channels[int(message["channel_id"])] if message else guild.default_channel
        payload = self._interaction_payload(5, guild, user, locale, channel,
                                            {"custom_id": custom_id, "components": rows})
        if message is not None:
            payload["message"] = message
        return await self._send_interaction(payload, guild, wait, timeout)

    def _interaction_payload(self: FakeDiscord, kind: int, guild: FakeGuild | None, user: FakeUser,
                             locale: str | None, channel: FakeChannel | None, data: dict[str, Any]
                             ) -> dict[str, Any]:
        channel = channel or (guild.default_channel if guild else None)
        payload: dict[str, Any] = {
            "id": str(snowflake()),
            "application_id": str(self.application_id),
            "type": kind,
            "token": secrets.token_urlsafe(24),
            "version": 1,
            "locale": locale or user.locale,
            "data": data,
            "entitlements": [],
            "attachment_size_limit": 8 * 1024 * 1024,
            "app_permissions": "0",
            "context": 0 if guild else 1,
        }
        if channel is not None:
            payload["channel"] = channel.payload()
            payload["channel_id"] = str(channel.id)
        if guild is not None:
            member = guild.members.get(user.id) or guild.add_member(user)
            payload.update(guild_id=str(guild.id), guild_locale=guild.preferred_locale,
                           member=member.payload(), authorizing_integration_owners={"0": str(guild.id)})
        else:
            payload["user"] = user.payload()
        return payload

    async def _send_interaction(self: FakeDiscord, payload: dict[str, Any], guild: FakeGuild | None,
                                wait: bool, timeout: float) -> FakeInteraction:
        interaction = FakeInteraction(int(payload["id"]), payload["token"], payload)
        self.interactions[interaction.id] = interaction
        interaction.sent_at = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=guild.id if guild else None)
        if wait:
            await interaction.wait_answer(timeout)
            if interaction.response_type == DEFERRED_MESSAGE:  # "thinking…": the answer follows
                left = self.followup_deadline - (time.perf_counter() - interaction.sent_at)
                with contextlib.suppress(TimeoutError):  # none may come: the member keeps "thinking…"
                    await interaction.wait_followups(1, max(0.0, min(timeout, left)))
        return interaction

    def _by_token(self: FakeDiscord, token: str) -> FakeInteraction:
        found = next((i for i in self.interactions.values() if i.token == token), None)
        if found is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return found

    # -- the bot's answers -----------------------------------------------------------------------

    async def _callback(self: FakeDiscord, r: Recorded, iid: str, token: str) -> tuple[int, Any]:
        interaction = self.interactions.get(int(iid))
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        if time.perf_counter() - interaction.sent_at > self.interaction_deadline:  # 3 s on Discord
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        interaction.answered_at = time.perf_counter()
        body = r.body or {}
        interaction.callbacks.append(body)
        kind, data = body.get("type"), body.get("data") or {}
        flags = int(data.get("flags") or 0)
        result: dict[str, Any] = {"interaction": {
            "id": iid, "type": interaction.payload["type"],
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }}
        if kind in RESPONSE_MESSAGE_TYPES:
            message = self._interaction_message(interaction, data)
            interaction.original = message
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        elif kind == 7 and "message" in interaction.payload:
            stored = self.messages.get(int(interaction.payload["message"]["id"]))
            message = edit_message(stored if stored is not None else interaction.payload["message"], data)
            result["resource"] = {"type": kind, "message": message}
        interaction.answered.set()
        interaction._touch()
        return 200, result

    def _interaction_message(self: FakeDiscord, interaction: FakeInteraction, body: dict[str, Any]
                             ) -> dict[str, Any]:
        channel_id = int(interaction.payload.get("channel_id") or 0)
        message = message_payload(channel=self.channels.get(channel_id), channel_id=channel_id,
                                  author=self.bot_user, body=body, application_id=self.application_id,
                                  interaction_id=interaction.id)
        self.messages[int(message["id"])] = message
        return message

    async def _followup(self: FakeDiscord, r: Recorded, app: str, token: str) -> tuple[int, Any]:
        interaction = self._by_token(token)
        if time.perf_counter() - interaction.sent_at > self.followup_deadline:  # 15 min on Discord
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        message = self._interaction_message(interaction, r.body or {})
        first = not interaction.followups and interaction.original is not None
        if first and interaction.callbacks and interaction.response_type == DEFERRED_MESSAGE:
            # Discord's first follow-up after "thinking…" replaces that message: the same message.
            del self.messages[int(message["id"])]
            message["id"] = interaction.original["id"]
            self.messages[int(message["id"])] = message
            interaction.original = message
        interaction.followups.append(message)
        interaction._touch()
        return 200, message

    def _webhook_message(self: FakeDiscord, token: str, mid: str) -> tuple[FakeInteraction, dict[str, Any]]:
        interaction = self._by_token(token)
        message = interaction.original if mid == "@original" else self.messages.get(int(mid))
        if message is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return interaction, message

    async def _webhook_get(self: FakeDiscord, r: Recorded, app: str, token: str, mid: str) -> tuple[int, Any]:
        return 200, self._webhook_message(token, mid)[1]

    async def _webhook_edit(self: FakeDiscord, r: Recorded, app: str, token: str, mid: str
                            ) -> tuple[int, Any]:
        interaction, message = self._webhook_message(token, mid)
        if mid == "@original":
            interaction.edits.append(r.body or {})
        edit_message(message, r.body or {})
        interaction._touch()
        return 200, message

    async def _webhook_delete(self: FakeDiscord, r: Recorded, app: str, token: str, mid: str
                              ) -> tuple[int, Any]:
        interaction, message = self._webhook_message(token, mid)
        self.messages.pop(int(message["id"]), None)
        if mid == "@original":
            interaction.original = None
        return 204, None


def _options(command: dict[str, Any], path: list[str], values: dict[str, Any], guild: FakeGuild,
             resolved: dict[str, dict[str, Any]], focused: str | None = None) -> list[dict[str, Any]]:
    """Interaction options for `values`, nested under the subcommand (group) names in `path`."""
    schema = command.get("options") or []
    if path:
        sub = next(o for o in schema if o["name"] == path[0])
        return [{"type": sub["type"], "name": sub["name"],
                 "options": _options(sub, path[1:], values, guild, resolved, focused)}]
    types = {o["name"]: o["type"] for o in schema}
    options = []
    for name, value in values.items():
        if name not in types:
            raise KeyError(f"command {command['name']} has no option {name!r}")
        option = {"name": name, "type": types[name], "value": _resolve(value, guild, resolved)}
        if name == focused:
            option["focused"] = True
        options.append(option)
    if focused is not None and focused not in values:
        raise KeyError(f"command {command['name']}: the focused option {focused!r} needs a typed value")
    return options


def _resolve(value: Any, guild: FakeGuild, resolved: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, FakeUser):
        resolved.setdefault("users", {})[str(value.id)] = value.payload()
        member = guild.members.get(value.id)
        if member is not None:
            data = member.payload()
            data.pop("user")
            resolved.setdefault("members", {})[str(value.id)] = data
        return str(value.id)
    if isinstance(value, FakeRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    if isinstance(value, FakeAttachment):
        resolved.setdefault("attachments", {})[str(value.id)] = value.payload()
        return str(value.id)
    if isinstance(value, FakeChannel):
        resolved.setdefault("channels", {})[str(value.id)] = {
            **value.payload(), "permissions": str((1 << 53) - 1)}
        return str(value.id)
    return value
