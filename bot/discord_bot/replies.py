"""Answering an interaction once: the first answer is the response, any later one a follow-up.

An answer Discord no longer takes (the interaction expired: 10062; its follow-up token too, after
15 minutes: 50027), or refuses with a 5xx after discord.py's retries, goes to the member by DM
instead: what they did is never lost silently. Its files are rendered again for the DM (a
`discord.File` is read once), and of its buttons only the links and those a feature routes in direct
messages are kept (the others are the server's: clicked in a DM they could only fail), with a line
saying so.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.cards import Attachment, Card, truncate
from bot.i18n import resolve_locale
from bot.rendering.discord import discord_text, render_card, render_files

log = logging.getLogger(__name__)
MESSAGE_MAX = 2000
UNKNOWN_INTERACTION, INVALID_WEBHOOK_TOKEN = 10062, 50027


def answer_locale(interaction: discord.Interaction) -> str:
    """The language to answer in: the caller's, else the user's Discord language, else the server's."""
    caller = interaction.extras.get("caller")
    if caller is not None:
        return str(caller.locale)
    services = getattr(interaction.client, "services", None)
    default = services.settings.community.locale if services else "en"
    guild_locale = interaction.guild_locale.value if interaction.guild_locale else None
    return resolve_locale(interaction.locale.value, resolve_locale(guild_locale, default))


def expired(error: BaseException) -> bool:
    """Discord no longer takes an answer to this interaction: expected after a slow step, not a bug."""
    return isinstance(error, discord.HTTPException) and error.code in (UNKNOWN_INTERACTION,
                                                                       INVALID_WEBHOOK_TOKEN)


async def send_card(interaction: discord.Interaction, card: Card, *, ephemeral: bool = True) -> None:
    """Show `card` to the user of `interaction` (ephemeral by default), its attachments as files."""
    embed, view = render_card(card)
    await _send(interaction, embed=embed, view=view, ephemeral=ephemeral, attachments=card.attachments)


async def send_text(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer with plain (already translated) text, cut to Discord's 2,000 characters."""
    await _send(interaction, content=truncate(discord_text(text), MESSAGE_MAX), ephemeral=ephemeral)


async def _send(
    interaction: discord.Interaction, *, view: discord.ui.View | None = None,
    attachments: tuple[Attachment, ...] = (), **kwargs: Any
) -> None:
    # discord.py treats view=None as a view; leave it out instead.
    if view is not None:
        kwargs["view"] = view
    if attachments:
        kwargs["files"] = render_files(attachments)
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
        if attachments:  # the refused request read its files to the end: new ones, from the start
            kwargs["files"] = render_files(attachments)
        if view is not None:
            _keep_dm_components(interaction, view, kwargs)
        try:
            await interaction.user.send(**kwargs)
        except (discord.HTTPException, discord.RateLimited) as dm_error:  # DMs closed: nothing more to try
            log.warning("could not DM user %s either: %s", interaction.user.id, dm_error)


def _keep_dm_components(
    interaction: discord.Interaction, view: discord.ui.View, kwargs: dict[str, Any]
) -> None:
    """The answer's components that work in a DM: links, and the ids a feature routes there (`dm=`).

    The others reach the bot without a guild, where they can only fail: left out, and a line tells the
    member to run the command again in the server to use them.
    """
    router = getattr(interaction.client, "router", None)
    dm_routes = list(getattr(router, "dm", {}))
    dropped = [item for item in view.children
               if not (isinstance(item, discord.ui.Button) and item.url)
               and not any(p.fullmatch(str(getattr(item, "custom_id", "") or "")) for p in dm_routes)]
    if not dropped:
        return
    for item in dropped:
        view.remove_item(item)
    if not view.children:
        kwargs.pop("view", None)
    services = interaction.client.services  # type: ignore[attr-defined]
    line = discord_text(services.t(answer_locale(interaction), "discord.buttons_in_server"))
    content = truncate(str(kwargs.get("content") or ""), MESSAGE_MAX - len(line) - 2)
    kwargs["content"] = f"{content}\n\n{line}" if content else line
