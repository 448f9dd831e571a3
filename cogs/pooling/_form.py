"""What an organizer types for a group purchase, read and checked: every problem named, nothing saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.community_time import MAX_DATE_TEXT, community_today, parse_date, parse_datetime
from bot.errors import InvalidInput
from bot.text import web_link

MAX_TITLE = 100
MAX_WHAT = 1000
MAX_LINK = 500
MAX_TIERS_TEXT = 200
MAX_TIERS = 4
MAX_PEOPLE = 1000
MAX_PRICE_CENTS = 100_000_00
MAX_DAYS = 90
# A price as typed once spaces and the currency are gone: "15", "12.50" ("12,50" is read as "12.50").
_PRICE = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,2})?")
# A count of people: ASCII digits only ("²", on French keyboards, is isdigit() yet int("²") raises).
_COUNT = re.compile(r"[0-9]{1,4}")
_SEPARATORS = str.maketrans({"\n": ";", "/": ";", "|": ";"})
_IGNORED = " \u00a0\u202f€$£"
Problems = dict[str, tuple[str, dict[str, Any]]]
Tiers = tuple[tuple[int, int], ...]  # (from how many people, price per person in cents)


@dataclass
class PoolForm:
    """The typed values, as text (what both platforms' forms give)."""

    title: str = ""
    what: str = ""
    link: str = ""
    tiers: str = ""
    minimum: str = ""
    maximum: str = ""
    deadline: str = ""
    where: str = ""


@dataclass(frozen=True)
class Details:
    title: str
    what: str
    link: str
    tiers: Tiers
    minimum: int
    maximum: int | None
    deadline: datetime


def price_at(tiers: Tiers, count: int) -> int:
    """The price per person (cents) when `count` people are in (the first tier's below one)."""
    price = tiers[0][1]
    for start, cents in tiers:
        if count >= start:
            price = cents
    return price


def next_tier(tiers: Tiers, count: int) -> tuple[int, int] | None:
    """The next cheaper tier not reached yet (from, cents), or None at the best price."""
    return next(((start, cents) for start, cents in tiers if start > max(count, 1)), None)


def _count(text: str) -> int | None:
    text = text.strip()
    return int(text) if _COUNT.fullmatch(text) else None


def _price(text: str) -> int | None:
    cleaned = text.strip().strip(_IGNORED).upper().removesuffix("EUR").removesuffix("USD")
    cleaned = cleaned.removesuffix("CHF").removesuffix("CAD").removesuffix("GBP")
    cleaned = cleaned.strip(_IGNORED).replace(",", ".")
    for space in _IGNORED[:3]:
        cleaned = cleaned.replace(space, "")
    if not _PRICE.fullmatch(cleaned):
        return None
    cents = int(Decimal(cleaned) * 100)
    return cents if 0 < cents <= MAX_PRICE_CENTS else None


def read_tiers(text: str) -> tuple[Tiers, Problems]:
    """"1-4: 15; 5+: 10" (or "15" alone) as ((1, 1500), (5, 1000)); problems under `tiers`."""
    text = text.strip()
    if not text:
        return (), {"tiers": ("pooling.problems.tiers_missing", {})}
    if len(text) > MAX_TIERS_TEXT:
        return (), {"tiers": ("pooling.problems.too_long", {"max": MAX_TIERS_TEXT, "length": len(text)})}
    pieces = [p.strip() for p in text.translate(_SEPARATORS).split(";") if p.strip()]
    if not pieces:
        return (), {"tiers": ("pooling.problems.tiers_missing", {})}
    if len(pieces) > MAX_TIERS:
        return (), {"tiers": ("pooling.problems.tiers_too_many", {"max": MAX_TIERS})}
    tiers: list[tuple[int, int]] = []
    ends: list[int | None] = []
    for index, piece in enumerate(pieces):
        left, colon, right = piece.replace("=", ":").partition(":")
        if not colon:
            if index:  # only the first tier may omit "from how many"
                return (), {"tiers": ("pooling.problems.tiers_unreadable", {"text": piece[:40]})}
            left, right = "1", piece
        left = left.strip().removesuffix("+").strip()
        low_text, dash, high_text = left.partition("-")
        low, high = _count(low_text), _count(high_text) if dash else None
        if low is None or (dash and (high is None or high < low)):
            return (), {"tiers": ("pooling.problems.tiers_unreadable", {"text": piece[:40]})}
        cents = _price(right)
        if cents is None:
            return (), {"tiers": ("pooling.problems.tiers_price", {"text": right.strip()[:40]})}
        tiers.append((low, cents))
        ends.append(high)
    if tiers[0][0] != 1:
        return (), {"tiers": ("pooling.problems.tiers_first", {})}
    for (start, cents), (next_start, next_cents), end in zip(tiers, tiers[1:], ends, strict=False):
        if next_start <= start or (end is not None and end + 1 != next_start):
            return (), {"tiers": ("pooling.problems.tiers_order", {})}
        if next_cents >= cents:
            return (), {"tiers": ("pooling.problems.tiers_not_lower", {})}
    return tuple(tiers), {}


def read_link(text: str) -> tuple[str, Problems]:
    text = text.strip()
    if not text:
        return "", {"link": ("pooling.problems.link_missing", {})}
    if len(text) > MAX_LINK:
        return "", {"link": ("pooling.problems.too_long", {"max": MAX_LINK, "length": len(text)})}
    if not text.lower().startswith(("http://", "https://")):
        return "", {"link": ("pooling.problems.link_scheme", {})}
    if not web_link(text):
        return "", {"link": ("pooling.problems.link_invalid", {})}
    return text, {}


def read_people(text: str, name: str, *, optional: bool) -> tuple[int | None, Problems]:
    text = text.strip()
    if not text and optional:
        return None, {}
    value = _count(text)
    if value is None or not 1 <= value <= MAX_PEOPLE:
        return None, {name: (f"pooling.problems.{name}", {"max": MAX_PEOPLE})}
    return value, {}


def read_deadline(text: str, timezone: str, now: datetime, locale: str) -> tuple[datetime | None, Problems]:
    """A day and time ("2026-12-15 18:00", "vendredi 18h"), or a day (its end, 23:59 local)."""
    text = " ".join(text.split())
    if len(text) > MAX_DATE_TEXT:
        return None, {"deadline": ("pooling.problems.too_long", {"max": MAX_DATE_TEXT, "length": len(text)})}
    found = parse_datetime(text, timezone, now, locale) if text else None
    if found is None and text:
        day = parse_date(text, community_today(now, timezone), locale)
        if day is not None:
            found = datetime.combine(day, time(23, 59), ZoneInfo(timezone)).astimezone(UTC)
    if found is None:
        return None, {"deadline": ("pooling.problems.deadline_unreadable", {"text": text})}
    if found <= now:
        return None, {"deadline": ("pooling.problems.deadline_past", {})}
    if found > now + timedelta(days=MAX_DAYS):
        return None, {"deadline": ("pooling.problems.deadline_too_far", {"days": MAX_DAYS})}
    return found, {}


def validate(form: PoolForm, timezone: str, now: datetime, locale: str) -> Details:
    """The form read, or InvalidInput naming every field to fix."""
    problems: Problems = {}
    title = " ".join(form.title.split())
    if not title:
        problems["title"] = ("pooling.problems.title_missing", {})
    elif len(title) > MAX_TITLE:
        problems["title"] = ("pooling.problems.too_long", {"max": MAX_TITLE, "length": len(title)})
    what = form.what.strip()
    if not what:
        problems["what"] = ("pooling.problems.what_missing", {})
    elif len(what) > MAX_WHAT:
        problems["what"] = ("pooling.problems.too_long", {"max": MAX_WHAT, "length": len(what)})
    link, found = read_link(form.link)
    problems.update(found)
    tiers, found = read_tiers(form.tiers)
    problems.update(found)
    minimum, found = read_people(form.minimum, "minimum", optional=False)
    problems.update(found)
    maximum, found = read_people(form.maximum, "maximum", optional=True)
    problems.update(found)
    if minimum is not None and maximum is not None and minimum > maximum:
        problems["maximum"] = ("pooling.problems.minimum_above_maximum", {"minimum": minimum})
    elif tiers and maximum is not None and tiers[-1][0] > maximum:
        problems["tiers"] = ("pooling.problems.tiers_beyond_maximum", {"maximum": maximum})
    deadline, found = read_deadline(form.deadline, timezone, now, locale)
    problems.update(found)
    if problems:
        raise InvalidInput(problems)
    assert minimum is not None
    assert deadline is not None
    return Details(title, what, link, tiers, minimum, maximum, deadline)
