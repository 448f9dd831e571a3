"""The notifier port: how use cases and the scheduler post, edit, remove, DM, open threads and events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from bot.cards import Attachment, Card
from bot.errors import UserError

__all__ = ["Attachment", "CannotPost", "EventSpec", "Notifier", "PostRef", "ThreadRef"]

CannotPostReason = Literal["forbidden", "archived"]
DEFAULT_EVENT_LENGTH = timedelta(hours=2)


@dataclass(frozen=True)
class PostRef:
    """Where a message lives on its platform."""

    channel_id: str
    message_id: str


@dataclass(frozen=True)
class ThreadRef:
    """A thread under a card, or a private space for a few members: post in it, archive it.

    `channel_id` is where it lives; `thread_id` is the platform's handle for it (Discord: the
    thread's own channel id; Slack: the ts of the card it hangs from, empty for a group DM, which
    is a conversation of its own).
    """

    channel_id: str
    thread_id: str


@dataclass(frozen=True)
class EventSpec:
    """A native calendar event (Discord guild scheduled event): times are aware; `end` defaults to 2 h on."""

    name: str
    start: datetime
    location: str  # a place or a link
    description: str = ""
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("event times must be timezone-aware")
        if self.end is not None and self.end <= self.start:
            raise ValueError("an event ends after it starts")

    @property
    def ends(self) -> datetime:
        return self.end or self.start + DEFAULT_EVENT_LENGTH


class CannotPost(UserError):
    """The channel exists but the bot may not post there (missing permission, not a member, archived).

    A use case catches it to tell the member or the moderators; left alone it reaches the error
    handlers as a UserError and is shown as "Collectif cannot post in <channel>".
    """

    key = "errors.cannot_post"

    def __init__(self, channel_id: str, reason: CannotPostReason) -> None:
        super().__init__(self.key, channel=channel_id, reason=reason)
        self.channel_id = channel_id
        self.reason = reason


class Notifier(Protocol):
    """One per platform (and per Slack workspace token); built by the platform runtime.

    Every method sends user text with mentions disabled (Discord AllowedMentions.none(), Slack
    text escaped). Something gone (an unknown channel or message, closed DMs) is answered with
    None/False; a channel that exists but refuses the bot raises CannotPost from `post`,
    `open_thread`, `post_in_thread` and `open_private_space`.
    """

    platform: str

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        """Post a card (and its attachments) in a channel; None when the channel is unknown."""
        ...

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        """Replace a posted card (its files stay); False when the message is gone."""
        ...

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        """Remove a posted message; False when it was already gone."""
        ...

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        """Send a direct message (the card's attachments, plus `attachment`); None when DMs are closed."""
        ...

    async def open_thread(self, community_external_id: str, ref: PostRef, name: str) -> ThreadRef | None:
        """A thread under a posted card (Slack: its reply thread); None when the card is gone."""
        ...

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        """Post a card in a thread or private space; the ref edits and deletes like any post."""
        ...

    async def archive_thread(self, community_external_id: str, thread: ThreadRef) -> bool:
        """Close a thread or private space for new messages where the platform can (Slack cannot: False)."""
        ...

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        """A conversation only `user_ids` (and the bot) see; None when nobody could be added.

        Discord: a private thread of `channel_id` with them added; Slack: a group DM (`channel_id` unused).
        """
        ...

    async def rename_private_space(self, community_external_id: str, space: ThreadRef, name: str) -> bool:
        """Give a private space a new name (a member named in it deleted their data); False when gone.

        Discord: the private thread's name (its creator, the bot, may change it); Slack: nothing to do,
        a group DM has no name of its own.
        """
        ...

    async def departed(self, community_external_id: str, user_ids: list[str]) -> set[str]:
        """Those of `user_ids` who are no longer in the community (left, removed, account deleted).

        Discord: GET guild member answers Unknown Member (no privileged intent needed); Slack:
        users.info says deleted, or user_not_found. An unsure answer (an outage) counts as still there.
        """
        ...

    async def create_event(self, community_external_id: str, event: EventSpec) -> str | None:
        """A native scheduled event; its id, or None where the platform has none (Slack)."""
        ...

    async def edit_event(self, community_external_id: str, event_id: str, event: EventSpec) -> bool:
        """Change a scheduled event; False when it is gone."""
        ...

    async def cancel_event(self, community_external_id: str, event_id: str) -> bool:
        """Cancel a scheduled event (members who were interested see it cancelled); False when gone."""
        ...
