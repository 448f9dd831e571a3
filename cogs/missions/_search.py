"""/missions: the filters as typed, resolved against the community's lists, the search, its paging token.

Filters (all optional, combined with AND): scope (all open missions, mine, where I am a candidate),
trade, skill, client sector, city, work mode, minimum daily rate, start date, status. Each typed text is
bounded before it is read; a filter that names nothing here (an unknown trade, a date in the past…) is
an InvalidInput naming the field, in the member's language, and nothing is searched.

Results: live missions (mine: every status), ranked — without a trade filter, missions needing one of
the caller's trades (their profile) first — then newest first; paged by 10, each page continuing after
the last mission shown (or before the first, going back). A search with more than one page is stored
behind a token (a hash of the community and the filters), so Previous / Next carry only
`missions:page:<n>:<token>:<cursor>` and survive a restart; searches unused for 30 days are forgotten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community_time import parse_date
from bot.errors import InvalidInput, NotFound
from bot.text import bounded
from bot.words import match_word
from cogs.intros.models import Profile, ProfileTrade
from cogs.intros.profiles import known_skill_keys, normalize_skill
from cogs.missions.models import (
    LIVE,
    STATUSES,
    Candidacy,
    Mission,
    MissionSearch,
    MissionSkill,
    MissionTrade,
)
from storage.models import Sector, Trade
from storage.sql import insert_ignore
from storage.text import city_key, fold

PAGE = 10
MAX_PAGE = 9999
SCOPES = ("all", "mine", "candidate")
MAX_FILTER = 100  # characters of one typed filter
MAX_ARGS = 400  # characters of the whole Slack argument text
MAX_RATE = 100_000
FORGET_AFTER = timedelta(days=30)
TOKEN_LENGTH = 16
# A searched work mode also finds hybrid missions; "hybrid" finds only them (as the directory does).
MODE_MATCHES: dict[str, tuple[str, ...]] = {
    "remote": ("remote", "hybrid"),
    "onsite": ("onsite", "hybrid"),
    "hybrid": ("hybrid",),
}
MODE_WORDS: dict[str, tuple[str, ...]] = {
    "remote": ("remote", "distance", "à distance", "télétravail", "full remote"),
    "onsite": ("onsite", "on site", "on-site", "sur site", "présentiel", "sur place"),
    "hybrid": ("hybrid", "hybride"),
}
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "open": ("open", "ouverte", "ouvert", "ouvertes"),
    "forming": ("forming", "team forming", "en constitution", "équipe en constitution", "constitution"),
    "staffed": ("staffed", "pourvue", "pourvu", "équipe constituée", "constituée"),
    "closed": ("closed", "close", "fermée", "terminée", "clôturée"),
    "expired": ("expired", "expirée", "expiré"),
}
SCOPE_WORDS: dict[str, tuple[str, ...]] = {
    "all": ("all", "toutes", "tout"),
    "mine": ("mine", "miennes", "mes", "moi", "my", "mes missions", "my missions"),
    "candidate": ("candidate", "candidat", "candidate·e", "candidat·e", "candidatures", "candidacies"),
}
# Slack: `/collectif missions [mine|candidate] [trade] [skill:…] [ville:…] …` (both languages' keys).
ARG_KEYS = {
    "trade": "trade",
    "metier": "trade",
    "job": "trade",
    "skill": "skill",
    "skills": "skill",
    "competence": "skill",
    "competences": "skill",
    "sector": "sector",
    "secteur": "sector",
    "city": "city",
    "ville": "city",
    "mode": "mode",
    "work": "mode",
    "travail": "mode",
    "rate": "rate",
    "tjm": "rate",
    "budget": "rate",
    "start": "start",
    "from": "start",
    "debut": "start",
    "des": "start",
    "status": "status",
    "statut": "status",
    "etat": "status",
}
_ARG = re.compile(r"(?:^|\s)([^\s:]{1,20}):")
# "450", "450 €", "1 000 €/j", "450 eur / day": a whole number, an optional currency and "per day".
RATE = re.compile(r"(\d{1,3}(?:[ \u202f]?\d{3})?)\s?(?:€|eur|euros?|\$|£)?\s?(?:/\s?(?:j|jour|d|day))?", re.I)


@dataclass(frozen=True)
class ListFilters:
    """A /missions search as typed (names, words, dates as text); nothing resolved yet."""

    scope: str = "all"
    trade: str = ""
    skill: str = ""
    sector: str = ""
    city: str = ""
    mode: str = ""
    rate: str = ""
    start: str = ""
    status: str = ""


@dataclass(frozen=True)
class Query:
    """A resolved search: ids, keys and an ISO date; `shown` is what the card says was searched."""

    scope: str = "all"
    trade_id: int = 0
    skill_key: str = ""
    sector_id: int = 0
    city_key: str = ""
    mode: str = ""
    min_rate: int = 0
    start_from: str = ""
    status: str = ""
    shown: tuple[tuple[str, str], ...] = ()  # (filter, text as shown): "trade" -> "Développement"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["shown"] = [list(pair) for pair in self.shown]
        return data

    @classmethod
    def from_json(cls, data: Any) -> Query:
        """A stored search, trusting nothing: a field of the wrong type or shape falls back to its default."""
        if not isinstance(data, dict):
            return cls()
        values: dict[str, Any] = {}
        for spec in fields(cls):
            value = data.get(spec.name)
            default = getattr(cls(), spec.name)
            if spec.name == "shown":
                pairs = value if isinstance(value, list) else []
                values["shown"] = tuple(
                    (str(p[0])[:20], str(p[1])[:MAX_FILTER])
                    for p in pairs[:10]
                    if isinstance(p, list) and len(p) == 2
                )
            elif isinstance(default, int):
                values[spec.name] = value if isinstance(value, int) and 0 <= value < 2**31 else default
            else:
                values[spec.name] = str(value)[:MAX_FILTER] if isinstance(value, str) else default
        query = cls(**values)
        if (
            query.scope not in SCOPES
            or query.status not in ("", *STATUSES)
            or query.mode
            not in (
                "",
                *MODE_MATCHES,
            )
        ):
            return cls()
        return query

    def token(self, community_id: int) -> str:
        text = json.dumps([community_id, self.to_json()], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:TOKEN_LENGTH]


# -- reading what was typed -------------------------------------------------------------------------


def parse_list_args(text: str) -> ListFilters:
    """`mine Développement ville:Lyon compétence:SEO tjm:450` -> ListFilters (Slack's argument text).

    Leading words: a scope word (mine / candidate…), then the trade's name (the command's old form).
    `key:value` pairs follow, a value running until the next known key; an unknown key is refused.
    Bounded before it is read, linear in its length.
    """
    bounded(text, MAX_ARGS, "args")
    spans: list[tuple[str, int, int]] = []
    for found in _ARG.finditer(text):
        name = ARG_KEYS.get(fold(found[1]))
        if name is None:
            raise InvalidInput({"args": ("missions.errors.unknown_filter", {"value": found[1][:20]})})
        spans.append((name, found.end(), found.start(1)))
    values: dict[str, str] = {}
    for i, (name, start, _) in enumerate(spans):
        end = spans[i + 1][2] if i + 1 < len(spans) else len(text)
        value = " ".join(text[start:end].split())
        if value:
            values[name] = value
    leading = (text[: spans[0][2]] if spans else text).split()
    scope = "all"
    if leading and match_word(leading[0], SCOPE_WORDS) is not None:
        scope = str(match_word(leading[0], SCOPE_WORDS))
        leading = leading[1:]
    if leading and "trade" not in values:
        values["trade"] = " ".join(leading)
    return ListFilters(scope=scope, **values)


async def _named(
    session: AsyncSession, model: type[Trade] | type[Sector], community_id: int, text: str
) -> tuple[int, str] | None:
    """A trade or sector typed by name (folded; exact, else the only one it starts)."""
    wanted = fold(text)
    rows = (
        await session.execute(select(model.id, model.name).where(model.community_id == community_id))
    ).all()
    exact = [(row.id, row.name) for row in rows if fold(row.name) == wanted]
    if exact:
        return exact[0]
    starting = [(row.id, row.name) for row in rows if fold(row.name).startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


async def _skill(session: AsyncSession, community_id: int, locale: str, text: str) -> str:
    """The skill key searched.

    The synonyms' reading when some mission wants it (an index lookup), else the reading against the
    community's own skill keys (a close spelling of a tag used here).
    """
    key = normalize_skill(text, locale)
    if key and await session.scalar(
        select(MissionSkill.id)
        .where(MissionSkill.community_id == community_id, MissionSkill.key == key)
        .limit(1)
    ):
        return key
    return normalize_skill(text, locale, await known_skill_keys(session, community_id)) or key


async def resolve(
    session: AsyncSession, community_id: int, locale: str, typed: ListFilters, today: date
) -> Query:
    """The filters checked and resolved; InvalidInput naming each one that names nothing here."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    values: dict[str, Any] = {}
    shown: list[tuple[str, str]] = []
    for spec in fields(ListFilters):
        text = getattr(typed, spec.name)
        if len(text) > MAX_FILTER:
            problems[spec.name] = ("missions.errors.too_long", {"max": MAX_FILTER, "length": len(text)})
    if problems:
        raise InvalidInput(problems)
    scope = typed.scope if typed.scope in SCOPES else match_word(typed.scope or "all", SCOPE_WORDS)
    if scope is None:
        problems["scope"] = ("missions.errors.unknown_scope", {"value": typed.scope})
    else:
        values["scope"] = scope
    if typed.trade.strip():
        found = await _named(session, Trade, community_id, typed.trade.strip())
        if found is None:
            problems["trade"] = ("missions.errors.unknown_trade_filter", {"trade": typed.trade.strip()})
        else:
            values["trade_id"] = found[0]
            shown.append(("trade", found[1]))
    if typed.sector.strip():
        found = await _named(session, Sector, community_id, typed.sector.strip())
        if found is None:
            problems["sector"] = ("missions.errors.unknown_sector_filter", {"sector": typed.sector.strip()})
        else:
            values["sector_id"] = found[0]
            shown.append(("sector", found[1]))
    if typed.skill.strip():
        key = await _skill(session, community_id, locale, typed.skill)
        if not key:
            problems["skill"] = ("missions.errors.bad_skill_filter", {})
        else:
            values["skill_key"] = key[:100]
            shown.append(("skill", typed.skill.strip()))
    if typed.city.strip():
        key = city_key(typed.city)
        if key:
            values["city_key"] = key
            shown.append(("city", typed.city.strip()))
    if typed.mode.strip():
        mode = match_word(typed.mode, MODE_WORDS)
        if mode is None:
            problems["mode"] = ("missions.errors.unknown_mode_filter", {"value": typed.mode.strip()})
        else:
            values["mode"] = mode
            shown.append(("mode", mode))
    if typed.rate.strip():
        amount = RATE.fullmatch(typed.rate.strip())
        rate = int(amount[1].replace(" ", "").replace("\u202f", "")) if amount else 0
        if not 0 < rate <= MAX_RATE:
            problems["rate"] = ("missions.errors.bad_rate_filter", {"max": MAX_RATE})
        else:
            values["min_rate"] = rate
            shown.append(("rate", str(rate)))
    if typed.start.strip():
        day = parse_date(typed.start, today, locale)
        if day is None:
            problems["start"] = ("missions.errors.date_filter", {})
        elif day < today:
            problems["start"] = ("missions.errors.start_filter_past", {})
        else:
            values["start_from"] = day.isoformat()
            shown.append(("start", day.isoformat()))
    if typed.status.strip():
        status = typed.status if typed.status in STATUSES else match_word(typed.status, STATUS_WORDS)
        if status is None:
            problems["status"] = ("missions.errors.unknown_status_filter", {"value": typed.status.strip()})
        elif status not in LIVE and values.get("scope") != "mine":
            problems["status"] = ("missions.errors.status_not_live", {})
        else:
            values["status"] = status
            shown.append(("status", status))
    if problems:
        raise InvalidInput(problems)
    return Query(**values, shown=tuple(shown))


# -- the search -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: just after a mission shown (Next) or just before one (Previous).

    Carried in the page button with the token, so that a page continues from what the reader saw,
    whatever was posted, closed or staffed meanwhile (counting N missions into the list as it is now
    skipped some and repeated others). `tier`: 0 for the missions ranked first (needing one of the
    reader's trades, or every mission when nothing is ranked first), 1 for the others.
    """

    after: bool
    tier: int
    mission_id: int

    def text(self) -> str:
        return f"{'a' if self.after else 'b'}{self.tier}-{self.mission_id}"

    @classmethod
    def read(cls, text: str | None) -> Cursor | None:
        """A cursor as `text()` wrote it (the id's pattern checked its shape); None for none."""
        if not text:
            return None
        return cls(text[0] == "a", int(text[1]), int(text[3:]))


@dataclass(frozen=True)
class Page:
    """A page of missions and where the pages around it start (None: no such page)."""

    missions: list[Mission]
    number: int  # from 0
    previous: Cursor | None
    next: Cursor | None


async def search(
    session: AsyncSession, community_id: int, member_id: int, query: Query, page: int, cursor: Cursor | None
) -> Page:
    """The page of missions for `member_id` (mine / candidate are theirs) the cursor points to.

    Ranked without sorting every match: the missions needing one of the member's trades are read first
    (tier 0), newest first, then the others (tier 1); each read stops at the page's end (LIMIT on the
    id order). Without a cursor, page `page` counted from the start: the first search (0), or a button
    of an older version, which carries none (its next pages carry one).
    """
    tiers = await _tiers(session, community_id, member_id, query)
    if cursor is not None and cursor.tier >= len(tiers):  # the reader's trades changed since
        cursor = dataclasses.replace(cursor, tier=len(tiers) - 1)
    if cursor is not None and not cursor.after:
        found = await _before(session, tiers, cursor)
        if len(found) > PAGE:  # a whole page before it: that page, with more before
            return _page(list(reversed(found[:PAGE])), max(page, 1), more_before=True, more_after=True)
        cursor, page = None, 0  # the first missions: the first page, filled from the start
    found = await _after(session, tiers, cursor, skip=0 if cursor is not None else page * PAGE)
    result = _page(found[:PAGE], page, more_before=page > 0, more_after=len(found) > PAGE)
    if cursor is not None and not result.missions:  # all after it went meanwhile: the way back stays
        return dataclasses.replace(result, previous=dataclasses.replace(cursor, after=False))
    return result


def _page(shown: list[tuple[int, Mission]], number: int, *, more_before: bool, more_after: bool) -> Page:
    if not shown:
        return Page([], number, None, None)
    (first_tier, first), (last_tier, last) = shown[0], shown[-1]
    return Page(
        [m for _, m in shown],
        number,
        Cursor(False, first_tier, first.id) if more_before else None,
        Cursor(True, last_tier, last.id) if more_after else None,
    )


async def _tiers(session: AsyncSession, community_id: int, member_id: int, query: Query) -> list[Any]:
    """The search's statements in rank order: needing one of the member's trades, then the others."""
    cid = community_id
    statement = select(Mission).where(Mission.community_id == cid)
    if query.scope == "mine":
        statement = statement.where(Mission.author_member_id == member_id)
    if query.status:
        statement = statement.where(Mission.status == query.status)
    elif query.scope != "mine":
        statement = statement.where(Mission.status.in_(LIVE))
    if query.scope == "candidate":
        statement = statement.where(
            Mission.id.in_(
                select(Candidacy.mission_id).where(
                    Candidacy.community_id == cid, Candidacy.member_id == member_id
                )
            )
        )
    if query.trade_id:
        statement = statement.where(_needs((query.trade_id,)))
    if query.skill_key:
        statement = statement.where(
            select(MissionSkill.id)
            .where(MissionSkill.mission_id == Mission.id, MissionSkill.key == query.skill_key)
            .exists()
        )
    if query.sector_id:
        statement = statement.where(Mission.sector_id == query.sector_id)
    if query.city_key:
        statement = statement.where(Mission.city_key == query.city_key)
    if query.mode:
        statement = statement.where(Mission.work_mode.in_(MODE_MATCHES[query.mode]))
    if query.min_rate:
        statement = statement.where(
            Mission.budget_kind == "daily",
            func.coalesce(Mission.budget_max, Mission.budget_min) >= query.min_rate,
        )
    if query.start_from:
        start = date.fromisoformat(query.start_from)
        statement = statement.where(or_(Mission.start_date.is_(None), Mission.start_date >= start))
    mine: list[int] = []
    if not query.trade_id and query.scope == "all":
        mine = list(
            await session.scalars(
                select(ProfileTrade.trade_id)
                .join(Profile, Profile.id == ProfileTrade.profile_id)
                .where(
                    Profile.community_id == cid,
                    Profile.member_id == member_id,
                    ProfileTrade.community_id == cid,
                )
            )
        )
    if not mine:
        return [statement]
    return [statement.where(_needs(mine)), statement.where(~_needs(mine))]


async def _after(
    session: AsyncSession, tiers: list[Any], cursor: Cursor | None, *, skip: int = 0
) -> list[tuple[int, Mission]]:
    """Up to a page and one of (tier, mission) after the cursor (from the start without one), ranked.

    `skip`: missions passed over first (an older button's page number, which names no mission).
    """
    found: list[tuple[int, Mission]] = []
    start = cursor.tier if cursor is not None else 0
    for tier in range(start, len(tiers)):
        statement = tiers[tier]
        if cursor is not None and tier == cursor.tier:
            statement = statement.where(Mission.id < cursor.mission_id)
        ordered = statement.order_by(Mission.id.desc())
        rows = list(await session.scalars(ordered.offset(skip).limit(PAGE + 1 - len(found))))
        if skip and not rows:  # this tier is all passed over: the rest of `skip` falls in the next
            skip -= int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
            skip = max(skip, 0)
        else:
            skip = 0
        found += [(tier, m) for m in rows]
        if len(found) > PAGE:
            break
    return found


async def _before(session: AsyncSession, tiers: list[Any], cursor: Cursor) -> list[tuple[int, Mission]]:
    """Up to a page and one of (tier, mission) before the cursor, nearest first (rank order reversed)."""
    found: list[tuple[int, Mission]] = []
    for tier in range(cursor.tier, -1, -1):
        statement = tiers[tier]
        if tier == cursor.tier:
            statement = statement.where(Mission.id > cursor.mission_id)
        rows = await session.scalars(statement.order_by(Mission.id.asc()).limit(PAGE + 1 - len(found)))
        found += [(tier, m) for m in rows]
        if len(found) > PAGE:
            break
    return found


def _needs(trade_ids: Sequence[int]) -> Any:
    """The mission needs one of these trades (its unique (mission, trade) index answers per mission)."""
    return (
        select(MissionTrade.id)
        .where(MissionTrade.mission_id == Mission.id, MissionTrade.trade_id.in_(sorted(set(trade_ids))))
        .exists()
    )


# -- stored searches (paging tokens) ---------------------------------------------------------------


async def remember(session: AsyncSession, community_id: int, query: Query, now: datetime) -> str:
    """Stores the search behind its token (reused when it exists); forgets this community's stale ones."""
    token = query.token(community_id)
    await session.execute(
        delete(MissionSearch).where(
            MissionSearch.community_id == community_id, MissionSearch.used_at < now - FORGET_AFTER
        )
    )
    await insert_ignore(
        session,
        MissionSearch.__table__,
        [{"community_id": community_id, "token": token, "filters": query.to_json(), "used_at": now}],
    )
    await session.execute(
        update(MissionSearch)
        .where(MissionSearch.community_id == community_id, MissionSearch.token == token)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return token


async def stored(session: AsyncSession, community_id: int, token: str) -> Query:
    """The search behind a paging token of this community; NotFound otherwise (forgotten or forged)."""
    filters = await session.scalar(
        select(MissionSearch.filters).where(
            MissionSearch.community_id == community_id, MissionSearch.token == token
        )
    )
    if filters is None:
        raise NotFound("missions.errors.search_expired")
    return Query.from_json(filters)
