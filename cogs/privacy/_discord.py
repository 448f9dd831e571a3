"""/privacy export and /privacy delete on Discord (/confidentialite exporter | supprimer).

The export is an ephemeral message with the JSON file attached. Deletion asks first; the buttons
(`privacy:confirm:<member>`, `privacy:cancel:<member>`) are DynamicItems and only work for the
member they were shown to. On confirm the buttons go away at once (no double click), the deletion
runs, and the outcome comes as a follow-up.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.discord_bot.errors import guarded
from bot.discord_bot.replies import send_card
from bot.discord_bot.translator import command_texts, keyed
from bot.rendering.discord import render_card, render_embed
from cogs.privacy import FEATURE
from cogs.privacy._privacy import (
    cancelled_card,
    confirm_card,
    delete_member_data,
    ensure_own,
    export_member_data,
    working_card,
)

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot

PRIVACY = next(c for c in FEATURE.commands if c.name == "privacy")
NO_MENTIONS = discord.AllowedMentions.none()


def _subcommand(name: str) -> dict[str, Any]:
    return {"name": locale_str(name, key=f"privacy.commands.{name}.name"),
            "description": keyed(f"privacy.commands.{name}.description")}


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"privacy:(?P<verb>confirm|cancel):(?P<member>[0-9]{1,18})",
):
    def __init__(self, verb: str, member_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=f"privacy:{verb}:{member_id}"))
        self.verb, self.member_id = verb, member_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DeleteButton:
        return cls(match["verb"], int(match["member"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        bot: CollectifBot = interaction.client  # type: ignore[assignment]
        services = bot.services
        caller = await bot.caller(interaction)
        if self.verb == "cancel":
            card = cancelled_card(services.catalog, caller, self.member_id)
            await interaction.response.edit_message(embed=render_embed(card), view=None,
                                                    allowed_mentions=NO_MENTIONS)
            return
        ensure_own(caller, self.member_id)
        await interaction.response.edit_message(embed=render_embed(working_card(services.catalog, caller)),
                                                view=None, allowed_mentions=NO_MENTIONS)
        done = await delete_member_data(services, caller, self.member_id)
        # Features holding a member's data in memory (e.g. an unsent form draft) forget it too.
        bot.dispatch("member_data_deleted", caller.community_id, self.member_id)
        await send_card(interaction, done, ephemeral=True)


class Privacy(commands.Cog):
    privacy = app_commands.Group(**command_texts(PRIVACY))

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    @privacy.command(**_subcommand("export"))
    async def export(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        exported = await export_member_data(self.bot.services, caller)
        embed, _ = render_card(exported.card)
        file = discord.File(io.BytesIO(exported.content), filename=exported.filename)
        await interaction.response.send_message(embed=embed, file=file, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)

    @privacy.command(**_subcommand("delete"))
    async def delete(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, confirm_card(self.bot.services.catalog, caller), ephemeral=True)


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Privacy(bot))
    bot.add_dynamic_items(DeleteButton)
