"""The notifier port: how use cases and the scheduler post, edit, remove and DM, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.cards import Card


@dataclass(frozen=True)
class PostRef:
    """Where a message lives on its platform."""

    channel_id: str
    message_id: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


class Notifier(Protocol):
    """One per platform (and per Slack workspace token); built by the platform runtime.

    Every method sends user text with mentions disabled (Discord AllowedMentions.none(), Slack
    text escaped). Methods raise nothing for a message or channel that is gone: they return None/False.
    """

    platform: str

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        """Post a card in a channel; None when the channel is unknown or not writable."""
        ...

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        """Replace a posted card; False when the message is gone."""
        ...

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        """Remove a posted message; False when it was already gone."""
        ...

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        """Send a direct message to a member; None when DMs are closed."""
        ...
