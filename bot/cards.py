"""Neutral cards returned by the use cases, rendered by bot.rendering for Discord and Slack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ActionStyle = Literal["primary", "secondary", "success", "danger", "link"]
ACTION_ID = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*(:[A-Za-z0-9_.\-]+)*$")


@dataclass(frozen=True)
class Action:
    """A button. `id` follows the `feature:verb:arg…` scheme (Discord custom_id, Slack action_id)."""

    id: str
    label: str
    style: ActionStyle = "secondary"
    url: str | None = None  # a link button when set

    def __post_init__(self) -> None:
        if not ACTION_ID.match(self.id) or len(self.id) > 100:
            raise ValueError(f"bad action id {self.id!r}")


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Card:
    """What a use case wants shown; already translated. User text inside stays plain text."""

    title: str
    text: str = ""
    fields: tuple[Field, ...] = ()
    footer: str = ""
    actions: tuple[Action, ...] = ()
    url: str | None = None
    color: int | None = None
    image_url: str | None = None


def action_id(feature: str, verb: str, *args: object) -> str:
    """Build an action id: action_id("afterwork", "rsvp", 42, "going") -> "afterwork:rsvp:42:going"."""
    return ":".join([feature, verb, *(str(a) for a in args)])


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis
