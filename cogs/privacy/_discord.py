"""/privacy export and /privacy delete on Discord (/confidentialite exporter | supprimer).

The export is an ephemeral message with the JSON file attached. Deletion asks first; the buttons
(`privacy:confirm:<member>`, `privacy:cancel:<member>`, cogs.privacy._ids) only work for the
member they were shown to. On confirm the buttons go away at once (no double click), the deletion
runs, and the outcome comes as a follow-up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.cards import Attachment
from bot.discord_bot.replies import send_card
from bot.discord_bot.translator import command_texts, keyed
from bot.rendering.discord import render_embed
from bot.usecase import run
from cogs.privacy import FEATURE, _ids
from cogs.privacy._privacy import (
    cancelled_card,
    confirm_card,
    delete_my_data,
    ensure_own,
    export_member_data,
    working_card,
)

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

PRIVACY = next(c for c in FEATURE.commands if c.name == "privacy")
NO_MENTIONS = discord.AllowedMentions.none()


def _subcommand(name: str) -> dict[str, Any]:
    return {"name": locale_str(name, key=f"privacy.commands.{name}.name"),
            "description": keyed(f"privacy.commands.{name}.description")}


async def on_delete_button(request: DiscordRequest) -> None:
    """Confirm or cancel: only for the member the question was shown to (ensure_own)."""
    interaction, services = request.interaction, request.services
    caller = await request.caller()
    member_id = int(request.match["member"])
    if request.match["verb"] == "cancel":
        card = cancelled_card(services.catalog, caller, member_id)
        await interaction.response.edit_message(embed=render_embed(card), view=None,
                                                allowed_mentions=NO_MENTIONS)
        return
    ensure_own(caller, member_id)
    await interaction.response.edit_message(embed=render_embed(working_card(services.catalog, caller)),
                                            view=None, allowed_mentions=NO_MENTIONS)
    done = (await run(services, caller, delete_my_data, member_id)).value
    if done is None:
        raise RuntimeError("privacy deletion failed (logged above); a retry resumes where it stopped")
    # Features and the runtime holding a member's data in memory (e.g. an unsent form draft) forget it too.
    request.bot.dispatch("member_data_deleted", caller.community_id, member_id)
    await send_card(interaction, done, ephemeral=True)


class Privacy(commands.Cog):
    privacy = app_commands.Group(**command_texts(PRIVACY))

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    @privacy.command(**_subcommand("export"))
    async def export(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        # Every feature's data, then a file: "thinking…" at once, the export as the follow-up.
        await interaction.response.defer(ephemeral=True, thinking=True)
        exported = await run(self.bot.services, caller, export_member_data, write=False)
        file = Attachment(exported.filename, exported.content, "application/json")
        await send_card(interaction, replace(exported.card, attachments=(file,)), ephemeral=True)

    @privacy.command(**_subcommand("delete"))
    async def delete(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, confirm_card(self.bot.services.catalog, caller), ephemeral=True)


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Privacy(bot))
    bot.router.action(_ids.DELETE, on_delete_button)
