"""What members typed on Discord: command options and modal values, checked where they enter."""

from __future__ import annotations

from typing import Any

from bot.text import refuse_control_characters


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
