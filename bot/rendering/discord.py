"""Cards rendered as a Discord embed and a view of buttons, cut to Discord's limits instead of failing.

Buttons carry the card action id as their `custom_id` and have no callback of their own: a click
is routed by discord.py to the `DynamicItem` template a feature registered for that id (see
`CollectifBot.add_dynamic_items`), so buttons keep working after a restart and no view is kept in
memory per message.
"""

from __future__ import annotations

import discord

from bot.cards import Action, Card, truncate

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
ROWS_MAX = 5
BUTTONS_PER_ROW = 5
BUTTON_LABEL_MAX = 80
URL_MAX = 512
EMPTY = "\u200b"  # Discord refuses empty field names and values
MIN_FIELD_VALUE = 16  # below this a cut field says nothing; drop it instead

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class CardButton(discord.ui.Button):
    """A button that only displays: clicks go to the DynamicItem matching its custom_id.

    Not dispatchable, so discord.py does not store a view per sent message.
    """

    def is_dispatchable(self) -> bool:
        return False


def _web_url(url: str | None) -> str | None:
    """An http(s) URL Discord accepts, or None: any other scheme makes it refuse the whole message."""
    if not url or len(url) > URL_MAX or not url.startswith(("https://", "http://")):
        return None
    return url


def render_card(card: Card) -> tuple[discord.Embed, discord.ui.View | None]:
    """The embed and the buttons (None without actions) showing `card`, within Discord's limits."""
    return render_embed(card), render_view(card.actions)


def render_embed(card: Card) -> discord.Embed:
    budget = EMBED_TOTAL_MAX
    title = truncate(card.title, TITLE_MAX) or None
    budget -= len(title or "")
    footer = truncate(card.footer, FOOTER_MAX)
    budget -= len(footer)
    description = truncate(card.text, min(DESCRIPTION_MAX, budget)) if card.text else None
    budget -= len(description or "")
    embed = discord.Embed(
        title=title,
        description=description,
        url=_web_url(card.url),
        colour=card.color,
    )
    for field in card.fields[:FIELDS_MAX]:
        name = truncate(field.name, FIELD_NAME_MAX) or EMPTY
        room = min(FIELD_VALUE_MAX, budget - len(name))
        if room < min(MIN_FIELD_VALUE, len(field.value) or 1):
            break
        value = truncate(field.value, room) or EMPTY
        embed.add_field(name=name, value=value, inline=field.inline)
        budget -= len(name) + len(value)
    if footer:
        embed.set_footer(text=footer)
    if _web_url(card.image_url):
        embed.set_image(url=card.image_url)
    return embed


def render_view(actions: tuple[Action, ...]) -> discord.ui.View | None:
    """Up to 5 rows of 5 buttons; link buttons for actions with a URL; duplicate ids dropped."""
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for action in actions:
        if len(view.children) >= ROWS_MAX * BUTTONS_PER_ROW:
            break
        label = truncate(action.label, BUTTON_LABEL_MAX) or "…"
        if action.url:
            if _web_url(action.url) is None:
                continue
            button = CardButton(style=discord.ButtonStyle.link, label=label, url=action.url)
        else:
            if action.id in seen:
                continue
            seen.add(action.id)
            style = _STYLES.get(action.style, discord.ButtonStyle.secondary)
            button = CardButton(style=style, label=label, custom_id=action.id)
        view.add_item(button)
    return view if view.children else None
