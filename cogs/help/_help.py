"""The help card: every command the caller may use, moderator commands only for moderators."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.cards import Card, Field
from bot.features import CommandSpec
from bot.i18n import Catalog

FIELD_MAX = 1024  # Discord's field value; a longer list goes on in a field of the same heading


def _fields(heading: str, lines: list[str]) -> list[Field]:
    """`lines` under `heading`, in as many fields as it takes, never cutting a line."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        if chunks[-1] and len("\n".join([*chunks[-1], line])) > FIELD_MAX:
            chunks.append([])
        chunks[-1].append(line)
    return [Field(heading, "\n".join(chunk)) for chunk in chunks]


def help_card(
    catalog: Catalog,
    locale: str,
    commands: Iterable[CommandSpec],
    *,
    is_moderator: bool,
    invocation: Callable[[CommandSpec, str], str],
) -> Card:
    """The help card.

    `invocation(command, locale)` says how a command is typed there (`/aide`, `/collectif help`).
    """
    member_lines: list[str] = []
    moderator_lines: list[str] = []
    for command in commands:
        if command.moderator_only and not is_moderator:
            continue
        line = f"`{invocation(command, locale)}` — {catalog.t(locale, command.description_key)}"
        (moderator_lines if command.moderator_only else member_lines).append(line)
    fields = _fields(catalog.t(locale, "help.members_heading"), member_lines)
    if moderator_lines:
        fields += _fields(catalog.t(locale, "help.moderators_heading"), moderator_lines)
    return Card(
        title=catalog.t(locale, "help.title"),
        text=catalog.t(locale, "help.intro"),
        fields=tuple(fields),
        footer=catalog.t(locale, "help.footer"),
    )
