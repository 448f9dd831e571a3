"""Recurring afterworks in local wall time: every week, every 2 weeks, every month on the nth weekday.

Occurrence k is computed from the first occurrence's wall time (never from the previous occurrence,
which an edit may have moved), then read in the series' zone: 19:00 Europe/Paris stays 19:00 local on
both sides of a daylight-saving change (UTC 18:00 in winter, 17:00 in summer). A wall time in a
daylight-saving gap follows RFC 5545, as bot.community_time does (zoneinfo's fold=0).

Monthly: the nth weekday of the first occurrence's month (1st to 4th). A first occurrence on a 5th
weekday (say the 5th Thursday, which most months lack) makes a series on the *last* such weekday of
each month: every month has one, and a 5th Thursday is always its month's last.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from cogs.afterworks.models import BIWEEKLY, MONTHLY, WEEKLY

LAST = -1
LEAD = timedelta(days=7)  # the next occurrence is posted at most this long before its answers close
# The shortest time between two dates of a rule (a month: 4 weeks, from one nth weekday to the next).
SHORTEST = {WEEKLY: timedelta(weeks=1), BIWEEKLY: timedelta(weeks=2), MONTHLY: timedelta(weeks=4)}


def nth_of(day: date) -> int:
    """The nth weekday of its month `day` is (1 to 4), or LAST for a 5th."""
    nth = (day.day - 1) // 7 + 1
    return LAST if nth == 5 else nth


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth `weekday` (Monday 0) of a month; LAST: its last one."""
    if nth == LAST:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def occurrence_wall(first: datetime, rule: str, nth: int | None, k: int) -> datetime:
    """The local wall time (naive) of occurrence k (0: the first)."""
    if rule == WEEKLY:
        return first + timedelta(weeks=k)
    if rule == BIWEEKLY:
        return first + timedelta(weeks=2 * k)
    if rule == MONTHLY:
        months = first.month - 1 + k
        day = nth_weekday(first.year + months // 12, months % 12 + 1, first.weekday(), nth or nth_of(first))
        return datetime.combine(day, first.time())
    raise ValueError(f"unknown rule {rule!r}")


def to_utc(wall: datetime, timezone: str) -> datetime:
    return wall.replace(tzinfo=ZoneInfo(timezone), fold=0).astimezone(UTC)


def post_at(
    previous_ends_at: datetime, next_starts_at: datetime, cutoff_minutes: int | None = None
) -> datetime:
    """When the next occurrence is posted: when the previous ends, or 7 days before its answers close.

    Its answers close at its start without an RSVP cutoff. Whichever is later: members get up to a
    week to answer, even with answers closing days before the date.
    """
    closes = next_starts_at - timedelta(minutes=cutoff_minutes or 0)
    return max(previous_ends_at, closes - LEAD)


def posted_closed(rule: str, duration_minutes: int, cutoff_minutes: int) -> bool:
    """A series whose next dates would be posted with their answers already closed.

    A date is posted when the previous one ends, not before: a cutoff that, with the duration, spans
    the time between two dates (say weekly, answers until a week before) closes its answers before
    that. An hour of margin: across a daylight-saving change two dates are an hour nearer.
    """
    return timedelta(minutes=duration_minutes + cutoff_minutes + 60) >= SHORTEST[rule]
