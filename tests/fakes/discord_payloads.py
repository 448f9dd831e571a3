"""The fake Discord's world (users, guilds, channels) and the JSON payloads discord.py expects."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)

MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
)
MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True, manage_messages=True)


class DiscordError(Exception):
    """An error answer of the fake API: HTTP status and Discord's JSON error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def snowflake() -> int:
    """Increasing ids shaped like Discord's (time in the high bits, so sharding by id works)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeUser:
    name: str
    locale: str = "fr"
    bot: bool = False
    id: int = field(default_factory=snowflake)

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name.lower().replace(" ", "_"),
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class FakeChannel:
    name: str
    guild_id: int | None
    type: int = 0  # 0 text, 1 DM, 11 public thread, 12 private thread
    id: int = field(default_factory=snowflake)
    parent_id: int | None = None
    recipient: FakeUser | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    members: list[int] = field(default_factory=list)  # a thread's members (PUT thread-members)
    bot_may_post: bool = True  # False: the bot lacks Send Messages here (403 50013)
    bot_may_create_threads: bool = True  # False: a thread on a message here: 403 50013

    @property
    def is_thread(self) -> bool:
        return self.type in (11, 12)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(self.id), "type": self.type, "name": self.name}
        if self.type == 1:
            data["recipients"] = [self.recipient.payload()] if self.recipient else []
            data.pop("name")
            return data
        data.update(guild_id=str(self.guild_id), position=0, permission_overwrites=[], nsfw=False,
                    topic=None, last_message_id=None, rate_limit_per_user=0, flags=0)
        if self.is_thread:
            data.update(
                parent_id=str(self.parent_id), owner_id=str(self.owner_id), message_count=0,
                member_count=len(self.members) + 1,
                thread_metadata={"archived": self.archived, "auto_archive_duration": 1440,
                                 "archive_timestamp": iso_now(), "locked": self.locked,
                                 **({"invitable": self.invitable} if self.type == 12 else {})},
            )
        elif self.parent_id is not None:
            data["parent_id"] = str(self.parent_id)
        return data


@dataclass
class FakeRole:
    """A guild role; the bot learns it from GUILD_CREATE or GUILD_ROLE_CREATE (`FakeDiscord.create_role`)."""

    name: str
    guild_id: int
    permissions: discord.Permissions = field(default_factory=lambda: MEMBER_PERMISSIONS)
    id: int = field(default_factory=snowflake)
    position: int = 1

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "permissions": str(self.permissions.value),
                "position": self.position, "color": 0, "hoist": False, "managed": False,
                "mentionable": False, "flags": 0}


@dataclass
class FakeAttachment:
    """A file a user attaches to a slash command option; the fake serves it at `url` (127.0.0.1)."""

    filename: str
    content: bytes
    content_type: str = "text/plain; charset=utf-8"
    id: int = field(default_factory=snowflake)
    url: str = ""  # set by FakeDiscord.attachment() / invoke_slash

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "filename": self.filename, "size": len(self.content), "url": self.url,
                "proxy_url": self.url, "content_type": self.content_type, "ephemeral": True}


@dataclass
class FakeMember:
    user: FakeUser
    guild_id: int
    permissions: discord.Permissions
    roles: list[int] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user.payload(),
            "roles": [str(r) for r in self.roles],
            "nick": None,
            "avatar": None,
            "joined_at": iso_now(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(self.permissions.value),
        }


@dataclass
class FakeGuild:
    name: str
    preferred_locale: str = "fr"
    id: int = field(default_factory=snowflake)
    channels: list[FakeChannel] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)
    owner_id: int = 0
    roles: list[FakeRole] = field(default_factory=list)  # besides @everyone
    outage: bool = False  # listed in READY as unavailable, but no GUILD_CREATE follows

    def add_channel(self, name: str, *, type: int = 0, parent_id: int | None = None) -> FakeChannel:
        channel = FakeChannel(name=name, guild_id=self.id, type=type, parent_id=parent_id)
        self.channels.append(channel)
        return channel

    def add_member(self, user: FakeUser, *, moderator: bool = False) -> FakeMember:
        permissions = MODERATOR_PERMISSIONS if moderator else MEMBER_PERMISSIONS
        member = FakeMember(user=user, guild_id=self.id, permissions=permissions)
        self.members[user.id] = member
        return member

    def add_role(self, name: str) -> FakeRole:
        role = FakeRole(name=name, guild_id=self.id, position=len(self.roles) + 1)
        self.roles.append(role)
        return role

    def give_role(self, user: FakeUser, role: FakeRole) -> None:
        """`user` (a member, added if needed) gets `role`; it shows in the member of later interactions."""
        member = self.members.get(user.id) or self.add_member(user)
        member.roles.append(role.id)

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels if c.name == name)

    @property
    def default_channel(self) -> FakeChannel:
        return next(c for c in self.channels if c.type == 0)

    def shard_id(self, shard_count: int) -> int:
        return (self.id >> 22) % shard_count

    def payload(self, bot_user: FakeUser) -> dict[str, Any]:
        """GUILD_CREATE: the guild with its channels, roles and the bot's own member."""
        everyone = {"id": str(self.id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS.value),
                    "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
                    "flags": 0}
        bot_member = FakeMember(bot_user, self.id, MEMBER_PERMISSIONS).payload()
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id or bot_user.id),
            "preferred_locale": self.preferred_locale,
            "features": [],
            "roles": [everyone, *(r.payload() for r in self.roles)],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels if not c.is_thread],
            "threads": [c.payload() for c in self.channels if c.is_thread],
            "members": [bot_member],
            "member_count": len(self.members) + 1,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "large": False,
            "unavailable": False,
            "joined_at": iso_now(),
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
        }


def message_payload(
    *,
    channel: FakeChannel | None,
    channel_id: int,
    author: FakeUser,
    body: dict[str, Any],
    message_id: int | None = None,
    application_id: int | None = None,
    interaction_id: int | None = None,
) -> dict[str, Any]:
    """A message as Discord returns it, from what the bot sent (content, embeds, components, flags)."""
    data: dict[str, Any] = {
        "id": str(message_id or snowflake()),
        "channel_id": str(channel_id),
        "author": author.payload(),
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [uploaded(a) for a in body.get("attachments") or []],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": 20 if interaction_id else 0,
        "flags": int(body.get("flags") or 0),
        "allowed_mentions": body.get("allowed_mentions"),
    }
    if channel is not None and channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    if interaction_id is not None and application_id is not None:
        data["application_id"] = str(application_id)
        data["webhook_id"] = str(application_id)
    return data


def uploaded(attachment: dict[str, Any]) -> dict[str, Any]:
    """An attachment as Discord returns it, from what the bot sent ({"id": index, "filename": …})."""
    if "size" in attachment:
        return attachment
    filename = str(attachment.get("filename") or "file")
    url = f"https://cdn.discordapp.invalid/attachments/{snowflake()}/{filename}"
    return {"id": str(snowflake()), "filename": filename, "size": 0, "url": url, "proxy_url": url}


def edit_message(message: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Apply an edit (PATCH body) to a stored message payload, in place."""
    for key in ("content", "embeds", "components", "flags", "attachments", "allowed_mentions"):
        if key in body and body[key] is not None:
            message[key] = body[key]
    message["edited_timestamp"] = iso_now()
    return message


def scheduled_event_payload(event_id: int, guild_id: int, creator: FakeUser, body: dict[str, Any]
                            ) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "guild_id": str(guild_id),
        "channel_id": body.get("channel_id"),
        "creator_id": str(creator.id),
        "creator": creator.payload(),
        "name": body["name"],
        "description": body.get("description"),
        "scheduled_start_time": body["scheduled_start_time"],
        "scheduled_end_time": body.get("scheduled_end_time"),
        "privacy_level": body.get("privacy_level", 2),
        "status": body.get("status", 1),
        "entity_type": body.get("entity_type", 3),
        "entity_id": None,
        "entity_metadata": body.get("entity_metadata"),
        "user_count": 0,
        "image": None,
        "recurrence_rule": body.get("recurrence_rule"),
    }
