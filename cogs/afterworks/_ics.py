"""The `.ics` file of an afterwork (RFC 5545), written with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.cards import Attachment
from cogs.afterworks._recurrence import LAST, nth_of, occurrence_wall, to_utc
from cogs.afterworks.models import BIWEEKLY, CANCELLED, MONTHLY, Afterwork, Series

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

PRODID = "-//Collectif//Afterworks//FR"


def uid(afterwork: Afterwork) -> str:
    """Stable across edits, so a calendar updates the event it already has instead of adding one."""
    return f"afterwork-{afterwork.community_id}-{afterwork.id}@collectif"


def series_uid(series: Series) -> str:
    return f"afterwork-series-{series.community_id}-{series.id}@collectif"


def rrule(series: Series, last: datetime | None) -> dict[str, Any]:
    """The series' RRULE; UNTIL (UTC, as RFC 5545 wants with a zoned DTSTART) at its last day or date."""
    first = series.first_wall
    rule: dict[str, Any] = {"freq": "monthly" if series.rule == MONTHLY else "weekly"}
    if series.rule == BIWEEKLY:
        rule["interval"] = 2
    if series.rule == MONTHLY:
        nth = series.nth or nth_of(first.date())
        rule["byday"] = f"{-1 if nth == LAST else nth}{DAYS[first.weekday()]}"
    ends = []
    if series.until is not None:
        ends.append(to_utc(datetime.combine(series.until, time(23, 59, 59)), series.timezone))
    if last is not None:
        ends.append(last)
    if ends:
        rule["until"] = min(ends).astimezone(UTC)
    return rule


def calendar_file(
    afterwork: Afterwork,
    timezone: str,
    organizer: str | None,
    now: datetime,
    series: Series | None = None,
    occurrences: list[Afterwork] | None = None,
) -> Attachment:
    """The event's calendar: one VEVENT, or for an occurrence the whole series.

    A series is its RRULE, and a VEVENT per date that differs from the rule (RECURRENCE-ID: moved, or
    STATUS:CANCELLED).
    """
    # Imported here: icalendar adds about 8 MiB RSS at import (measured), paid on the first export only.
    from icalendar import Calendar, Event

    if series is not None:
        return _series_file(afterwork, series, occurrences or [afterwork], organizer, now)
    zone = ZoneInfo(timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if afterwork.status == CANCELLED else "PUBLISH")
    event = Event()
    event.add("uid", uid(afterwork))
    event.add("dtstamp", now)
    event.add("sequence", afterwork.sequence)
    event.add("summary", afterwork.title)
    event.add("dtstart", afterwork.starts_at.astimezone(zone))
    # The end in UTC, then local: a zoned datetime plus a duration is wall-clock arithmetic, an hour off
    # over a daylight-saving change (4 hours from 23:00 the night of the spring change end at 04:00).
    ends = afterwork.starts_at + timedelta(minutes=afterwork.duration_minutes)
    event.add("dtend", ends.astimezone(zone))
    location = ", ".join(p for p in (afterwork.place or afterwork.link, afterwork.city) if p)
    if location:
        event.add("location", location)
    if afterwork.link:
        event.add("url", afterwork.link)
    if afterwork.description:
        event.add("description", afterwork.description)
    if organizer:
        event.add("x-collectif-organizer", organizer)
    event.add("status", "CANCELLED" if afterwork.status == CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for the community's zone (icalendar >= 6)
    return Attachment(f"afterwork-{afterwork.id}.ics", calendar.to_ical(), "text/calendar")


def _series_file(
    afterwork: Afterwork, series: Series, occurrences: list[Afterwork], organizer: str | None, now: datetime
) -> Attachment:
    from icalendar import Calendar, Event

    zone = ZoneInfo(series.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    duration = timedelta(minutes=afterwork.duration_minutes)
    location = ", ".join(p for p in (afterwork.place or afterwork.link, afterwork.city) if p)

    def event(start: datetime, status: str, sequence: int) -> Any:
        vevent = Event()
        vevent.add("uid", series_uid(series))
        vevent.add("dtstamp", now)
        vevent.add("sequence", sequence)
        vevent.add("summary", afterwork.title)
        vevent.add("dtstart", start.astimezone(zone))
        vevent.add("dtend", (start + duration).astimezone(zone))
        if location:
            vevent.add("location", location)
        if afterwork.link:
            vevent.add("url", afterwork.link)
        if afterwork.description:
            vevent.add("description", afterwork.description)
        if organizer:
            vevent.add("x-collectif-organizer", organizer)
        vevent.add("status", status)
        return vevent

    sequence = max(o.sequence for o in occurrences)
    last = max(o.starts_at for o in occurrences) if series.ended_at is not None else None
    master = event(to_utc(series.first_wall, series.timezone), "CONFIRMED", sequence)
    master.add("rrule", rrule(series, last))
    calendar.add_component(master)
    for occurrence in sorted(occurrences, key=lambda o: o.occurrence or 0):
        planned = to_utc(
            occurrence_wall(series.first_wall, series.rule, series.nth, occurrence.occurrence or 0),
            series.timezone,
        )
        cancelled = occurrence.status == CANCELLED
        if not cancelled and occurrence.starts_at == planned:
            continue
        override = event(occurrence.starts_at, "CANCELLED" if cancelled else "CONFIRMED", occurrence.sequence)
        override.add("recurrence-id", planned.astimezone(zone))
        calendar.add_component(override)
    calendar.add_missing_timezones()
    return Attachment(f"afterwork-{afterwork.id}.ics", calendar.to_ical(), "text/calendar")
