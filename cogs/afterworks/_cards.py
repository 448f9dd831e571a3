"""The cards of afterworks: the event card with its buttons, the list, the DMs, the form's problems."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.cards import Action, Card, Field, action_id, truncate, when
from bot.formatting import format_date
from bot.i18n import Catalog
from cogs.afterworks._domain import FEATURE, NAMES_SHOWN, View
from cogs.afterworks._form import NONE, AfterworkForm, Details, wall_words
from cogs.afterworks._recurrence import nth_of
from cogs.afterworks.models import CANCELLED, MONTHLY, Afterwork, Series

EMOJI = {"afterwork": "🍻", "coworking": "💻", "online": "🎥"}
COLOR = 0xE67E22
FIELD_MAX = 1024


def duration_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def recurrence_text(
    catalog: Catalog,
    locale: str,
    rule: str,
    first: datetime,
    nth: int | None,
    until: date | None,
    ended: bool = False,
) -> str:
    """A series' rule in words: "chaque mois, le dernier jeudi, jusqu'au …", "every week, on Thursday"."""
    t = catalog.t
    weekday = t(locale, f"afterworks.weekdays.{first.weekday()}")
    text = t(
        locale,
        f"afterworks.recurrence.{rule}",
        weekday=weekday,
        nth=t(locale, f"afterworks.nth.{nth or nth_of(first.date())}") if rule == MONTHLY else "",
    )
    if ended:
        return t(locale, "afterworks.recurrence.ended", rule=text)
    if until is not None:
        return t(locale, "afterworks.recurrence.until", rule=text, date=format_date(until, locale, "full"))
    return text


def series_text(catalog: Catalog, locale: str, series: Series) -> str:
    return recurrence_text(
        catalog,
        locale,
        series.rule,
        series.first_wall,
        series.nth,
        series.until,
        ended=series.ended_at is not None,
    )


def where_text(afterwork: Afterwork | Details) -> str:
    return " · ".join(p for p in (afterwork.place or afterwork.link, afterwork.city) if p)


def afterwork_card(catalog: Catalog, locale: str, view: View, now: datetime | None = None) -> Card:
    """The card in the channel: time in each reader's zone, place, answers, and the buttons.

    Once answers closed at the RSVP cutoff (`now` past it), the card says so and drops Going / Maybe /
    Can't (a job edits it at that moment).
    """
    t = catalog.t
    aw = view.afterwork
    cancelled = aw.status == CANCELLED
    closed = bool(aw.rsvp_cutoff_minutes) and now is not None and now >= aw.closes_at
    title = f"{EMOJI.get(aw.kind, '')} {aw.title}".strip()
    if cancelled:
        title = t(locale, "afterworks.card.cancelled_title", title=aw.title)
    going = t(locale, "afterworks.card.going_count", count=aw.going_count)
    if aw.capacity is not None:
        going = t(locale, "afterworks.card.going_of", going=aw.going_count, capacity=aw.capacity)
    names = [p.name for p in view.going[:NAMES_SHOWN]]
    if view.going_total > len(names):
        names.append(t(locale, "afterworks.card.and_more", count=view.going_total - len(names)))
    fields = [
        Field(
            t(locale, "afterworks.fields.when"),
            f"{when(aw.starts_at, 'full')} ({when(aw.starts_at, 'relative')})",
        ),
        Field(t(locale, "afterworks.fields.duration"), duration_text(aw.duration_minutes), inline=True),
        Field(t(locale, "afterworks.fields.kind"), t(locale, f"afterworks.kinds.{aw.kind}"), inline=True),
        Field(t(locale, "afterworks.fields.where"), truncate(where_text(aw) or "—", FIELD_MAX)),
    ]
    if view.series is not None:
        fields.append(
            Field(t(locale, "afterworks.fields.recurrence"), series_text(catalog, locale, view.series))
        )
    if aw.rsvp_cutoff_minutes and not cancelled:
        fields.append(
            Field(
                t(locale, "afterworks.fields.closed" if closed else "afterworks.fields.cutoff"),
                f"{when(aw.closes_at, 'full')} ({when(aw.closes_at, 'relative')})",
            )
        )
    fields += [
        Field(going, truncate(", ".join(names) or "—", FIELD_MAX)),
    ]
    others = [
        t(locale, "afterworks.card.maybe", count=view.maybe),
        t(locale, "afterworks.card.cant", count=view.cant),
    ]
    if view.waitlisted:
        others.append(t(locale, "afterworks.card.waitlist", count=view.waitlisted))
    fields.append(Field(t(locale, "afterworks.fields.answers"), " · ".join(others)))
    if view.organizer is not None:
        fields.append(Field(t(locale, "afterworks.fields.organizer"), view.organizer.name, inline=True))
    calendar = Action(action_id(FEATURE, "ics", aw.id), t(locale, "afterworks.buttons.calendar"))
    actions: tuple[Action, ...] = (calendar,)
    if not cancelled:
        answers = (
            ()
            if closed
            else (
                Action(
                    action_id(FEATURE, "rsvp", aw.id, "going"),
                    t(locale, "afterworks.buttons.going"),
                    "success",
                ),
                Action(action_id(FEATURE, "rsvp", aw.id, "maybe"), t(locale, "afterworks.buttons.maybe")),
                Action(action_id(FEATURE, "rsvp", aw.id, "cant"), t(locale, "afterworks.buttons.cant")),
            )
        )
        actions = (
            *answers,
            calendar,
            Action(action_id(FEATURE, "edit", aw.id), t(locale, "afterworks.buttons.edit")),
            Action(
                action_id(FEATURE, "cancel", aw.id),
                t(locale, "afterworks.buttons.cancel_date" if view.series else "afterworks.buttons.cancel"),
                "danger",
            ),
        )
    if view.series is not None and view.series.ended_at is None:
        actions += (Action(action_id(FEATURE, "end", aw.id), t(locale, "afterworks.buttons.end_series")),)
    return Card(
        title=title,
        text=truncate(aw.description, 3000),
        fields=tuple(fields),
        actions=actions,
        color=COLOR,
        url=aw.link or None,
    )


def list_card(catalog: Catalog, locale: str, afterworks: list[Afterwork], *, timezone: str) -> Card:
    """/afterwork list: one line per afterwork to come.

    `timezone` (the community's) and `locale` also write the dates of the message's plain text (Slack's).
    """
    t = catalog.t
    if not afterworks:
        return Card(title=t(locale, "afterworks.list.title"), text=t(locale, "afterworks.list.empty"))
    lines = [
        t(
            locale,
            "afterworks.list.line",
            emoji=EMOJI.get(a.kind, ""),
            title=a.title,
            when=when(a.starts_at, "short", locale=locale, timezone=timezone),
            where=where_text(a) or "—",
            going=a.going_count if a.capacity is None else f"{a.going_count}/{a.capacity}",
            count=a.going_count,
        )
        for a in afterworks
    ]
    return Card(title=t(locale, "afterworks.list.title"), text=truncate("\n".join(lines), 3900))


def understood_text(catalog: Catalog, locale: str, details: Details, timezone: str) -> str:
    """What the form understood, in words, for the organizer to confirm."""
    t = catalog.t
    lines = [
        t(locale, "afterworks.confirm.heading"),
        t(locale, "afterworks.confirm.title", title=details.title),
        t(locale, "afterworks.confirm.when", **wall_words(details.wall_time, timezone, locale)),
        t(locale, "afterworks.confirm.duration", duration=duration_text(details.duration_minutes)),
        t(locale, "afterworks.confirm.where", where=where_text(details) or "—"),
        t(
            locale,
            "afterworks.confirm.capacity",
            capacity=details.capacity
            if details.capacity is not None
            else t(locale, "afterworks.confirm.no_limit"),
        ),
    ]
    if details.recurrence != NONE:
        rule = recurrence_text(catalog, locale, details.recurrence, details.wall_time, None, details.until)
        lines.append(t(locale, "afterworks.confirm.recurrence", rule=rule))
    if details.cutoff_minutes:
        closes = details.closes_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
        lines.append(t(locale, "afterworks.confirm.cutoff", **wall_words(closes, timezone, locale)))
    return "\n".join(lines)


def notice_card(catalog: Catalog, locale: str, key: str, afterwork: Afterwork, *, timezone: str | None = None,
                **params: Any) -> Card:
    """A DM about one afterwork: reminder, promotion, change, cancellation.

    `timezone` (the community's) and `locale` also write the dates of the notification text.
    """
    t = catalog.t
    zone = {"locale": locale, "timezone": timezone}
    return Card(
        title=t(locale, f"afterworks.dm.{key}_title", title=afterwork.title),
        text=t(
            locale,
            f"afterworks.dm.{key}",
            title=afterwork.title,
            when=when(afterwork.starts_at, "full", **zone),
            relative=when(afterwork.starts_at, "relative", **zone),
            where=where_text(afterwork) or "—",
            **params,
        ),
        color=COLOR,
    )


def problem_lines(
    catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]
) -> list[str]:
    return catalog.problem_lines(locale, problems, "afterworks")


def problems_text(catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]) -> str:
    return catalog.problems_text(locale, problems, "afterworks")


def form_of(afterwork: Afterwork, timezone: str) -> AfterworkForm:
    """The edit form, pre-filled: the time as the community reads it."""
    local = afterwork.starts_at.astimezone(ZoneInfo(timezone))
    return AfterworkForm(
        title=afterwork.title,
        when=f"{local:%Y-%m-%d %H:%M}",
        duration=str(afterwork.duration_minutes),
        kind=afterwork.kind,
        where=afterwork.link or afterwork.place,
        city=afterwork.city,
        capacity="" if afterwork.capacity is None else str(afterwork.capacity),
        description=afterwork.description,
        cutoff=str(afterwork.rsvp_cutoff_minutes or ""),
    )
