"""Autocomplete for /members: trades, skills, sectors and cities from the community's own values.

Trades and sectors are short lists read each time; skills and cities come from an in-memory copy
refreshed every 30 s (see `_values`). At most 25 choices: Discord gives 3 s and no defer.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import formatting
from bot.i18n import Catalog
from cogs.directory._values import Value
from cogs.intros.profiles import normalize_skill, synonyms
from storage.models import Sector, Trade
from storage.text import fold

MAX_CHOICES = 25
CHOICE_MAX = 100  # Discord's limit on a choice's name and value


@dataclass(frozen=True)
class Choice:
    name: str  # what the member sees
    value: str  # what the command receives


def _choice(name: str, value: str) -> Choice:
    return Choice(name[:CHOICE_MAX], value[:CHOICE_MAX])


def _merge(*groups: list[Choice]) -> list[Choice]:
    seen: set[str] = set()
    out: list[Choice] = []
    for choice in (c for g in groups for c in g):
        if choice.value not in seen:
            seen.add(choice.value)
            out.append(choice)
    return out[:MAX_CHOICES]


async def _named(session: AsyncSession, model: type[Trade] | type[Sector], community_id: int,
                 typed: str) -> list[Choice]:
    # Community lists are short (tens of rows): read them in order, filter in Python.
    q = fold(typed)
    rows = (await session.execute(
        select(model.id, model.name, model.key)
        .where(model.community_id == community_id)
        .order_by(model.position, model.id)
    )).all()
    prefix = [_choice(r.name, str(r.id)) for r in rows if r.key.startswith(q)]
    contains = [_choice(r.name, str(r.id)) for r in rows if q in r.key]
    return _merge(prefix, contains)


async def trade_choices(session: AsyncSession, community_id: int, typed: str) -> list[Choice]:
    """The community's trades whose name starts with, then contains, what was typed (value: id)."""
    return await _named(session, Trade, community_id, typed)


async def sector_choices(session: AsyncSession, community_id: int, typed: str) -> list[Choice]:
    return await _named(session, Sector, community_id, typed)


def _match(values: tuple[Value, ...], q: str, first: AbstractSet[str] = frozenset(),
           then: AbstractSet[str] = frozenset()) -> list[Choice]:
    """Values matching `q`, at most 25, most used first within each group.

    Groups in order: keys in `first`; starting with `q` (key or label); a word of the label
    starting with `q`; keys in `then`; containing `q`.
    """
    groups: list[list[Value]] = [[], [], [], [], []]
    for value in values:
        if value.key in first:
            groups[0].append(value)
        elif value.key.startswith(q) or value.folded_label.startswith(q):
            groups[1].append(value)
        elif any(word.startswith(q) for word in value.folded_label.split()):
            groups[2].append(value)
        elif value.key in then:
            groups[3].append(value)
        elif q in value.key or q in value.folded_label:
            groups[4].append(value)
    return [_choice(v.label, v.key) for group in groups for v in group][:MAX_CHOICES]


def match_skills(values: tuple[Value, ...], locale: str, typed: str) -> list[Choice]:
    """Skills of listed members (`CommunityValues.skills`) matching what was typed, at most 25.

    The value is the normalized key, so a synonym picked here finds every spelling of it. The
    typed tag's own normalized key comes first; aliases count ("référ" finds seo).
    """
    head, comma, last = typed.rpartition(",")
    if comma:  # several skills: complete the last one, keep the ones before
        found = match_skills(values, locale, last)
        head = ", ".join(part.strip() for part in head.split(",") if part.strip())
        return [_choice(f"{head}, {c.name}", f"{head}, {c.value}") for c in found]
    q = fold(typed)
    if not q:
        return [_choice(v.label, v.key) for v in values[:MAX_CHOICES]]
    compact = "".join(q.split())
    aliases = {key for alias, key in synonyms(locale).items() if alias.startswith(compact)}
    return _match(values, q, first={normalize_skill(typed, locale)}, then=aliases)


def match_cities(values: tuple[Value, ...], typed: str) -> list[Choice]:
    """Cities of listed members (value: the city as written; the search folds it)."""
    q = fold(typed)
    if not q:
        return [_choice(v.label, v.label) for v in values[:MAX_CHOICES]]
    return [Choice(c.name, c.name) for c in _match(values, q)]


def available_choices(catalog: Catalog, locale: str, typed: str, today: date) -> list[Choice]:
    """"Now" and a few dates ahead (values the search parses), or what was typed when it is a date."""
    options = [_choice(catalog.t(locale, "directory.available.now"), "now")]
    for days, key in ((7, "week"), (14, "two_weeks"), (30, "month"), (90, "quarter")):
        when = today + timedelta(days=days)
        label = catalog.t(locale, f"directory.available.{key}", date=format_date(catalog, locale, when))
        options.append(_choice(label, when.isoformat()))
    q = fold(typed)
    chosen = [c for c in options if q in fold(c.name) or c.value.startswith(q)] if q else options
    if typed.strip() and not chosen:
        chosen = [_choice(typed.strip(), typed.strip())]
    return chosen[:MAX_CHOICES]


def format_date(catalog: Catalog, locale: str, when: date) -> str:
    return formatting.format_date(when, locale)
