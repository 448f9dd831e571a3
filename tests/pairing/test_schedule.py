"""Round slots: local wall time kept across both Europe/Paris daylight-saving changes, each cadence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cogs.pairing._schedule import checkin_at, next_round_at

PARIS = ZoneInfo("Europe/Paris")


def local(at: datetime) -> datetime:
    return at.astimezone(PARIS)


def weekly(after: datetime, **kw: object) -> datetime:
    return next_round_at(after, cadence="weekly", weekday="mon", hour=19, timezone="Europe/Paris", **kw)  # type: ignore[arg-type]


def test_19h_stays_19h_across_the_october_change() -> None:
    first = weekly(datetime(2026, 10, 20, tzinfo=UTC))
    assert local(first) == datetime(2026, 10, 26, 19, tzinfo=PARIS)  # after the change (25 Oct): CET
    before = weekly(datetime(2026, 10, 13, tzinfo=UTC))
    assert local(before).hour == 19 and before.hour == 17  # CEST, UTC+2
    assert weekly(before) == first and first.hour == 18  # 19:00 CEST, then 19:00 CET
    assert (first - before).total_seconds() == 7 * 24 * 3600 + 3600


def test_19h_stays_19h_across_the_march_change() -> None:
    before = weekly(datetime(2027, 3, 22, tzinfo=UTC))
    after = weekly(before)
    assert (local(before).hour, local(after).hour) == (19, 19)
    assert (before.hour, after.hour) == (18, 17)  # 28 March 2027: CET -> CEST


def test_an_hour_that_does_not_exist_is_read_after_the_gap() -> None:
    at = next_round_at(
        datetime(2027, 3, 27, tzinfo=UTC), cadence="weekly", weekday="sun", hour=2, timezone="Europe/Paris"
    )
    assert local(at) == datetime(2027, 3, 28, 3, tzinfo=PARIS)


def test_biweekly_and_monthly() -> None:
    last = weekly(datetime(2026, 11, 1, tzinfo=UTC))
    two = next_round_at(
        last, cadence="biweekly", weekday="mon", hour=19, timezone="Europe/Paris", last_round=last
    )
    assert (two - last).days == 14
    month = next_round_at(
        datetime(2026, 11, 3, tzinfo=UTC),
        cadence="monthly",
        weekday="mon",
        hour=19,
        timezone="Europe/Paris",
        last_round=datetime(2026, 11, 2, 18, tzinfo=UTC),
    )
    assert local(month).date().isoformat() == "2026-12-07"


def test_strictly_after_and_checkin_halfway() -> None:
    slot = weekly(datetime(2026, 11, 30, 18, tzinfo=UTC))
    assert weekly(slot) > slot and weekly(slot - (slot - slot)) != slot
    nxt = weekly(slot)
    assert checkin_at(slot, nxt) - slot == (nxt - slot) / 2


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError):
        next_round_at(
            datetime(2026, 1, 1, tzinfo=UTC), cadence="daily", weekday="mon", hour=1, timezone="UTC"
        )
    with pytest.raises(ValueError):
        next_round_at(datetime(2026, 1, 1), cadence="weekly", weekday="mon", hour=1, timezone="UTC")


@pytest.mark.parametrize(
    ("cadence", "last", "weekday", "hour", "expected"),
    [  # each last round a Monday at 19:00 Paris
        ("weekly", datetime(2026, 11, 30), "tue", 19, datetime(2026, 12, 8)),  # not the next day
        ("weekly", datetime(2026, 11, 30), "mon", 21, datetime(2026, 12, 7)),  # not two hours later
        ("biweekly", datetime(2026, 11, 30), "tue", 19, datetime(2026, 12, 15)),
        ("monthly", datetime(2027, 2, 1), "tue", 19, datetime(2027, 3, 2)),  # not Tuesday 2 February
    ],
)
def test_a_schedule_changed_after_a_round_keeps_the_cadence_from_it(
    cadence: str, last: datetime, weekday: str, hour: int, expected: datetime
) -> None:
    """Every cadence counts from the last round: weekly ignored it, so moving the day or the hour the
    evening of a round held another one within a day."""
    held = last.replace(hour=19, tzinfo=PARIS).astimezone(UTC)
    at = next_round_at(
        held + timedelta(hours=1),
        cadence=cadence,
        weekday=weekday,
        hour=hour,
        timezone="Europe/Paris",
        last_round=held,
    )
    assert local(at) == expected.replace(hour=hour, tzinfo=PARIS)
