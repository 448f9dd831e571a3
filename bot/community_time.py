"""The community's calendar: today in its zone, and dates and times typed in French or English.

Inside the bot time is aware UTC; a community's zone matters only here, at the edges. Typed text is
read with dateparser restricted to fr and en, after the exact formats members already use (ISO,
15/01/2027, 15/01) so those never depend on a language guess.

Daylight saving (RFC 5545 §3.3.5, the rule calendars and `.ics` files follow): a wall time that
happens twice (Europe/Paris, last Sunday of October, 02:30) is the first one, still in summer time;
a wall time that does not exist (last Sunday of March, 02:30) is read with the offset before the
gap, i.e. it is 03:30 summer time. Python's zoneinfo with `fold=0` gives exactly that. A duration from
now ("dans 2 heures", "in 90 minutes") is real elapsed time, not the clock face: typed at 01:30 on the
spring change night, "dans 1 heure" is 03:30 summer time.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

LOCALES = ("fr", "en")
MAX_DATE_TEXT = 40  # "mardi 15 décembre 2026 à 19h30" is 30: bounded before parsing
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?")
# French writes hours "19h", "19 h 30", "19 heures": dateparser reads "19:30" ("19 heures" it reads as a
# duration: "demain 19 heures" was tomorrow plus 19 hours). After "dans", "in", "d'ici" or "il y a" the
# same words are a duration ("dans 1h30"), written out as one: "dans 1 heures 30 minutes". One optional
# group of fixed words before a bounded number: linear.
_FRENCH_HOUR = re.compile(
    r"\b(?:(dans|in|d'ici|d’ici|il y a) )?(\d{1,2}) ?(?:heures?|h) ?(\d{2})?\b", re.IGNORECASE
)
# "lundi prochain" is the next Monday, which a bare weekday already means with future dates preferred.
_NEXT_WEEKDAY = re.compile(
    r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) prochaine?\b", re.IGNORECASE
)
# "ce soir 19h" is today at 19:00, "demain soir 19h" tomorrow: the part of the day only says when the
# typed hour falls, which dateparser does not read in French ("tonight" and "this evening" it does).
_THIS_PART = re.compile(r"\b(?:ce|cet) (?:soir|matin|midi|après-midi|apres-midi|aprem)\b", re.IGNORECASE)
_PART = re.compile(r"\b(?:soir|matin|après-midi|apres-midi|aprem)\b", re.IGNORECASE)
_CLOCK = re.compile(r"\d:\d\d|\d ?[ap]\.?m\b", re.IGNORECASE)  # an hour typed (after _FRENCH_HOUR)
# "à partir du 15 janvier", "dès le 15/01", "from 2027-01-15": a start date says "from" before the day,
# which the exact formats and dateparser's French do not read ("from January 15" it does). Anchored,
# one alternation of fixed words: linear.
_FROM_WORDS = re.compile(
    r"^(?:(?:à|a) partir (?:du |de |d'|d’)|(?:dès|des) (?:le |l'|l’)?|(?:du|le|starting|from|as of) "
    r"(?:from |on )?)",
    re.IGNORECASE,
)


def local_date(when: datetime, timezone: str) -> date:
    """The date `when` (aware) falls on in `timezone`."""
    return when.astimezone(ZoneInfo(timezone)).date()


def community_today(now: datetime, timezone: str) -> date:
    """Today where the community lives: "available now", "today" and typed dates are local notions."""
    return local_date(now, timezone)


def parse_date(text: str, today: date, locale: str = "fr") -> date | None:
    """A typed day, or None.

    Read: "2027-01-15", "15/01/2027", "15.01.27", "15/01" (the next such day), and natural dates
    such as "15 janvier", "next monday", "lundi prochain", "dans 2 semaines", "demain"; a leading
    "à partir du", "dès le" or "from" is read as said around a start date and skipped.

    `today` is the community's; a day without a year is the next one to come (today included).
    Past dates are returned as typed: refusing them is the caller's rule.
    """
    text = " ".join(text.split())
    if not text or len(text) > MAX_DATE_TEXT:
        return None
    text = _FROM_WORDS.sub("", text, count=1)
    if not text or _lone_number(text):  # "2" (or "²", "١٢") is no date, though dateparser reads one
        return None
    exact = _exact_date(text, today)
    if exact is not False:
        return exact
    found = _parse(text, datetime(today.year, today.month, today.day, 12), "UTC", locale)
    return found[0].date() if found else None


def _lone_number(text: str) -> bool:
    """Digits of any script and nothing else ("2", "²", "１２"): no date, though dateparser reads one."""
    return all(unicodedata.category(c).startswith("N") for c in text)


def parse_datetime(text: str, timezone: str, now: datetime, locale: str = "fr") -> datetime | None:
    """A typed day and time ("jeudi 19h", "2026-12-04 19:00", "tomorrow 7pm") as aware UTC, or None.

    Read in the community's `timezone` relative to `now` (aware); a day without a time is None (an
    event needs its hour). Daylight saving follows RFC 5545, and a duration from now is elapsed time
    (see the module's docstring). Refusing the past is the caller's rule.
    """
    typed = parse_time(text, timezone, now, locale)
    if typed is None:
        return None
    return typed.elapsed or typed.wall.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(UTC)


class TypedTime(NamedTuple):
    """A typed day and time: the local wall time read, and the instant when it was a duration from now."""

    wall: datetime  # naive, in the community's zone
    elapsed: datetime | None  # aware UTC, for "dans 2 heures": the wall time is then that instant's


# How far back the base is moved to tell a duration from now: a reading that moves with it counts from now.
_MOVED = timedelta(minutes=1)


def parse_time(text: str, timezone: str, now: datetime, locale: str = "fr") -> TypedTime | None:
    """What `parse_datetime` reads, as the naive wall time typed, before any daylight-saving rule.

    For a caller that refuses a local time which does not exist or happens twice instead of
    applying RFC 5545's choice. A duration from now ("dans 2 heures", "in 90 minutes") is the instant
    that much real time later (`elapsed`), which is neither, and its wall time.
    """
    text = " ".join(text.split())
    if not text or len(text) > MAX_DATE_TEXT or _lone_number(text):
        return None
    zone = ZoneInfo(timezone)
    base = now.astimezone(zone).replace(tzinfo=None)
    found = _parse(text, base, timezone, locale)
    if found is None or found[1] != "time":
        return None
    wall = found[0]
    # dateparser adds a duration to the base's wall time, which a daylight-saving night skips or repeats an
    # hour of. Whatever the words ("dans une heure", "in 90 mins", "d'ici 2h"), a reading that moves with
    # the clock time it is read at was counted from now; "demain 19h" or "jeudi 19h" does not move.
    moved = _parse(text, base - _MOVED, timezone, locale)
    if moved is None or wall - moved[0] != _MOVED:
        return TypedTime(wall, None)
    elapsed = now.astimezone(UTC) + (wall - base)
    return TypedTime(elapsed.astimezone(zone).replace(tzinfo=None), elapsed)


def _exact_date(text: str, today: date) -> date | Literal[False] | None:
    """A date in the formats read without dateparser; None: no such day; False: not these formats."""
    try:
        if iso := _ISO.fullmatch(text):
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if parts := _NUMERIC.fullmatch(text):
            day, month = int(parts[1]), int(parts[2])
            if parts[3]:
                year = int(parts[3])
                return date(year + 2000 if year < 100 else year, month, day)
            guess = date(today.year, month, day)
            return guess if guess >= today else date(today.year + 1, month, day)
    except ValueError:
        return None
    return False


def _parse(text: str, base: datetime, timezone: str, locale: str) -> tuple[datetime, str] | None:
    """The dateparser reading of `text` as a naive wall time in `timezone`, with its precision."""
    # Imported here: dateparser adds about 12 MiB RSS at import (18 MiB after its first parse, measured).
    from dateparser.date import DateDataParser

    text = _NEXT_WEEKDAY.sub(r"\1", _FRENCH_HOUR.sub(_hour, text))
    text = _without_day_parts(text)
    # The reader's language is tried first; both are always allowed.
    languages = sorted(LOCALES, key=lambda code: code != locale)
    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY",  # as the exact formats: 04/12 is the 4th of December in both languages
        "RELATIVE_BASE": base,
        "TIMEZONE": timezone,
        # Naive wall time: the zone is applied here with zoneinfo's documented DST rule, not pytz's.
        "RETURN_AS_TIMEZONE_AWARE": False,
        "RETURN_TIME_AS_PERIOD": True,
    }
    data = DateDataParser(languages=languages, settings=settings).get_date_data(text)
    if data.date_obj is None:
        return None
    # dateparser reports a relative day whose typed hour equals the base's ("dans 3 jours à 11h" read
    # at 11:00) as period "day"; the parts it read say a time was typed.
    if "time" in (getattr(data, "parts", None) or ()):
        return data.date_obj, "time"
    return data.date_obj, data.period or "day"


def _hour(typed: re.Match[str]) -> str:
    """A typed hour (see _FRENCH_HOUR) as dateparser reads it: a clock time, or after "dans" a duration."""
    before, hours, minutes = typed[1], typed[2], typed[3] or "00"
    if before is None:
        return f"{hours}:{minutes}"
    if before.lower() == "in":
        return f"{before} {hours} hours {minutes} minutes"
    return f"{before} {hours} heures {minutes} minutes"


def _without_day_parts(text: str) -> str:
    """French parts of the day read as dateparser understands them (see _THIS_PART)."""
    hour = _CLOCK.search(text) is not None

    def this(part: re.Match[str]) -> str:
        return "aujourd'hui midi" if part[0].lower().endswith("midi") and not hour else "aujourd'hui"

    text = _THIS_PART.sub(this, text)
    return " ".join((_PART.sub("", text) if hour else text).split())
