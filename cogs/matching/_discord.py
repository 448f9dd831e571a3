"""/match on Discord (/equipe in French): options with pack autocomplete, an ephemeral proposal, Invite."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.usecase import run
from cogs.matching import FEATURE, _ids
from cogs.matching._cards import answer_card, invited_text
from cogs.matching._invite import Invited, answer_invitation, invite_team
from cogs.matching._match import Answer, find_team, stored
from cogs.matching._request import MatchInput, pack_names
from cogs.matching._store import invitee_community
from storage.text import fold

if TYPE_CHECKING:
    import re

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

log = logging.getLogger(__name__)
MATCH = next(c for c in FEATURE.commands if c.name == "match")
OPTIONS = ("pack", "trades", "skills", "city", "remote", "available_by", "max_rate", "sector", "include_me",
           "note")
CHOICES_MAX = 25


def _option_name(name: str) -> locale_str:
    return locale_str(name, key=f"matching.options.{name}")


async def on_invite(request: DiscordRequest) -> None:
    """Invite this team: "thinking…" first (opening a thread takes a few calls), then the outcome."""
    caller = await request.caller()
    interaction = request.interaction
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    answered_at = interaction.message.created_at if interaction.message is not None else None
    # Clicked before its proposal was stored (by this process or another): waits for it.
    await stored(request.services, caller.community_id, request.match["token"], answered_at)
    invited: Invited = await run(request.services, caller, invite_team, request.match["token"],
                                 space_channel(interaction))
    await send_text(interaction, invited_text(request.services.catalog, caller.locale, invited))


def space_channel(interaction: discord.Interaction) -> str:
    """Where the team's private thread may open: the channel clicked in, or a thread's own channel.

    Discord refuses a thread inside a thread (50024): clicked in a thread, its parent channel.
    """
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id or "")
    return str(interaction.channel_id or "")


async def invitation_community(session: AsyncSession, match: re.Match[str], user_id: str) -> int | None:
    """Accept / Decline come from a DM (no guild): the invitation's community, if this user is its invitee."""
    return await invitee_community(session, "discord", int(match["id"]), user_id)


async def on_answer(request: DiscordRequest) -> None:
    """Accept / Decline in the invitation's DM (or anywhere the card is): only the invitee, once."""
    caller = await request.caller()
    interaction = request.interaction
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    text = await run(request.services, caller, answer_invitation, int(request.match["id"]),
                     request.match["choice"] == "accept")
    await send_text(interaction, text)


class Matching(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    @app_commands.command(**command_texts(MATCH))
    @app_commands.rename(**{name: _option_name(name) for name in OPTIONS})
    @app_commands.describe(**{name: keyed(f"matching.options.{name}_description") for name in OPTIONS})
    async def match(
        self,
        interaction: discord.Interaction,
        pack: str | None = None,
        trades: str | None = None,
        skills: str | None = None,
        city: str | None = None,
        remote: bool = False,
        available_by: str | None = None,
        max_rate: str | None = None,
        sector: str | None = None,
        include_me: bool = False,
        note: str | None = None,
    ) -> None:
        caller = await self.bot.caller(interaction)
        typed = MatchInput(pack=pack or "", trades=trades or "", skills=skills or "", city=city or "",
                           remote=remote, available_by=available_by or "", max_rate=max_rate or "",
                           sector=sector or "", include_me=include_me, note=note or "")
        catalog = self.bot.services.catalog

        async def respond(answer: Answer) -> None:
            await send_card(interaction, answer_card(catalog, caller.locale, answer), ephemeral=True)

        # Reads only: the proposal is stored (for Invite and rotation) after the answer went out.
        await run(self.bot.services, caller, find_team, typed, write=False, respond=respond)

    @match.autocomplete("pack")
    async def pack_autocomplete(self, interaction: discord.Interaction, current: str
                                ) -> list[app_commands.Choice[str]]:
        try:
            caller = await self.bot.caller(interaction)
            async with self.bot.services.db.transaction(write=False) as session:
                names = await pack_names(session, caller.community_id, caller.community_locale)
        except Exception:  # never raise: Discord would show "loading options failed"
            log.exception("matching pack autocomplete failed in guild %s", interaction.guild_id)
            return []
        typed = fold(current[:100])
        return [app_commands.Choice(name=n, value=n) for n in names if typed in fold(n)][:CHOICES_MAX]


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Matching(bot))
    bot.router.action(_ids.INVITE, on_invite)
    bot.router.action(_ids.ANSWER, on_answer, dm=invitation_community)
