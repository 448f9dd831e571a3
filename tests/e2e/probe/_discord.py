"""Discord side of the probe feature (tests only)."""

from __future__ import annotations

import re
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import Action, Card, action_id
from bot.discord_bot.errors import CollectifModal, guarded
from bot.discord_bot.replies import send_text
from bot.discord_bot.translator import command_texts
from bot.errors import InvalidInput, NotFound
from bot.rendering.discord import render_card
from tests.e2e.probe import FEATURE

SPECS = {c.name: c for c in FEATURE.commands}


class PingButton(discord.ui.DynamicItem[discord.ui.Button], template=r"probe:ping:(?P<n>\d+)"):
    """A button that survives restarts: its state (n) is in its custom_id."""

    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=str(n), custom_id=action_id("probe", "ping", n)))
        self.n = n

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> PingButton:
        return cls(int(match["n"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        if self.n == 0:
            raise NotFound()
        if self.n == 13:
            raise RuntimeError("unlucky button")
        caller = await interaction.client.caller(interaction)  # type: ignore[attr-defined]
        await send_text(interaction, interaction.client.services.t(caller.locale, "probe.pong", n=self.n))  # type: ignore[attr-defined]


class ProbeForm(CollectifModal):
    def __init__(self, t: Callable[..., str], locale: str) -> None:
        super().__init__(title=t(locale, "probe.form_title"), custom_id="probe:form")
        self.t, self.locale = t, locale
        self.value = discord.ui.TextInput(label=t(locale, "probe.form_field"), custom_id="title")
        self.add_item(self.value)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if self.value.value == "boom":
            raise RuntimeError("form failed")
        await send_text(interaction, self.t(self.locale, "probe.received", value=self.value.value))


class Probe(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(**command_texts(SPECS["probe_boom"]))
    async def probe_boom(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @app_commands.command(**command_texts(SPECS["probe_oops"]))
    async def probe_oops(self, interaction: discord.Interaction) -> None:
        await self.bot.caller(interaction)  # type: ignore[attr-defined]
        raise InvalidInput({
            "title": ("probe.problems.title_missing", {}),
            "date": ("probe.problems.bad_date", {"value": "jeudi 45h"}),
        })

    @app_commands.command(**command_texts(SPECS["probe_late"]))
    async def probe_late(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise RuntimeError("failed after deferring")

    @app_commands.command(**command_texts(SPECS["probe_card"]))
    async def probe_card(self, interaction: discord.Interaction, n: int = 7) -> None:
        caller = await self.bot.caller(interaction)  # type: ignore[attr-defined]
        t = self.bot.services.t  # type: ignore[attr-defined]
        card = Card(title=t(caller.locale, "probe.card_title"), text="@everyone <@1> hi",
                    actions=(Action(action_id("probe", "ping", n), str(n), style="primary"),))
        embed, view = render_card(card)
        assert view is not None
        assert interaction.channel is not None
        await interaction.channel.send(content="@everyone", embed=embed, view=view)  # type: ignore[union-attr]
        await send_text(interaction, t(caller.locale, "probe.posted"))

    @app_commands.command(**command_texts(SPECS["probe_form"]))
    async def probe_form(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)  # type: ignore[attr-defined]
        await interaction.response.send_modal(ProbeForm(self.bot.services.t, caller.locale))  # type: ignore[attr-defined]

    @app_commands.command(**command_texts(SPECS["probe_admin"]))
    async def probe_admin(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)  # type: ignore[attr-defined]
        await send_text(interaction, self.bot.services.t(caller.locale, "probe.admin_ok"))  # type: ignore[attr-defined]


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Probe(bot))
    bot.add_dynamic_items(PingButton)
