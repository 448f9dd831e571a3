"""/members on Discord (/membres in French): filters with autocomplete, an ephemeral result card, paging.

Autocomplete answers from the domain providers directly (no defer is possible; they take
milliseconds). Previous / Next are routed by id (`directory:page:<n>:<token>`), so they keep
working after a restart; a click replaces the result card in place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.community_time import community_today
from bot.discord_bot.replies import send_card
from bot.discord_bot.translator import command_texts, keyed
from bot.rendering.discord import render_card
from bot.usecase import run
from cogs.directory import FEATURE, _ids
from cogs.directory._cards import results_card
from cogs.directory._complete import (
    Choice,
    available_choices,
    match_cities,
    match_skills,
    sector_choices,
    trade_choices,
)
from cogs.directory._filters import Filters
from cogs.directory._search import SearchPage, find_members, turn_page
from cogs.directory._values import VALUES

if TYPE_CHECKING:
    from bot.context import Caller
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

log = logging.getLogger(__name__)
MEMBERS = next(c for c in FEATURE.commands if c.name == "members")
OPTIONS = ("trade", "skill", "sector", "city", "work_mode", "available")


def _option_name(name: str) -> locale_str:
    return locale_str(name, key=f"directory.options.{name}")


async def on_page(request: DiscordRequest) -> None:
    """Previous / Next of a result card: the page and the stored search are in the custom_id."""
    caller = await request.caller()
    services = request.services

    async def respond(found: tuple[SearchPage, date]) -> None:
        embed, view = render_card(results_card(services.catalog, caller.locale, *found))
        await request.interaction.response.edit_message(embed=embed, view=view,
                                                        allowed_mentions=discord.AllowedMentions.none())

    token, page = request.match["token"], int(request.match["page"])
    await run(services, caller, turn_page, token, page, write=False, respond=respond)


class Directory(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    @app_commands.command(**command_texts(MEMBERS))
    @app_commands.rename(**{name: _option_name(name) for name in OPTIONS})
    @app_commands.describe(**{name: keyed(f"directory.options.{name}_description") for name in OPTIONS})
    @app_commands.choices(work_mode=[
        app_commands.Choice(name=keyed(f"directory.work_mode.{mode}"), value=mode)
        for mode in ("remote", "onsite", "hybrid")
    ])
    async def members(
        self,
        interaction: discord.Interaction,
        trade: str | None = None,
        skill: str | None = None,
        sector: str | None = None,
        city: str | None = None,
        work_mode: str | None = None,
        available: str | None = None,
    ) -> None:
        caller = await self.bot.caller(interaction)
        filters = Filters(trade=trade or "", skills=(skill,) if skill else (), sector=sector or "",
                          city=city or "", work_mode=work_mode or "", available=available or "")
        catalog = self.bot.services.catalog

        async def respond(found: tuple[SearchPage, date]) -> None:
            await send_card(interaction, results_card(catalog, caller.locale, *found), ephemeral=True)

        # Reads only: the answer goes out before the search is stored for paging.
        await run(self.bot.services, caller, find_members, filters, write=False, respond=respond)

    # -- autocomplete: never deferred, never raising (Discord shows "loading options failed") -----

    async def _choices(
        self, interaction: discord.Interaction, provider: Callable[[Caller], Awaitable[list[Choice]]]
    ) -> list[app_commands.Choice[str]]:
        try:
            caller = await self.bot.caller(interaction)
            found = await provider(caller)
        except Exception:
            log.exception("directory autocomplete failed in guild %s", interaction.guild_id)
            return []
        return [app_commands.Choice(name=c.name, value=c.value) for c in found]

    async def _in_session(self, call: Callable[[Any], Awaitable[list[Choice]]]) -> list[Choice]:
        async with self.bot.services.db.transaction(write=False) as session:
            return await call(session)

    @members.autocomplete("trade")
    async def trade_autocomplete(self, interaction: discord.Interaction, current: str
                                 ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, lambda c: self._in_session(
            lambda s: trade_choices(s, c.community_id, current)))

    @members.autocomplete("sector")
    async def sector_autocomplete(self, interaction: discord.Interaction, current: str
                                  ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, lambda c: self._in_session(
            lambda s: sector_choices(s, c.community_id, current)))

    @members.autocomplete("skill")
    async def skill_autocomplete(self, interaction: discord.Interaction, current: str
                                 ) -> list[app_commands.Choice[str]]:
        async def offer(caller: Caller) -> list[Choice]:  # from memory: no transaction per keystroke
            values = await VALUES.of(self.bot.services.db, caller.community_id)
            return match_skills(values.skills, caller.community_locale, current)

        return await self._choices(interaction, offer)

    @members.autocomplete("city")
    async def city_autocomplete(self, interaction: discord.Interaction, current: str
                                ) -> list[app_commands.Choice[str]]:
        async def offer(caller: Caller) -> list[Choice]:
            return match_cities((await VALUES.of(self.bot.services.db, caller.community_id)).cities, current)

        return await self._choices(interaction, offer)

    @members.autocomplete("available")
    async def available_autocomplete(self, interaction: discord.Interaction, current: str
                                     ) -> list[app_commands.Choice[str]]:
        services = self.bot.services

        async def offer(caller: Caller) -> list[Choice]:
            today = community_today(services.clock.now(), caller.timezone)
            return available_choices(services.catalog, caller.locale, current, today)

        return await self._choices(interaction, offer)


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Directory(bot))
    bot.router.action(_ids.PAGE, on_page)
