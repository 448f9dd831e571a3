"""What an organizer types for an afterwork, read and checked: every problem named, nothing saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.community_time import MAX_DATE_TEXT, parse_date, parse_time
from bot.errors import InvalidInput
from bot.formatting import format_date
from bot.text import is_number, web_link
from cogs.afterworks._recurrence import posted_closed
from cogs.afterworks.models import KINDS, RULES

NONE = "none"  # no recurrence

MAX_TITLE = 100
MAX_PLACE = 200
MAX_LINK = 500
MAX_CITY = 100
MAX_DESCRIPTION = 1000
MAX_CAPACITY = 1000
DEFAULT_DURATION = 120
DURATIONS = (30, 60, 90, 120, 180, 240, 360, 480, 720, 1440)  # minutes: at most 24 h
CUTOFFS = (60, 180, 360, 720, 1440, 2880, 4320, 10080)  # answers close this long before (1 h to 7 days)
Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass
class AfterworkForm:
    """The typed values, as text (the draft kept between the form and its confirmation)."""

    title: str = ""
    when: str = ""
    duration: str = str(DEFAULT_DURATION)
    kind: str = "afterwork"
    where: str = ""
    city: str = ""
    capacity: str = ""
    description: str = ""
    cutoff: str = ""  # minutes before the start when answers close ("": at the start)
    recurrence: str = NONE  # none, weekly, biweekly, monthly (creation only: an edit changes one date)
    until: str = ""  # the series' last day, typed ("": no end)


@dataclass(frozen=True)
class Details:
    """A form read: times aware UTC, the place or the link, the capacity (None: no limit)."""

    title: str
    starts_at: datetime
    duration_minutes: int
    kind: str
    place: str
    link: str
    city: str
    capacity: int | None
    description: str
    wall_time: datetime  # the local time typed, naive (what the form shows it understood)
    cutoff_minutes: int | None = None
    recurrence: str = NONE
    until: date | None = None

    @property
    def closes_at(self) -> datetime:
        return self.starts_at - timedelta(minutes=self.cutoff_minutes or 0)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def wall_words(wall: datetime, timezone: str, locale: str) -> dict[str, str]:
    """A local time in words: {date: "jeudi 3 décembre 2026", time: "19:00", zone: "Paris"}."""
    return {
        "date": format_date(wall.date(), locale, "full"),
        "time": f"{wall:%H:%M}",
        "zone": timezone.rsplit("/", 1)[-1].replace("_", " "),
    }


def read_when(
    text: str, timezone: str, now: datetime, locale: str, kept: datetime | None = None
) -> tuple[datetime, datetime]:
    """(starts_at in UTC, the local wall time) or InvalidInput on `when` saying why, with an example.

    `kept`: an edit's saved start. Its local time, unchanged, is that same instant: one in the hour an
    autumn change repeats (a weekly series at 02:30) is not refused as happening twice.
    """
    text = text.strip()
    if len(text) > MAX_DATE_TEXT:
        raise InvalidInput({"when": ("afterworks.problems.when_too_long", {"max": MAX_DATE_TEXT})})
    typed = parse_time(text, timezone, now, locale) if text else None
    if typed is None:
        raise InvalidInput({"when": ("afterworks.problems.when_unreadable", {"text": text})})
    wall = typed.wall
    if typed.elapsed is not None:  # "dans 2 heures": an instant, even in an hour a change skips or repeats
        starts_at = typed.elapsed
    elif kept is not None and wall == kept.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, fold=0):
        starts_at = kept
    else:
        starts_at = wall_instant(wall, timezone, locale)
    if starts_at <= now:
        raise InvalidInput({"when": ("afterworks.problems.when_past", wall_words(wall, timezone, locale))})
    return starts_at, wall


def wall_instant(wall: datetime, timezone: str, locale: str) -> datetime:
    """A typed local time as aware UTC, or InvalidInput on `when` when it does not exist or happens twice.

    A daylight-saving change skips or repeats an hour: which time is meant, the organizer says.
    """
    zone = ZoneInfo(timezone)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Zoneinfo keeps a wall time in a gap as typed; one that happens twice keeps its wall time too.
        exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
        key = "afterworks.problems.when_ambiguous" if exists else "afterworks.problems.when_missing"
        raise InvalidInput({"when": (key, wall_words(wall, timezone, locale))})
    return first.astimezone(UTC)


def read_where(text: str) -> tuple[str, str, Problems]:
    """(place, link, problems): a http(s) link, or an address; other schemes are refused."""
    text = " ".join(text.split())
    problems: Problems = {}
    if not text:
        return "", "", {"where": ("afterworks.problems.where_missing", {})}
    lower = text.lower()
    if not lower.startswith(("http://", "https://")) and (
        "://" in text or lower.startswith(("javascript:", "data:", "mailto:", "file:"))
    ):
        return "", "", {"where": ("afterworks.problems.link_scheme", {})}
    if text.lower().startswith(("http://", "https://")):
        if len(text) > MAX_LINK:
            problems["where"] = ("afterworks.problems.too_long", {"max": MAX_LINK, "length": len(text)})
        elif not web_link(text):
            problems["where"] = ("afterworks.problems.link_invalid", {})
        return "", text, problems
    if len(text) > MAX_PLACE:
        problems["where"] = ("afterworks.problems.too_long", {"max": MAX_PLACE, "length": len(text)})
    return text, "", problems


def read_capacity(text: str) -> tuple[int | None, Problems]:
    text = text.strip().replace(" ", "").replace("\u202f", "")
    if not text:
        return None, {}
    if not is_number(text) or len(text) > 6 or not 1 <= int(text) <= MAX_CAPACITY:
        return None, {"capacity": ("afterworks.problems.capacity", {"max": MAX_CAPACITY})}
    return int(text), {}


def validate(
    form: AfterworkForm, timezone: str, now: datetime, locale: str, *, kept_cutoff: int | None = None,
    closed: bool = False, series_rule: str | None = None, kept_start: datetime | None = None,
) -> Details:
    """The form read, or InvalidInput naming every field to fix (the platforms show them inline).

    `kept_cutoff`: an edit's saved cutoff (minutes); `closed`: its answers have closed already (the
    saved closing time passed). A kept cutoff of closed answers is not refused when it is still past
    (it moves with the time: answers stay closed; Discord's edit form has no cutoff field). Answers
    still open must not close at once: a new time or cutoff that would is refused (`cutoff_past`).
    `series_rule`: the rule of the series an edited date belongs to (its next dates copy its cutoff).
    `kept_start`: an edit's saved start, kept when its time is left as shown (`read_when`).
    """
    problems: Problems = {}
    title = " ".join(form.title.split())
    if not title:
        problems["title"] = ("afterworks.problems.title_missing", {})
    elif len(title) > MAX_TITLE:
        problems["title"] = ("afterworks.problems.too_long", {"max": MAX_TITLE, "length": len(title)})
    starts_at = wall = None
    try:
        starts_at, wall = read_when(form.when, timezone, now, locale, kept_start)
    except InvalidInput as error:
        problems.update(error.problems)
    duration = int(form.duration) if is_number(form.duration) and len(form.duration) < 6 else 0
    if duration not in DURATIONS:
        problems["duration"] = ("afterworks.problems.duration", {})
    if form.kind not in KINDS:
        problems["kind"] = ("afterworks.problems.kind", {})
    place, link, where_problems = read_where(form.where)
    problems.update(where_problems)
    city = " ".join(form.city.split())
    if len(city) > MAX_CITY:
        problems["city"] = ("afterworks.problems.too_long", {"max": MAX_CITY, "length": len(city)})
    capacity, capacity_problems = read_capacity(form.capacity)
    problems.update(capacity_problems)
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = (
            "afterworks.problems.too_long",
            {"max": MAX_DESCRIPTION, "length": len(description)},
        )
    until = read_until(form, wall, timezone, now, locale, problems)
    cutoff = read_cutoff(form.cutoff, problems)
    rule = form.recurrence if form.recurrence in RULES else series_rule
    kept = cutoff == kept_cutoff
    if cutoff is not None and not (kept and closed):
        closes_at = None if starts_at is None else starts_at - timedelta(minutes=cutoff)
        if closes_at is not None and closes_at <= now:
            closes = closes_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
            problems["cutoff"] = ("afterworks.problems.cutoff_past", wall_words(closes, timezone, locale))
        elif (not kept and rule in RULES and duration in DURATIONS
              and posted_closed(str(rule), duration, cutoff)):
            problems["cutoff"] = ("afterworks.problems.cutoff_series", {})
    if problems:
        raise InvalidInput(problems)
    assert starts_at is not None
    assert wall is not None
    return Details(
        title,
        starts_at,
        duration,
        form.kind,
        place,
        link,
        city,
        capacity,
        description,
        wall,
        cutoff,
        form.recurrence,
        until,
    )


def read_until(
    form: AfterworkForm, wall: datetime | None, timezone: str, now: datetime, locale: str, problems: Problems
) -> date | None:
    """The recurrence is one of RULES (or none); its optional last day, not before the first date."""
    if form.recurrence != NONE and form.recurrence not in RULES:
        problems["recurrence"] = ("afterworks.problems.recurrence", {})
        return None
    text = " ".join(form.until.split())
    if not text:
        return None
    if form.recurrence == NONE:
        problems["until"] = ("afterworks.problems.until_without_recurrence", {})
        return None
    if len(text) > MAX_DATE_TEXT:
        problems["until"] = ("afterworks.problems.too_long", {"max": MAX_DATE_TEXT, "length": len(text)})
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    until = parse_date(text, today, locale)
    if until is None:
        problems["until"] = ("afterworks.problems.until_unreadable", {"text": text})
    elif wall is not None and until < wall.date():
        problems["until"] = ("afterworks.problems.until_before", {"date": format_date(until, locale, "full")})
    return until


def read_cutoff(text: str, problems: Problems) -> int | None:
    """Minutes before the start when answers close (one of CUTOFFS), None: at the start."""
    text = text.strip()
    if not text or text == "0":
        return None
    if is_number(text) and len(text) < 6 and int(text) in CUTOFFS:
        return int(text)
    problems["cutoff"] = ("afterworks.problems.cutoff", {})
    return None
