"""Answering an interaction once: the first answer is the response, any later one a follow-up."""

from __future__ import annotations

from typing import Any

import discord

from bot.cards import Card, truncate
from bot.rendering.discord import render_card

MESSAGE_MAX = 2000


async def send_card(interaction: discord.Interaction, card: Card, *, ephemeral: bool = True) -> None:
    """Show `card` to the user of `interaction` (ephemeral by default)."""
    embed, view = render_card(card)
    await _send(interaction, embed=embed, view=view, ephemeral=ephemeral)


async def send_text(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer with plain (already translated) text, cut to Discord's 2,000 characters."""
    await _send(interaction, content=truncate(text, MESSAGE_MAX), ephemeral=ephemeral)


async def _send(
    interaction: discord.Interaction, *, view: discord.ui.View | None = None, **kwargs: Any
) -> None:
    # discord.py treats view=None as a view; leave it out instead.
    if view is not None:
        kwargs["view"] = view
    kwargs["allowed_mentions"] = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
