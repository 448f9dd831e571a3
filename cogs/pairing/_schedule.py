"""When rounds happen: the next slot at a local wall time, computed with zoneinfo (DST-safe).

A round "on Mondays at 19:00" is 19:00 in the community's zone on both sides of a daylight-saving
change, so each slot is computed from the local date and hour, never by adding 7 × 24 hours. A wall
time that does not exist (02:00 on the spring change) is read as zoneinfo's fold=0 reads it: with
the offset before the gap (03:00 summer time), as bot.community_time does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("weekly", "biweekly", "monthly")
_HORIZON_DAYS = 800


def next_round_at(
    after: datetime,
    *,
    cadence: str,
    weekday: str,
    hour: int,
    timezone: str,
    last_round: datetime | None = None,
) -> datetime:
    """The first slot strictly after `after` (aware), as aware UTC.

    weekly: every `weekday`, at least 7 days after `last_round`; biweekly: every other one, at least 14
    days after it; monthly: the first `weekday` of each month, not in `last_round`'s month.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if cadence not in CADENCES or weekday not in WEEKDAYS or not 0 <= hour <= 23:
        raise ValueError(f"bad schedule {cadence} {weekday} {hour}")
    zone = ZoneInfo(timezone)
    wanted = WEEKDAYS.index(weekday)
    last_day: date | None = last_round.astimezone(zone).date() if last_round is not None else None
    day = after.astimezone(zone).date()
    for _ in range(_HORIZON_DAYS):
        if day.weekday() == wanted and _fits(day, cadence, last_day):
            at = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
            if at > after:
                return at
        day += timedelta(days=1)
    raise AssertionError("no slot found")  # unreachable: every cadence has a slot within months


def _fits(day: date, cadence: str, last_day: date | None) -> bool:
    """Whether a round on `day` keeps the cadence after the last one, whatever day or hour it was held.

    Counted from the last round, not from the weekday: a moderator who moves the rounds from Monday to
    Tuesday (or Monday 19:00 to 21:00) the evening of a round must not pair the same people again the
    next day (or that night); the next round is the new day of the following week, as in the rota.
    """
    if cadence == "monthly":
        return day.day <= 7 and (last_day is None or (day.year, day.month) != (last_day.year, last_day.month))
    return last_day is None or (day - last_day).days >= _MIN_DAYS[cadence]


_MIN_DAYS = {"weekly": 7, "biweekly": 14}


def checkin_at(round_at: datetime, next_at: datetime) -> datetime:
    """Halfway between a round and the next one: when groups are asked whether they met."""
    return round_at + (next_at - round_at) / 2
