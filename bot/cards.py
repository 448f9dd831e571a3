"""Neutral cards returned by the use cases, rendered by bot.rendering for Discord and Slack."""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.formatting import format_date, format_datetime, format_relative, format_time

ActionStyle = Literal["primary", "secondary", "success", "danger", "link"]
TimeStyle = Literal["full", "short", "date", "time", "relative"]
ACTION_ID = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*(:[A-Za-z0-9_.\-]+)*$")
ID_MAX = 100  # Discord custom_id; Slack allows 255
OPTION_VALUE_MAX = 100  # Discord select option value; Slack allows 150
# A date inside card text: private-use delimiters that escaping leaves alone, expanded by each renderer.
# `when(…, locale=, timezone=)` adds both, for the plain text shown where no platform date can go.
WHEN = re.compile(
    "\ue000(-?[0-9]{1,12}):(full|short|date|time|relative)(?::([a-z]{2,3}):([A-Za-z0-9_+/-]{1,64}))?\ue001"
)
_WHEN_STYLES = ("full", "short", "date", "time", "relative")


def _check_id(kind: str, value: str) -> None:
    if not ACTION_ID.match(value) or len(value) > ID_MAX:
        raise ValueError(f"bad {kind} id {value!r}")


@dataclass(frozen=True)
class Action:
    """A button. `id` follows the `feature:verb:arg…` scheme (Discord custom_id, Slack action_id)."""

    id: str
    label: str
    style: ActionStyle = "secondary"
    url: str | None = None  # a link button when set

    def __post_init__(self) -> None:
        _check_id("action", self.id)


@dataclass(frozen=True)
class Option:
    """One choice of a Select: `value` comes back to the handler, `label` is shown."""

    value: str
    label: str
    description: str = ""
    default: bool = False  # shown as already chosen

    def __post_init__(self) -> None:
        if not self.value or len(self.value) > OPTION_VALUE_MAX:
            raise ValueError(f"bad option value {self.value!r}")


@dataclass(frozen=True)
class Select:
    """A select menu; `id` follows the action id scheme. Between min_values and max_values options are chosen.

    Renderers keep the first options a platform allows (Discord 25, Slack 100) and clamp the counts.
    """

    id: str
    options: tuple[Option, ...]
    placeholder: str = ""
    min_values: int = 1
    max_values: int = 1

    def __post_init__(self) -> None:
        _check_id("select", self.id)
        if not self.options:
            raise ValueError(f"select {self.id!r} has no option")
        if not 0 <= self.min_values <= self.max_values or self.max_values < 1:
            raise ValueError(f"select {self.id!r}: bad counts {self.min_values}..{self.max_values}")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a card (an .ics invitation, a JSON export)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Card:
    """What a use case wants shown; already translated. User text inside stays plain text.

    Dates go into `text` and field values through `when()`, so every reader sees their own local time.
    Attachments are sent with a new post or DM; an edit keeps the files first sent.
    """

    title: str
    text: str = ""
    fields: tuple[Field, ...] = ()
    footer: str = ""
    actions: tuple[Action, ...] = ()
    url: str | None = None
    color: int | None = None
    image_url: str | None = None
    selects: tuple[Select, ...] = ()
    attachments: tuple[Attachment, ...] = ()


FIELD_MAX = 1024  # a field's value: Discord's embed field (Slack's section fields allow 2000)


def fields_for(name: str, items: Sequence[str], sep: str = "\n", *,
               inline: bool = False) -> tuple[Field, ...]:
    """`items` joined by `sep` under `name`, over as many fields as FIELD_MAX needs, none lost.

    The next fields have no name: they read as the same list going on (Discord shows an empty
    heading, Slack none). Only an item longer than a field by itself is cut.
    """
    chunks: list[str] = []
    for item in items:
        item = truncate(item, FIELD_MAX)
        if chunks and len(chunks[-1]) + len(sep) + len(item) <= FIELD_MAX:
            chunks[-1] += sep + item
        else:
            chunks.append(item)
    return tuple(Field(name if i == 0 else "", chunk, inline) for i, chunk in enumerate(chunks))


def action_id(feature: str, verb: str, *args: object) -> str:
    """Build an action id: action_id("afterwork", "rsvp", 42, "going") -> "afterwork:rsvp:42:going"."""
    return ":".join([feature, verb, *(str(a) for a in args)])


def when(at: datetime, style: TimeStyle = "full", *, locale: str | None = None,
         timezone: str | None = None) -> str:
    """`at` as a piece of card text that each platform shows in the reader's own zone and language.

    full: "Thursday 4 December 2026 19:00"; short: "4 Dec 2026 19:00"; date; time; relative: "in 3 days".
    Titles, footers, labels and notification texts cannot carry platform dates: they show `plain_when`,
    in `timezone` and `locale` (the community's zone, the message's language) when given, else UTC.
    """
    if at.tzinfo is None:
        raise ValueError("when() needs a timezone-aware datetime")
    if style not in _WHEN_STYLES:
        raise ValueError(f"unknown time style {style!r}")
    where = f":{locale}:{timezone}" if locale and timezone else ""
    return f"\ue000{int(at.timestamp())}:{style}{where}\ue001"


def utc_text(timestamp: int, style: str) -> str:
    """The plain fallback of a `when()` told no zone: UTC, ISO-like, readable in any language."""
    try:
        at = datetime.fromtimestamp(timestamp, UTC)
    except (ValueError, OverflowError, OSError):  # out of datetime's range: not a date the bot wrote
        return str(timestamp)
    if style == "date":
        return at.strftime("%Y-%m-%d")
    if style == "time":
        return at.strftime("%H:%M UTC")
    return at.strftime("%Y-%m-%d %H:%M UTC")


def plain_when(timestamp: int, style: str, locale: str | None = None, timezone: str | None = None,
               now: datetime | None = None) -> str:
    """The plain text of a `when()`: "vendredi 4 décembre 2026, 19:00" in `timezone` and `locale`.

    Relative: "dans 3 jours" from `now` (the moment the text is sent: a notification is read then), so
    that "{relative} ({when})" does not say the date twice. Without a zone: `utc_text`.
    """
    if not (locale and timezone):
        return utc_text(timestamp, style)
    try:
        at = datetime.fromtimestamp(timestamp, UTC)
        if style == "relative":
            return format_relative(at, now or datetime.now(UTC), locale)
        if style == "date":
            return format_date(at.astimezone(ZoneInfo(timezone)).date(), locale)
        if style == "time":
            return format_time(at, timezone, locale)
        return format_datetime(at, timezone, locale, "full" if style == "full" else "medium")
    except (ValueError, OverflowError, OSError, LookupError):  # a date or zone the bot did not write
        return utc_text(timestamp, style)


def when_fallback(match: re.Match[str], now: datetime | None = None) -> str:
    """The plain text of one `WHEN` match."""
    return plain_when(int(match[1]), match[2], match[3], match[4], now)


def expand_when(text: str, markup: Callable[[int, str], str] | None = None) -> str:
    """`text` with each `when()` replaced by `markup(timestamp, style)`, or by its plain text."""
    if markup is None:
        return WHEN.sub(when_fallback, text)
    return WHEN.sub(lambda m: markup(int(m[1]), m[2]), text)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis


def card_to_data(card: Card) -> dict[str, Any]:
    """`card` as JSON-ready data (a job's payload); `card_from_data` gives it back."""
    data = dataclasses.asdict(card)
    data["attachments"] = [
        {**a, "content": base64.b64encode(a["content"]).decode("ascii")} for a in data["attachments"]
    ]
    return data


def card_from_data(data: dict[str, Any]) -> Card:
    """The card `card_to_data` wrote."""
    return Card(
        title=data["title"],
        text=data.get("text", ""),
        fields=tuple(Field(**f) for f in data.get("fields", ())),
        footer=data.get("footer", ""),
        actions=tuple(Action(**a) for a in data.get("actions", ())),
        url=data.get("url"),
        color=data.get("color"),
        image_url=data.get("image_url"),
        selects=tuple(
            Select(**{**s, "options": tuple(Option(**o) for o in s["options"])})
            for s in data.get("selects", ())
        ),
        attachments=tuple(
            Attachment(**{**a, "content": base64.b64decode(a["content"])})
            for a in data.get("attachments", ())
        ),
    )
