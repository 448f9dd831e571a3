"""The `.ics` file of an afterwork (RFC 5545), written with the icalendar library."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.cards import Attachment
from cogs.afterworks.models import CANCELLED, Afterwork

PRODID = "-//Collectif//Afterworks//FR"


def uid(afterwork: Afterwork) -> str:
    """Stable across edits, so a calendar updates the event it already has instead of adding one."""
    return f"afterwork-{afterwork.community_id}-{afterwork.id}@collectif"


def calendar_file(afterwork: Afterwork, timezone: str, organizer: str | None, now: datetime) -> Attachment:
    # Imported here: icalendar adds about 8 MiB RSS at import (measured), paid on the first export only.
    from icalendar import Calendar, Event

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
    start = afterwork.starts_at.astimezone(zone)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=afterwork.duration_minutes))
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
