"""Reminder offsets typed by people: "24h, 1h", "24 h, 1 h", "2d", "2 jours", "1h30", "30 min"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.i18n import Catalog

MIN_MINUTES = 5
MAX_MINUTES = 14 * 24 * 60
MAX_OFFSETS = 5
MAX_TEXT = 200  # "24 heures, 2 jours, 1 h 30, 30 minutes et 1 semaine" is 52: bounded before parsing

_UNITS: dict[str, int] = {
    **dict.fromkeys(("m", "mn", "min", "mins", "minute", "minutes"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "heure", "heures"), 60),
    **dict.fromkeys(("d", "j", "day", "days", "jour", "jours"), 1440),
    **dict.fromkeys(("w", "wk", "week", "weeks", "sem", "semaine", "semaines"), 10080),
}
# One "number, unit" step, matched at a position: digits, letters and spaces are disjoint classes,
# so it cannot backtrack; the item is read step by step (a repeated group over the same classes,
# `(\s*\d+\s*\w*\s*)+`, backtracks exponentially: 27 digits and a "!" froze the loop for 10 s).
_STEP = re.compile(r"\s*(\d{1,9})\s*([^\W\d_]{0,20})\s*")
_SEPARATORS = re.compile(r"[,;\n]|\bet\b|\band\b")


@dataclass
class OffsetError(Exception):
    """Why a text is not a list of offsets: a catalog key and its values."""

    key: str
    params: dict[str, Any]


def _steps(item: str) -> list[tuple[str, str]]:
    steps, position = [], 0
    while position < len(item):
        step = _STEP.match(item, position)
        if step is None or step.end() == position:
            raise OffsetError("config.errors.offset_unreadable", {"item": item.strip()[:40]})
        steps.append((step[1], step[2]))
        position = step.end()
    return steps


def _item_minutes(item: str) -> int:
    total, previous = 0, 0
    for number, unit in _steps(item):
        unit = unit.casefold()
        if not unit:
            if previous != 60:  # only "1h30" may leave its minutes unnamed
                raise OffsetError("config.errors.offset_no_unit", {"item": item.strip()})
            factor = 1
        elif unit in _UNITS:
            factor = _UNITS[unit]
        else:
            raise OffsetError("config.errors.offset_unit", {"item": item.strip(), "unit": unit})
        total += int(number) * factor
        previous = factor
    return total


def parse_offsets(text: str) -> list[int]:
    """Minutes before the event, largest first; raises OffsetError saying what is wrong."""
    if len(text) > MAX_TEXT:
        raise OffsetError("config.errors.offsets_too_long", {"max": MAX_TEXT})
    items = [item for item in _SEPARATORS.split(text) if item.strip()]
    if not items:
        raise OffsetError("config.errors.offsets_empty", {})
    minutes = sorted({_item_minutes(item) for item in items}, reverse=True)
    if len(minutes) > MAX_OFFSETS:
        raise OffsetError("config.errors.offsets_count", {"max": MAX_OFFSETS})
    for value in minutes:
        if not MIN_MINUTES <= value <= MAX_MINUTES:
            raise OffsetError(
                "config.errors.offset_range", {"min": MIN_MINUTES, "max_days": MAX_MINUTES // 1440}
            )
    return minutes


def parse_duration(text: str) -> int:
    """One delay in minutes ("48h", "2 jours", "1h30"); "0" alone is 0 (off, where a setting allows it)."""
    if len(text) > MAX_TEXT:
        raise OffsetError("config.errors.offsets_too_long", {"max": MAX_TEXT})
    if text.strip() == "0":
        return 0
    if not text.strip():
        raise OffsetError("config.errors.offset_unreadable", {"item": ""})
    return _item_minutes(text)


def compact(minutes: int) -> str:
    """A language-neutral form the parser reads back (exports): "2d", "24h", "1h30m", "30m"."""
    if minutes == 0:
        return "0"
    if minutes % 1440 == 0 and minutes >= 2880:
        return f"{minutes // 1440}d"
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest}m"
    return f"{hours}h" if hours else f"{rest}m"


def format_offset(catalog: Catalog, locale: str, minutes: int) -> str:
    if minutes % 1440 == 0 and minutes >= 2880:
        return catalog.t(locale, "config.units.days", n=minutes // 1440)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return catalog.t(locale, "config.units.hours_minutes", h=hours, m=rest)
    if hours:
        return catalog.t(locale, "config.units.hours", n=hours)
    return catalog.t(locale, "config.units.minutes", n=rest)


def format_offsets(catalog: Catalog, locale: str, offsets: list[int]) -> str:
    return ", ".join(format_offset(catalog, locale, m) for m in offsets)
