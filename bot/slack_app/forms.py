"""Slack forms (modals) for every feature: inputs, selects and text fields within Block Kit's limits.

Each input's element has the action id `VALUE`, so the block id alone names the field: a form's
state reads `state["values"][block_id][VALUE]`, and an InvalidInput naming that block id shows its
problem under the field (`response_action: errors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.rendering.slack import plain

VALUE = "value"
LABEL_MAX, OPTION_MAX, OPTIONS_MAX, PLACEHOLDER_MAX = 2000, 75, 100, 150
INPUT_MAX = 3000  # a plain_text_input's max_length: Slack refuses the whole view above it


METADATA_MAX = 3000  # Slack's private_metadata limit


def parse_metadata(raw: str | None) -> dict[str, Any]:
    """A form's private_metadata as a dict, trusting nothing: anything unreadable is an empty dict.

    Each form then checks every value it reads from it (a forged id is checked like any other).
    """
    try:
        data = json.loads((raw or "{}")[:METADATA_MAX])
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, OPTION_MAX), "value": value}


def options(choices: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """(value, label) pairs as options, at most the 100 a select shows."""
    return [option(value, label) for value, label in list(choices)[:OPTIONS_MAX]]


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_MAX),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }


def select(kind: str, choices: Iterable[tuple[str, str]], chosen: Iterable[str] = (), **extra: Any
           ) -> dict[str, Any]:
    """A select element (`static_select`, `multi_static_select`, `checkboxes`, `radio_buttons`)."""
    shown = options(choices)
    element: dict[str, Any] = {"type": kind, "options": shown, **extra}
    wanted = set(chosen)
    initial = [o for o in shown if o["value"] in wanted]
    if initial and (kind.startswith("multi") or kind == "checkboxes"):
        element["initial_options"] = initial
    elif initial:
        element["initial_option"] = initial[0]
    return element


def text_input(max_length: int, *, value: str = "", multiline: bool = False, placeholder: str = ""
               ) -> dict[str, Any]:
    """A plain-text input of at most `max_length` characters (at most Slack's `INPUT_MAX`)."""
    max_length = min(max_length, INPUT_MAX)
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if value:
        element["initial_value"] = value[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder, PLACEHOLDER_MAX)
    return element
