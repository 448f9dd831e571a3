"""What members typed on Discord: command options and modal values, checked where they enter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.cards import truncate
from bot.rendering.discord import CardSelect
from bot.text import refuse_control_characters

OPTIONS_MAX, OPTION_LABEL_MAX, PLACEHOLDER_MAX = 25, 100, 150


def modal_values(data: dict[str, Any]) -> dict[str, str]:
    """custom_id -> value of every text input in a modal submission (action rows or labels).

    Raises InvalidInput naming the inputs whose text holds a control character.
    """
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "custom_id" in node and isinstance(node.get("value"), str):
                found[node["custom_id"]] = node["value"]
            for child in (node.get("components") or [], node.get("component")):
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data.get("components") or [])
    refuse_control_characters(found)
    return found


def option_values(data: dict[str, Any]) -> dict[str, Any]:
    """Name -> value of every option of a command interaction, subcommands flattened."""
    found: dict[str, Any] = {}

    def walk(options: list[dict[str, Any]]) -> None:
        for option in options:
            if "value" in option:
                found[str(option.get("name"))] = option["value"]
            walk(option.get("options") or [])

    walk(data.get("options") or [])
    return found


def form_select(
    custom_id: str,
    placeholder: str,
    choices: Sequence[tuple[str, str]],
    chosen: Sequence[str],
    *,
    min_values: int = 0,
    max_values: int = 1,
) -> CardSelect:
    """A select of a multi-step form (display only: its choices are routed by id, bot.router).

    Discord shows at most 25 options: chosen ones are kept first so a saved choice never vanishes.
    """
    ordered = [c for c in choices if c[0] in chosen] + [c for c in choices if c[0] not in chosen]
    kept = sorted(ordered[:OPTIONS_MAX], key=list(choices).index)
    options = [
        discord.SelectOption(label=truncate(label, OPTION_LABEL_MAX), value=value, default=value in chosen)
        for value, label in kept
    ]
    return CardSelect(
        custom_id=custom_id,
        placeholder=truncate(placeholder, PLACEHOLDER_MAX),
        options=options,
        min_values=min(min_values, len(options)),
        max_values=max(1, min(max_values, len(options))),
    )
