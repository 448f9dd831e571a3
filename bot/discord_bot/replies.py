"""Answering an interaction once: the first answer is the response, any later one a follow-up.

An answer Discord no longer takes (the interaction expired: 10062; its follow-up token too, after
15 minutes: 50027), or refuses with a 5xx after discord.py's retries, goes to the member by DM
instead: what they did is never lost silently.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.cards import Card, truncate
from bot.rendering.discord import discord_text, render_card, render_files

log = logging.getLogger(__name__)
MESSAGE_MAX = 2000
UNKNOWN_INTERACTION, INVALID_WEBHOOK_TOKEN = 10062, 50027


def expired(error: BaseException) -> bool:
    """Discord no longer takes an answer to this interaction: expected after a slow step, not a bug."""
    return isinstance(error, discord.HTTPException) and error.code in (UNKNOWN_INTERACTION,
                                                                       INVALID_WEBHOOK_TOKEN)


async def send_card(interaction: discord.Interaction, card: Card, *, ephemeral: bool = True) -> None:
    """Show `card` to the user of `interaction` (ephemeral by default), its attachments as files."""
    embed, view = render_card(card)
    if card.attachments:
        await _send(interaction, embed=embed, view=view, ephemeral=ephemeral,
                    files=render_files(card.attachments))
    else:
        await _send(interaction, embed=embed, view=view, ephemeral=ephemeral)


async def send_text(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer with plain (already translated) text, cut to Discord's 2,000 characters."""
    await _send(interaction, content=truncate(discord_text(text), MESSAGE_MAX), ephemeral=ephemeral)


async def _send(
    interaction: discord.Interaction, *, view: discord.ui.View | None = None, **kwargs: Any
) -> None:
    # discord.py treats view=None as a view; leave it out instead.
    if view is not None:
        kwargs["view"] = view
    kwargs["allowed_mentions"] = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.HTTPException as error:
        if not (expired(error) or isinstance(error, discord.DiscordServerError)):
            raise
        why = f"expired ({error.code})" if expired(error) else f"refused by Discord ({error.status})"
        log.warning("interaction %s %s: answering by DM", interaction.id, why)
        kwargs.pop("ephemeral", None)
        try:
            await interaction.user.send(**kwargs)
        except discord.HTTPException as dm_error:  # DMs closed: nothing more to try
            log.warning("could not DM user %s either: %s", interaction.user.id, dm_error)
