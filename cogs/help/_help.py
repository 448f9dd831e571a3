"""The help card: every command the caller may use, moderator commands only for moderators."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.cards import Card, fields_for
from bot.features import CommandSpec
from bot.i18n import Catalog


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
    fields = list(fields_for(catalog.t(locale, "help.members_heading"), member_lines))
    if moderator_lines:
        fields += fields_for(catalog.t(locale, "help.moderators_heading"), moderator_lines)
    return Card(
        title=catalog.t(locale, "help.title"),
        text=catalog.t(locale, "help.intro"),
        fields=tuple(fields),
        footer=catalog.t(locale, "help.footer"),
    )
