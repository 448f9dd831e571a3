"""Intro and profile cards, and the texts around the form (problems, outcome), in one locale."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.cards import Action, Card, Field, action_id, fields_for, truncate
from bot.community_time import local_date
from bot.formatting import format_date, format_money, language_name
from bot.i18n import Catalog
from bot.posting import SyncResult
from cogs.intros._profile import FEATURE, ProfileView

COLOR = 0x5865F2
# Embed fields hold 1024 characters; Slack section fields 2000: the smaller wins.
_FIELD_LIMIT = 1024


def availability_text(catalog: Catalog, locale: str, view: ProfileView, today: date) -> str:
    """Available, available from a date, or busy; a date already reached reads as available."""
    if view.availability == "from_date" and view.available_from and view.available_from > today:
        return catalog.t(
            locale, "intros.availability.from_date", date=format_date(view.available_from, locale)
        )
    if view.availability == "busy":
        return catalog.t(locale, "intros.availability.busy")
    return catalog.t(locale, "intros.availability.available")


def rate_text(catalog: Catalog, locale: str, view: ProfileView) -> str:
    if view.rate_min is None:
        return ""
    low = format_money(view.rate_min, view.currency, locale)
    if view.rate_max is None or view.rate_max == view.rate_min:
        return catalog.t(locale, "intros.card.rate_single", min=low)
    high = format_money(view.rate_max, view.currency, locale)
    return catalog.t(locale, "intros.card.rate_range", min=low, max=high)


def _location(catalog: Catalog, locale: str, view: ProfileView) -> str:
    mode = catalog.t(locale, f"intros.work_mode.{view.work_mode}")
    return f"{view.city} · {mode}" if view.city else mode


def intro_card(
    catalog: Catalog, locale: str, view: ProfileView, today: date, *, timezone: str = "UTC"
) -> Card:
    """The card posted in the channels: what the member does, where, when; user text left as typed.

    `today` and `timezone` are the community's: dates read as they do there.
    """
    t = catalog.t
    fields: list[tuple[str, str, bool]] = [
        ("trades", ", ".join(name for _, name, _ in view.trades), True),
        ("availability", availability_text(catalog, locale, view, today), True),
        ("location", _location(catalog, locale, view), True),
        ("skills", ", ".join(label for _, label in view.skills), False),
        ("sectors", ", ".join(name for _, name in view.sectors), False),
        ("languages", ", ".join(language_name(code, locale) for code in view.languages), True),
        ("rate", rate_text(catalog, locale, view), True),
    ]
    return Card(
        title=truncate(t(locale, "intros.card.title", name=view.display_name or "?"), 256),
        text=truncate(view.bio, 4000),
        fields=(
            *(Field(t(locale, f"intros.card.{name}"), truncate(value, _FIELD_LIMIT), inline)
              for name, value, inline in fields if value),
            *fields_for(t(locale, "intros.card.links"), view.links),  # a link cut would be a dead one
        ),
        footer=t(
            locale,
            "intros.card.footer",
            date=format_date(local_date(view.updated_at, timezone), locale),
        ),
        color=COLOR,
    )


def profile_card(
    catalog: Catalog, locale: str, view: ProfileView, today: date, *, own: bool, timezone: str = "UTC"
) -> Card:
    """The card `/profile` shows; the owner also sees their opt-ins and buttons to update it."""
    card = intro_card(catalog, locale, view, today, timezone=timezone)
    if not own:
        return card
    t = catalog.t
    yes_no = {True: t(locale, "common.yes"), False: t(locale, "common.no")}
    opt_ins = "\n".join(
        t(locale, "intros.card.opt_in_line", name=t(locale, f"intros.opt_ins.{name}"), value=yes_no[value])
        for name, value in (
            ("matching", view.opt_matching),
            ("pairing", view.opt_pairing),
            ("directory", view.opt_directory),
            ("leaderboards", view.opt_leaderboards),
        )
    )
    return Card(
        title=card.title,
        text=card.text,
        fields=(*card.fields, Field(t(locale, "intros.card.opt_ins"), opt_ins)),
        footer=card.footer,
        color=card.color,
        actions=own_actions(catalog, locale, view.id),
    )


def own_actions(catalog: Catalog, locale: str, profile_id: int) -> tuple[Action, ...]:
    t = catalog.t
    return (
        Action(action_id(FEATURE, "edit", profile_id), t(locale, "intros.buttons.edit"), "primary"),
        Action(action_id(FEATURE, "avail", profile_id, "available"), t(locale, "intros.buttons.available")),
        Action(action_id(FEATURE, "avail", profile_id, "busy"), t(locale, "intros.buttons.busy")),
    )


def problem_lines(
    catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]
) -> list[str]:
    return catalog.problem_lines(locale, problems, "intros")


def problems_text(catalog: Catalog, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]]) -> str:
    return catalog.problems_text(locale, problems, "intros")


def outcome_text(
    catalog: Catalog, locale: str, result: SyncResult | None, *, created: bool, next_post: date | None
) -> str:
    """What the member is told after saving: saved, where the cards went, what was held back."""
    t = catalog.t
    lines = [t(locale, "intros.saved.created" if created else "intros.saved.updated")]
    if result is not None:
        if result.posted:
            lines.append(t(locale, "intros.saved.posted", count=len(result.posted)))
        if result.edited:
            lines.append(t(locale, "intros.saved.edited", count=len(result.edited)))
        if result.held and next_post is not None:
            lines.append(
                t(locale, "intros.saved.held", count=len(result.held), date=format_date(next_post, locale))
            )
        if result.failed:
            lines.append(t(locale, "intros.saved.failed", count=len(result.failed)))
        if result.retrying:
            lines.append(t(locale, "intros.saved.retrying", count=len(result.retrying)))
        if not (result.posted or result.edited or result.held or result.failed or result.retrying):
            lines.append(t(locale, "intros.saved.nowhere"))
    return "\n".join(lines)
