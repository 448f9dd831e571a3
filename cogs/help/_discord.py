"""/help on Discord (/aide in French): the commands the caller may use, as an ephemeral card."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot.replies import send_card
from bot.discord_bot.translator import DISCORD_LOCALES, command_texts
from bot.features import CommandSpec
from cogs.help import FEATURE
from cogs.help._help import help_card

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot

HELP = next(c for c in FEATURE.commands if c.name == "help")


class Help(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def invocation(self, command: CommandSpec, locale: str) -> str:
        """How the user types it: Discord shows the localized command name."""
        return "/" + self.bot.services.t(locale, command.name_key)

    @app_commands.command(**command_texts(HELP))
    async def help(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        services = self.bot.services
        # The names the member's command picker shows: their Discord's language if Collectif names its
        # commands in it, else the default (English) ones, whatever the language of the help's text.
        names = DISCORD_LOCALES.get(interaction.locale, "en")
        card = help_card(
            services.catalog,
            caller.locale,
            services.commands,
            is_moderator=caller.is_moderator,
            invocation=lambda command, _locale: self.invocation(command, names),
        )
        await send_card(interaction, card, ephemeral=True)


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Help(bot))
