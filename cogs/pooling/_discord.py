"""/pool on Discord, and the card's Join / Leave / Close now / Cancel buttons, routed by id.

Every refusal is found by a read-only check and answered at once; only then is the interaction
deferred and the change written: Discord never waits on the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.cards import truncate
from bot.discord_bot.replies import send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.text import refuse_control_characters
from bot.usecase import run
from cogs.pooling import FEATURE, _ids
from cogs.pooling._form import MAX_TIERS_TEXT, MAX_TITLE, MAX_WHAT, PoolForm
from cogs.pooling._pools import (
    cancel_pool,
    check_answer,
    check_close,
    check_manage,
    check_pool,
    close_pool,
    create_pool,
    join_pool,
    leave_pool,
    where_options,
)

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}
OPTIONS = ("title", "what", "link", "tiers", "minimum", "deadline", "maximum", "where")
CHOICES_MAX = 25


def where_label(t: Any, locale: str, trade_name: str | None) -> str:
    if trade_name:
        return str(t(locale, "pooling.where.trade", name=trade_name))
    return str(t(locale, "pooling.where.pool"))


class Pooling(commands.Cog):
    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    @app_commands.command(**command_texts(SPECS["pool"]))
    @app_commands.guild_only()
    @app_commands.rename(**{name: locale_str(name, key=f"pooling.options.{name}") for name in OPTIONS})
    @app_commands.describe(**{name: keyed(f"pooling.options.{name}_description") for name in OPTIONS})
    async def pool(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, MAX_TITLE],
        what: app_commands.Range[str, 1, MAX_WHAT],
        link: app_commands.Range[str, 1, 500],
        tiers: app_commands.Range[str, 1, MAX_TIERS_TEXT],
        minimum: app_commands.Range[int, 1, 1000],
        deadline: app_commands.Range[str, 1, 40],
        maximum: app_commands.Range[int, 1, 1000] | None = None,
        where: app_commands.Range[str, 0, 100] | None = None,
    ) -> None:
        services = self.bot.services
        caller = await self.bot.caller(interaction)
        typed = {"title": title, "what": what, "link": link, "tiers": tiers, "deadline": deadline,
                 "where": where or ""}
        refuse_control_characters(typed)
        form = PoolForm(minimum=str(minimum), maximum="" if maximum is None else str(maximum), **typed)
        await run(services, caller, check_pool, form, write=False)  # refusals answered at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        created = await run(services, caller, create_pool, form)
        key = "pooling.created.posted" if created.posted else "pooling.created.not_posted"
        await send_text(interaction, self.t(caller.locale, key, channel=created.channel_id))

    @pool.autocomplete("where")
    async def where_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        caller = await self.bot.caller(interaction)
        options = await run(self.bot.services, caller, where_options, write=False)
        wanted = current.casefold()[:100]
        labelled = [(value, where_label(self.t, caller.locale, name)) for value, name, _ in options]
        return [
            app_commands.Choice(name=truncate(label, 100), value=value)
            for value, label in labelled if wanted in label.casefold()
        ][:CHOICES_MAX]

    # -- routed by id (cogs.pooling._ids) ------------------------------------------------------------

    async def on_join(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        pool_id = int(request.match["id"])
        await run(services, caller, check_answer, pool_id, write=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        joined = await run(services, caller, join_pool, pool_id)
        key = f"pooling.answered.{joined.status}" if joined.changed else "pooling.answered.unchanged"
        await send_text(interaction, self.t(caller.locale, key, position=joined.position or 0))

    async def on_leave(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        pool_id = int(request.match["id"])
        await run(services, caller, check_answer, pool_id, write=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        left = await run(services, caller, leave_pool, pool_id)
        key = "pooling.answered.left" if left.changed else "pooling.answered.not_in"
        await send_text(interaction, self.t(caller.locale, key))

    async def on_close(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        pool_id = int(request.match["id"])
        await run(services, caller, check_close, pool_id, write=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await run(services, caller, close_pool, pool_id)
        await send_text(interaction, self.t(caller.locale, "pooling.closed.done"))

    async def on_cancel(self, request: DiscordRequest) -> None:
        interaction, services = request.interaction, self.bot.services
        caller = await request.caller()
        pool_id = int(request.match["id"])
        await run(services, caller, check_manage, pool_id, write=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await run(services, caller, cancel_pool, pool_id)
        await send_text(interaction, self.t(caller.locale, "pooling.cancelled.done"))


async def setup(bot: CollectifBot) -> None:
    cog = Pooling(bot)
    await bot.add_cog(cog)
    bot.router.action(_ids.JOIN, cog.on_join)
    bot.router.action(_ids.LEAVE, cog.on_leave)
    bot.router.action(_ids.CLOSE, cog.on_close)
    bot.router.action(_ids.CANCEL, cog.on_cancel)
