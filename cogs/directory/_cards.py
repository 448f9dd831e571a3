"""The directory result card: five members per page, the filters used, Previous / Next buttons."""

from __future__ import annotations

from datetime import date

from bot.cards import Action, Card, Field, action_id
from bot.i18n import Catalog
from cogs.directory._complete import format_date
from cogs.directory._filters import Query
from cogs.directory._search import MemberHit, SearchPage

FEATURE = "directory"


def page_action_id(page: int, token: str) -> str:
    """`directory:page:<n>:<token>`: the page to show and the stored search (see models.DirectoryQuery)."""
    return action_id(FEATURE, "page", page, token)


def _availability(catalog: Catalog, locale: str, hit: MemberHit, today: date) -> str:
    if hit.availability == "available" or (
        hit.availability == "from_date" and hit.available_from is not None and hit.available_from <= today
    ):
        return catalog.t(locale, "directory.card.available_now")
    if hit.availability == "from_date" and hit.available_from is not None:
        return catalog.t(locale, "directory.card.available_from",
                         date=format_date(catalog, locale, hit.available_from))
    return catalog.t(locale, "directory.card.busy")


def _member_field(catalog: Catalog, locale: str, hit: MemberHit, today: date) -> Field:
    lines = []
    if hit.trades:
        lines.append(" · ".join(hit.trades))
    if hit.skills:
        lines.append(catalog.t(locale, "directory.card.skills", skills=", ".join(hit.skills)))
    place = [hit.city] if hit.city else []
    place.append(catalog.t(locale, f"directory.work_mode.{hit.work_mode}"))
    lines.append(" · ".join(place))
    if hit.sectors:
        lines.append(catalog.t(locale, "directory.card.sectors", sectors=", ".join(hit.sectors)))
    lines.append(_availability(catalog, locale, hit, today))
    name = hit.display_name or catalog.t(locale, "directory.card.unnamed")
    return Field(name=name, value="\n".join(lines))


def filters_summary(catalog: Catalog, locale: str, query: Query) -> str:
    parts = []
    if query.trade_name:
        parts.append(catalog.t(locale, "directory.filter.trade", value=query.trade_name))
    if query.skill_labels:
        parts.append(catalog.t(locale, "directory.filter.skill", value=", ".join(query.skill_labels)))
    if query.sector_name:
        parts.append(catalog.t(locale, "directory.filter.sector", value=query.sector_name))
    if query.city:
        parts.append(catalog.t(locale, "directory.filter.city", value=query.city))
    if query.work_mode:
        parts.append(catalog.t(locale, "directory.filter.work_mode",
                               value=catalog.t(locale, f"directory.work_mode.{query.work_mode}")))
    if query.available_now:
        parts.append(catalog.t(locale, "directory.filter.available_now"))
    elif query.available_by:
        parts.append(catalog.t(locale, "directory.filter.available_by",
                               value=format_date(catalog, locale, query.available_by)))
    return " · ".join(parts) if parts else catalog.t(locale, "directory.filter.none")


def results_card(catalog: Catalog, locale: str, result: SearchPage, today: date) -> Card:
    """The page of results; an empty search says so and how to widen it."""
    summary = filters_summary(catalog, locale, result.query)
    if not result.total:
        return Card(
            title=catalog.t(locale, "directory.card.title"),
            text=f"{summary}\n\n{catalog.t(locale, 'directory.card.no_results')}",
        )
    actions = []
    if result.has_previous:
        actions.append(Action(page_action_id(result.page - 1, result.token),
                              catalog.t(locale, "common.previous")))
    if result.has_next:
        actions.append(Action(page_action_id(result.page + 1, result.token),
                              catalog.t(locale, "common.next"), style="primary"))
    return Card(
        title=catalog.t(locale, "directory.card.title"),
        text=f"{summary}\n{catalog.t(locale, 'directory.card.count', count=result.total)}",
        fields=tuple(_member_field(catalog, locale, hit, today) for hit in result.hits),
        footer=catalog.t(locale, "common.page", page=result.page, pages=result.pages),
        actions=tuple(actions),
    )
