"""Cards rendered as a Discord embed, a view of selects and buttons, and files, within Discord's limits.

Buttons and selects carry the card's id as their `custom_id` and have no callback of their own: a
click is routed by custom_id to the handler a feature registered (`bot.router`), so they keep
working after a restart. Views and modals come from `routed_view` / `routed_modal`, stopped before
they are sent, so discord.py keeps none of them in memory. Each select takes a whole row, before
the rows of buttons (5 rows in all).
Dates from `bot.cards.when` become `<t:UNIX:F>` markup where Discord renders it (description and
field values) and plain text elsewhere (title, footer, field names, labels): see `bot.cards.plain_when`.
Commands named in catalog texts are shown as Discord's slash commands (`bot.i18n.expand_commands`).
"""

from __future__ import annotations

import io
import re

import discord

from bot.cards import Action, Attachment, Card, Select, expand_when, truncate
from bot.i18n import expand_commands

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
SELECT_OPTIONS_MAX = 25
SELECT_PLACEHOLDER_MAX = 150
OPTION_LABEL_MAX = 100
OPTION_DESCRIPTION_MAX = 100
FILES_MAX = 10
EMPTY = "\u200b"  # Discord refuses empty field names and values
MIN_FIELD_VALUE = 16  # below this a cut field says nothing; drop it instead
MORE_ROOM = 8  # kept for the last field "…" / "+N" when fields are left out

_TIME_CODES = {"full": "F", "short": "f", "date": "D", "time": "t", "relative": "R"}
_CUT_MARKUP = re.compile(r"<t:[0-9:-]*[A-Za-z]?…$")  # a timestamp cut in half by a truncation

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def timestamp(unix: int, style: str) -> str:
    return f"<t:{unix}:{_TIME_CODES[style]}>"


def rich(text: str, limit: int) -> str:
    """Text where Discord renders markdown: dates as timestamps, never a timestamp cut in half."""
    return _CUT_MARKUP.sub("…", truncate(expand_when(discord_text(text), timestamp), limit))


def flat(text: str, limit: int) -> str:
    """Text Discord shows as is (titles, footers, labels): dates as plain text (`plain_when`)."""
    return truncate(expand_when(expand_commands(text, "discord")), limit)


# `[label](url)`: Discord shows `label` as a link to `url` in embeds and messages. Collectif's own texts
# never use one; in a member's text (a bio, a title, a display name) it made a link that reads as one
# site and opens another. Its brackets are escaped: the text shows as typed, the URL as itself.
_MASKED_LINK = re.compile(r"\[([^\[\]\n]{0,2000})\]\(")


def discord_text(text: str) -> str:
    """Text Discord renders as markdown (content, description, field): its commands, no masked link."""
    return _MASKED_LINK.sub(r"\\[\1\\](", expand_commands(text, "discord"))


class CardButton(discord.ui.Button):
    """A button that only displays: clicks go to the DynamicItem matching its custom_id.

    Not dispatchable, so discord.py does not store a view per sent message.
    """

    def is_dispatchable(self) -> bool:
        return False


class CardSelect(discord.ui.Select):
    """A select that only displays, like CardButton: choices go to the DynamicItem matching its id."""

    def is_dispatchable(self) -> bool:
        return False


def _web_url(url: str | None) -> str | None:
    """An http(s) URL Discord accepts, or None: any other scheme makes it refuse the whole message."""
    if not url or len(url) > URL_MAX or not url.startswith(("https://", "http://")):
        return None
    return url


def render_card(card: Card) -> tuple[discord.Embed, discord.ui.View | None]:
    """The embed and the components (None without actions or selects) showing `card`."""
    return render_embed(card), render_view(card.actions, card.selects)


def render_files(attachments: tuple[Attachment, ...]) -> list[discord.File]:
    """The card's files, as many as a message carries (fresh objects: a File is read once)."""
    return [discord.File(io.BytesIO(a.content), filename=a.filename) for a in attachments[:FILES_MAX]]


def render_embed(card: Card) -> discord.Embed:
    budget = EMBED_TOTAL_MAX
    title = flat(card.title, TITLE_MAX) or None
    budget -= len(title or "")
    footer = flat(card.footer, FOOTER_MAX)
    budget -= len(footer)
    reserve = MORE_ROOM if card.fields else 0  # room for the last "… +N" field, whatever comes before
    description = rich(card.text, min(DESCRIPTION_MAX, budget - reserve)) if card.text else None
    budget -= len(description or "")
    embed = discord.Embed(
        title=title,
        description=description,
        url=_web_url(card.url),
        colour=card.color,
    )
    # Past the field count or the embed's total, a last field says how many were left out (never silently).
    fit = card.fields if len(card.fields) <= FIELDS_MAX else card.fields[:FIELDS_MAX - 1]
    shown = 0
    for field in fit:
        name = flat(field.name, FIELD_NAME_MAX) or EMPTY
        room = min(FIELD_VALUE_MAX, budget - len(name) - MORE_ROOM)
        if room < min(MIN_FIELD_VALUE, len(field.value) or 1):
            break
        value = rich(field.value, room) or EMPTY
        embed.add_field(name=name, value=value, inline=field.inline)
        budget -= len(name) + len(value)
        shown += 1
    if shown < len(card.fields):
        embed.add_field(name="…", value=f"+{len(card.fields) - shown}", inline=False)
    if footer:
        embed.set_footer(text=footer)
    if _web_url(card.image_url):
        embed.set_image(url=card.image_url)
    return embed


def routed_view() -> discord.ui.View:
    """An empty view for components the router answers (`bot.router`), never kept by discord.py.

    discord.py keeps every unfinished view sent in an interaction's response: an ephemeral one gets
    a 15-minute timeout whose task holds it (and its items) in memory, even when none of its items
    is dispatchable. One per ephemeral card made the bot's memory grow by a fifth in the 5 minutes of
    `benchmarks.load`. A stopped view is sent the same way and not kept.
    """
    view = discord.ui.View(timeout=None)
    view.stop()
    return view


def routed_modal(title: str, custom_id: str) -> discord.ui.Modal:
    """A modal the router answers by `custom_id`, not kept by discord.py per member (see `routed_view`)."""
    modal = discord.ui.Modal(title=truncate(title, 45), custom_id=custom_id)
    modal.stop()
    return modal


def render_view(actions: tuple[Action, ...], selects: tuple[Select, ...] = ()) -> discord.ui.View | None:
    """One row per select, then rows of 5 buttons, 5 rows in all.

    Link buttons for actions with a URL; duplicate ids dropped.
    """
    if not actions and not selects:
        return None
    view = routed_view()
    seen: set[str] = set()
    row = 0
    for select in selects:
        if row >= ROWS_MAX:
            break
        if select.id in seen:
            continue
        seen.add(select.id)
        view.add_item(_select(select, row))
        row += 1
    buttons = 0
    for action in actions:
        if row + buttons // BUTTONS_PER_ROW >= ROWS_MAX:
            break
        label = flat(action.label, BUTTON_LABEL_MAX) or "…"
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
        button.row = row + buttons // BUTTONS_PER_ROW
        view.add_item(button)
        buttons += 1
    return view if view.children else None


def _select(select: Select, row: int) -> CardSelect:
    options = [
        discord.SelectOption(
            label=flat(o.label, OPTION_LABEL_MAX) or o.value,
            value=o.value,
            description=flat(o.description, OPTION_DESCRIPTION_MAX) or None,
            default=o.default,
        )
        for o in select.options[:SELECT_OPTIONS_MAX]
    ]
    most = min(select.max_values, len(options))
    return CardSelect(
        custom_id=select.id,
        placeholder=flat(select.placeholder, SELECT_PLACEHOLDER_MAX) or None,
        min_values=min(select.min_values, most),
        max_values=most,
        options=options,
        row=row,
    )
