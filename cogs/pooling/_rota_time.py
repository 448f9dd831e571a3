"""When a rota task is due, computed on the community's local calendar with zoneinfo (DST-safe).

A task "every 2 weeks on Monday" is due at the same local hour on both sides of a daylight-saving
change: each date is found on the local calendar and combined with the hour in the zone, never by
adding 7 × 24 hours. A wall time that does not exist is read as zoneinfo's fold=0 reads it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("weekly", "biweekly", "monthly")
_HORIZON_DAYS = 800


def _fits(day: date, cadence: str, last_day: date | None) -> bool:
    if cadence == "monthly":  # the first such weekday of a month after the last turn's month
        return day.day <= 7 and (last_day is None or (day.year, day.month) > (last_day.year, last_day.month))
    if cadence == "biweekly" and last_day is not None:
        return (day - last_day).days >= 14
    return last_day is None or (day - last_day).days >= 7


def next_due(after: datetime, *, cadence: str, weekday: str, hour: int, timezone: str,
             last: datetime | None = None) -> datetime:
    """The first due time strictly after `after`, following the previous turn `last` (aware UTC)."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if cadence not in CADENCES or weekday not in WEEKDAYS or not 0 <= hour <= 23:
        raise ValueError(f"bad cadence {cadence} {weekday} {hour}")
    zone = ZoneInfo(timezone)
    wanted = WEEKDAYS.index(weekday)
    last_day = last.astimezone(zone).date() if last is not None else None
    day = after.astimezone(zone).date()
    for _ in range(_HORIZON_DAYS):
        if day.weekday() == wanted and _fits(day, cadence, last_day):
            at = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
            if at > after:
                return at
        day += timedelta(days=1)
    raise AssertionError("no due date found")  # unreachable: every cadence has one within weeks


def remind_at(due: datetime, days: int, timezone: str) -> datetime:
    """`days` local days before `due`, at the same local wall time (a DST change in between is absorbed)."""
    zone = ZoneInfo(timezone)
    local = due.astimezone(zone)
    earlier = datetime.combine(local.date() - timedelta(days=days), local.time(), tzinfo=zone)
    return earlier.astimezone(UTC)


def same_day_at(due: datetime, *, weekday: str, hour: int, timezone: str) -> datetime:
    """A turn planned for `due`, on its day at `hour` in `timezone` (after a time zone or hour change).

    Its day is the task's `weekday` nearest `due`'s date in `timezone`: a change of zone moves a local
    date by two days at most, never a turn to another week.
    """
    zone = ZoneInfo(timezone)
    local = due.astimezone(zone).date()
    shift = (WEEKDAYS.index(weekday) - local.weekday() + 3) % 7 - 3  # -3..3
    return datetime.combine(local + timedelta(days=shift), time(hour), tzinfo=zone).astimezone(UTC)
