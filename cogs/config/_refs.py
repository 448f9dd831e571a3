"""How moderators name channels, roles, users and messages on each platform; and the Directory port."""

from __future__ import annotations

import re
from typing import Protocol

_DISCORD_ID = r"\d{15,21}"
_SLACK_CHANNEL = r"[CG][A-Z0-9]+"

_CHANNEL = {
    "discord": re.compile(rf"^(?:<#(?P<m>{_DISCORD_ID})>|(?P<id>{_DISCORD_ID}))$"),
    "slack": re.compile(rf"^(?:<#(?P<m>{_SLACK_CHANNEL})(?:\|[^>]*)?>|(?P<id>{_SLACK_CHANNEL}))$"),
}
_DISCORD_ROLE = re.compile(rf"^(?:<@&(?P<m>{_DISCORD_ID})>|(?P<id>{_DISCORD_ID}))$")
_SLACK_USER = re.compile(r"^(?:<@(?P<m>[UW][A-Z0-9]+)(?:\|[^>]*)?>|@?(?P<id>[UW][A-Z0-9]+))$")
_SLACK_GROUP = re.compile(r"^(?:<!subteam\^(?P<m>S[A-Z0-9]+)(?:\|[^>]*)?>|(?P<id>S[A-Z0-9]+))$")

_DISCORD_LINK = re.compile(
    r"^<?https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)/?>?$"
)
_SLACK_LINK = re.compile(
    r"^<?https://[A-Za-z0-9.-]+\.slack\.com/archives/([CGD][A-Z0-9]+)/p(\d{10})(\d{6})(?:[?#][^>\s]*)?>?$"
)


MAX_REF = 300  # a mention, an id or a message link; longer text is none of them, unread
# Discord lets two channels (or two roles) of a server share a name: an export writes the id beside
# the name ("#missions (1234…)"), which an import in that same server prefers. Slack's are unique.
_EXPORTED = re.compile(rf"^(?P<name>[#@].+?)\s*\((?P<id>{_DISCORD_ID})\)$")


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    if len(text) > MAX_REF:
        return None
    found = pattern.match(text.strip())
    return (found.group("m") or found.group("id")) if found else None


def channel_id(platform: str, text: str) -> str | None:
    """A channel id from a mention or a raw id of this platform; None for anything else."""
    pattern = _CHANNEL.get(platform)
    return _match(pattern, text) if pattern else None


def exported(platform: str, sigil: str, name: str, ref_id: str) -> str:
    """How an export names a channel ("#") or a role ("@"): by name, on Discord with its id beside."""
    return f"{sigil}{name} ({ref_id})" if platform == "discord" else f"{sigil}{name}"


def split_exported(text: str) -> tuple[str, str | None]:
    """("#missions", "1234…") from what `exported` wrote; (text, None) from anything else."""
    found = _EXPORTED.match(text.strip()) if len(text) <= MAX_REF else None
    return (found.group("name"), found.group("id")) if found else (text, None)


def role_id(platform: str, text: str) -> str | None:
    """A Discord role id from a mention or a raw id (Slack has no roles)."""
    return _match(_DISCORD_ROLE, text) if platform == "discord" else None


def slack_user_id(text: str) -> str | None:
    return _match(_SLACK_USER, text)


def slack_usergroup_id(text: str) -> str | None:
    return _match(_SLACK_GROUP, text)


def message_link(platform: str, text: str) -> tuple[str | None, str, str] | None:
    """(guild id or None, channel id, message id) of a Discord message link or a Slack permalink."""
    text = text.strip()
    if len(text) > MAX_REF:
        return None
    if platform == "discord":
        found = _DISCORD_LINK.match(text)
        return (found.group(1), found.group(2), found.group(3)) if found else None
    found = _SLACK_LINK.match(text)
    return (None, found.group(1), f"{found.group(2)}.{found.group(3)}") if found else None


class Directory(Protocol):
    """What the platform knows about a community's channels and roles (bindings provide one).

    The domain validates and displays channels and roles through it; the default `IdDirectory`
    accepts well-formed ids and mentions only.
    """

    async def channel(self, ref: str) -> str | None:
        """The id of the channel `ref` names (id, mention or "#name") in this community, or None.

        Only a channel the bot can post cards in (on Discord, a text channel: what /config channel
        offers); `_values.Bad` says why another one, or a name several channels share, is refused.
        """
        ...

    async def channel_label(self, channel_id: str) -> str:
        """How to show a channel in a card."""
        ...

    async def channel_name(self, channel_id: str) -> str | None:
        """The channel's name, for exports that must work in another community."""
        ...

    async def role(self, ref: str) -> str | None:
        """The id of the role `ref` names (id, mention or "@name"), or None (always None on Slack).

        `_values.Bad` refuses a name several roles share.
        """
        ...

    async def role_label(self, role_id: str) -> str: ...

    async def role_name(self, role_id: str) -> str | None: ...

    async def user_label(self, user_id: str) -> str:
        """How to show a member named by platform id."""
        ...

    async def usergroup(self, ref: str) -> str | None:
        """The id of the Slack user group `ref` names (id, mention or "@handle"), or None."""
        ...


class IdDirectory:
    """A Directory that knows no names: ids and mentions of the right shape are trusted."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    async def channel(self, ref: str) -> str | None:
        return channel_id(self.platform, ref)

    async def channel_label(self, channel_id: str) -> str:
        return f"<#{channel_id}>" if self.platform == "discord" else f"#{channel_id}"

    async def channel_name(self, channel_id: str) -> str | None:
        return None

    async def role(self, ref: str) -> str | None:
        return role_id(self.platform, ref)

    async def role_label(self, role_id: str) -> str:
        return f"<@&{role_id}>" if self.platform == "discord" else role_id

    async def role_name(self, role_id: str) -> str | None:
        return None

    async def user_label(self, user_id: str) -> str:
        return f"<@{user_id}>" if self.platform == "discord" else f"@{user_id}"

    async def usergroup(self, ref: str) -> str | None:
        return slack_usergroup_id(ref) if self.platform == "slack" else None
