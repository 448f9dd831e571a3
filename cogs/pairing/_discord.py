"""/pairing on Discord (join, leave, snooze, avoid, unavoid, history, stats) and the pairing buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.discord_bot.replies import send_card, send_text
from bot.discord_bot.translator import command_texts, keyed
from bot.features import CommandSpec
from bot.usecase import run
from cogs.pairing import FEATURE, _ids
from cogs.pairing._pairing import (
    SNOOZE_MAX,
    SNOOZE_MIN,
    answer_checkin,
    avoid,
    history,
    set_opt_in,
    snooze,
    stats,
    unavoid,
)
from cogs.pairing._store import group_community as member_group

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Caller
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.router import DiscordRequest

SPECS = {c.name: c for c in FEATURE.commands}


def _sub(name: str) -> dict[str, Any]:
    return command_texts(CommandSpec(name, "pairing"))


class Pairing(commands.Cog):
    pairing = app_commands.Group(**command_texts(SPECS["pairing"]), guild_only=True)

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.bot.services.t(locale, key, **params)

    async def _opt(self, interaction: discord.Interaction, on: bool, caller: Caller | None = None) -> None:
        caller = caller or await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_text(interaction, await run(self.bot.services, caller, set_opt_in, on))

    @pairing.command(**_sub("join"))
    async def join(self, interaction: discord.Interaction) -> None:
        await self._opt(interaction, True)

    @pairing.command(**_sub("leave"))
    async def leave(self, interaction: discord.Interaction) -> None:
        await self._opt(interaction, False)

    @pairing.command(**_sub("snooze"))
    @app_commands.rename(rounds=locale_str("rounds", key="pairing.options.rounds"))
    @app_commands.describe(rounds=keyed("pairing.options.rounds_description"))
    async def snooze(
        self, interaction: discord.Interaction, rounds: app_commands.Range[int, 0, SNOOZE_MAX]
    ) -> None:
        caller = await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await run(self.bot.services, caller, snooze, rounds)
        key = "pairing.snooze.done" if done else "pairing.snooze.woken"
        await send_text(interaction, self.t(caller.locale, key, count=done, low=SNOOZE_MIN))

    @pairing.command(**_sub("avoid"))
    @app_commands.rename(member=locale_str("member", key="pairing.options.member"))
    @app_commands.describe(member=keyed("pairing.options.member_description"))
    async def avoid(self, interaction: discord.Interaction, member: discord.User) -> None:
        caller = await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        name = await run(self.bot.services, caller, avoid, str(member.id))
        await send_text(interaction, self.t(caller.locale, "pairing.avoid.added", name=name))

    @pairing.command(**_sub("unavoid"))
    @app_commands.rename(member=locale_str("member", key="pairing.options.member"))
    @app_commands.describe(member=keyed("pairing.options.member_description"))
    async def unavoid(self, interaction: discord.Interaction, member: discord.User) -> None:
        caller = await self.bot.caller(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        name = await run(self.bot.services, caller, unavoid, str(member.id))
        await send_text(interaction, self.t(caller.locale, "pairing.avoid.removed", name=name))

    @pairing.command(**_sub("history"))
    async def history(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, await run(self.bot.services, caller, history, write=False))

    @pairing.command(**_sub("stats"))
    async def stats(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)
        await send_card(interaction, await run(self.bot.services, caller, stats, write=False))

    # -- routed by id (cogs.pairing._ids) -------------------------------------------------------------

    async def on_opt(self, request: DiscordRequest) -> None:
        # request.caller(): in a DM, the group named by the button gives the community.
        await self._opt(request.interaction, request.match["choice"] == "in", await request.caller())

    async def on_checkin(self, request: DiscordRequest) -> None:
        caller = await request.caller()
        await request.interaction.response.defer(ephemeral=True, thinking=True)
        answer = await run(
            self.bot.services, caller, answer_checkin, int(request.match["id"]), request.match["answer"]
        )
        await send_text(request.interaction, self.t(caller.locale, f"pairing.checkin.thanks_{answer}"))


async def group_community(session: AsyncSession, match: re.Match[str], user_id: str) -> int | None:
    """A click on a group's card or check-in in a DM (no server there): the group's community.

    Only if this Discord user is in the group. The channel's "Pair me" names no group: none then.
    """
    return None if match["id"] is None else await member_group(session, "discord", int(match["id"]), user_id)


async def setup(bot: CollectifBot) -> None:
    cog = Pairing(bot)
    await bot.add_cog(cog)
    bot.router.action(_ids.OPT, cog.on_opt, dm=group_community)
    bot.router.action(_ids.CHECKIN, cog.on_checkin, dm=group_community)
