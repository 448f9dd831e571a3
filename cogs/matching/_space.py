"""The card posted in an invited team's private space: what the team is for, and each member's profile."""

from __future__ import annotations

from bot import formatting
from bot.cards import Card, Field, truncate
from bot.i18n import Catalog
from cogs.intros.profiles import ProfileView
from cogs.matching._request import Resolved

SPACE_NAME_MAX = 90


def request_title(catalog: Catalog, locale: str, resolved: Resolved) -> str:
    """"Site vitrine" or "Développement + SEO / SEA": what the team is for."""
    return resolved.pack_name or " + ".join(dict.fromkeys(resolved.slot_names))


def request_summary(catalog: Catalog, locale: str, resolved: Resolved) -> str:
    """The request's options in one line (skills, place, date, budget, sector)."""
    parts = []
    if resolved.skill_labels:
        parts.append(catalog.t(locale, "matching.request.skills", value=", ".join(resolved.skill_labels)))
    if resolved.city:
        parts.append(catalog.t(locale, "matching.request.city", value=resolved.city))
    if resolved.remote:
        parts.append(catalog.t(locale, "matching.request.remote"))
    if resolved.available_by:
        parts.append(catalog.t(locale, "matching.request.by",
                               value=formatting.format_date(resolved.available_by, locale)))
    if resolved.max_rate is not None:
        parts.append(catalog.t(locale, "matching.request.rate",
                               value=formatting.format_money(resolved.max_rate, "EUR", locale)))
    if resolved.sector_name:
        parts.append(catalog.t(locale, "matching.request.sector", value=resolved.sector_name))
    return " · ".join(parts)


def space_name(catalog: Catalog, locale: str, resolved: Resolved) -> str:
    return truncate(catalog.t(locale, "matching.space.name", title=request_title(catalog, locale, resolved)),
                    SPACE_NAME_MAX)


def _profile_field(catalog: Catalog, locale: str, view: ProfileView) -> Field:
    lines = [" · ".join(name for _, name, _ in view.trades)]
    if view.skills:
        labels = ", ".join(label for _, label in view.skills[:8])
        lines.append(catalog.t(locale, "matching.space.skills", value=labels))
    place = [view.city] if view.city else []
    place.append(catalog.t(locale, f"matching.work_mode.{view.work_mode}"))
    lines.append(" · ".join(place))
    if view.rate_min is not None:
        low = formatting.format_money(view.rate_min, view.currency, locale)
        if view.rate_max is not None and view.rate_max != view.rate_min:
            high = formatting.format_money(view.rate_max, view.currency, locale)
            lines.append(catalog.t(locale, "matching.space.rate_range", low=low, high=high))
        else:
            lines.append(catalog.t(locale, "matching.space.rate", value=low))
    if view.links:
        lines.append(view.links[0])
    return Field(name=view.display_name or catalog.t(locale, "matching.card.unnamed"),
                 value=truncate("\n".join(line for line in lines if line), 1000))


def space_card(catalog: Catalog, locale: str, resolved: Resolved, requester: str,
               profiles: list[ProfileView]) -> Card:
    """Posted once in the private space, in the community's language (several people read it)."""
    summary = request_summary(catalog, locale, resolved)
    text = catalog.t(locale, "matching.space.intro", requester=requester,
                     title=request_title(catalog, locale, resolved))
    note = catalog.t(locale, "matching.invitation.note", requester=requester, note=resolved.note) \
        if resolved.note else ""
    return Card(
        title=catalog.t(locale, "matching.space.title", title=request_title(catalog, locale, resolved)),
        text="\n".join(part for part in (text, summary, note) if part),
        fields=tuple(_profile_field(catalog, locale, view) for view in profiles),
    )
