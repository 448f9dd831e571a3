"""Discord side of the probe feature (tests only)."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import Action, Card, action_id
from bot.discord_bot.client import CollectifBot
from bot.discord_bot.replies import send_text
from bot.discord_bot.router import DiscordRequest
from bot.discord_bot.translator import command_texts
from bot.errors import InvalidInput, NotFound
from bot.rendering.discord import render_card
from tests.e2e.probe import FEATURE

SPECS = {c.name: c for c in FEATURE.commands}


async def on_ping(request: DiscordRequest) -> None:
    """A button that survives restarts: its state (n) is in its custom_id."""
    n = int(request.match["n"])
    if n == 0:
        raise NotFound()
    if n == 13:
        raise RuntimeError("unlucky button")
    caller = await request.caller()
    await send_text(request.interaction, request.services.t(caller.locale, "probe.pong", n=n))


def probe_form(t: Callable[..., str], locale: str) -> discord.ui.Modal:
    modal = discord.ui.Modal(title=t(locale, "probe.form_title"), custom_id="probe:form")
    modal.add_item(discord.ui.TextInput(label=t(locale, "probe.form_field"), custom_id="title"))
    modal.stop()  # routed by its custom_id: discord.py keeps nothing per user
    return modal


async def on_form(request: DiscordRequest) -> None:
    value = request.fields().get("title", "")
    if value == "boom":
        raise RuntimeError("form failed")
    caller = await request.caller()
    await send_text(request.interaction, request.services.t(caller.locale, "probe.received", value=value))


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
        await interaction.response.send_modal(probe_form(self.bot.services.t, caller.locale))  # type: ignore[attr-defined]

    @app_commands.command(**command_texts(SPECS["probe_admin"]))
    async def probe_admin(self, interaction: discord.Interaction) -> None:
        caller = await self.bot.caller(interaction)  # type: ignore[attr-defined]
        await send_text(interaction, self.bot.services.t(caller.locale, "probe.admin_ok"))  # type: ignore[attr-defined]


async def setup(bot: CollectifBot) -> None:
    await bot.add_cog(Probe(bot))
    bot.router.action(r"probe:ping:(?P<n>[0-9]{1,9})", on_ping)
    bot.router.modal(r"probe:form", on_form)
