"""The Discord Notifier: post, edit, remove cards and DM members, mentions always disabled."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.cards import Card
from bot.notifier import Attachment, PostRef
from bot.rendering.discord import render_card

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot

log = logging.getLogger(__name__)
_GONE = (discord.NotFound, discord.Forbidden)


class DiscordNotifier:
    """Implements bot.notifier.Notifier on a running CollectifBot (channel ids are snowflakes)."""

    platform = "discord"

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def _channel(self, community_external_id: str, channel_id: str) -> discord.PartialMessageable | None:
        """The channel, if it may belong to this guild: a cached channel of another guild is refused."""
        try:
            cid, gid = int(channel_id), int(community_external_id)
        except ValueError:
            return None
        cached = self.bot.get_channel(cid)
        guild = getattr(cached, "guild", None)
        if guild is not None and guild.id != gid:
            log.warning("channel %s is not in guild %s: not posting there", cid, gid)
            return None
        return self.bot.get_partial_messageable(cid, guild_id=gid)

    def _content(self, card: Card, *, editing: bool) -> dict[str, Any]:
        embed, view = render_card(card)
        kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": discord.AllowedMentions.none()}
        if view is not None or editing:  # an edit without buttons removes the old ones
            kwargs["view"] = view
        return kwargs

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        channel = self._channel(community_external_id, channel_id)
        if channel is None:
            return None
        try:
            message = await channel.send(**self._content(card, editing=False))
        except _GONE as exc:
            log.info("cannot post in channel %s of guild %s: %s", channel_id, community_external_id, exc)
            return None
        return PostRef(str(message.channel.id), str(message.id))

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        channel = self._channel(community_external_id, ref.channel_id)
        if channel is None:
            return False
        try:
            await channel.get_partial_message(int(ref.message_id)).edit(**self._content(card, editing=True))
        except _GONE:
            return False
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        channel = self._channel(community_external_id, ref.channel_id)
        if channel is None:
            return False
        try:
            await channel.get_partial_message(int(ref.message_id)).delete()
        except _GONE:
            return False
        return True

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        try:
            user = self.bot.get_user(int(user_id)) or await self.bot.fetch_user(int(user_id))
            kwargs = self._content(card, editing=False)
            if attachment is not None:
                kwargs["file"] = discord.File(io.BytesIO(attachment.content), filename=attachment.filename)
            message = await user.send(**kwargs)
        except (*_GONE, discord.HTTPException) as exc:
            log.info("cannot DM user %s: %s", user_id, exc)
            return None
        return PostRef(str(message.channel.id), str(message.id))
