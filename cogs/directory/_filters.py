"""Directory filters: what the member typed, parsed and resolved against the community's own lists."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community_time import parse_date
from bot.errors import InvalidInput
from bot.text import bounded
from bot.words import match_word
from cogs.directory._values import VALUES
from cogs.intros.models import WORK_MODES, ProfileSkill
from cogs.intros.profiles import VOCABULARY, normalize_skill, split_skills
from storage.models import Sector, Trade
from storage.text import city_key, fold

MAX_SKILLS = 5
TOKEN_LENGTH = 16

# A searched work mode also finds the hybrid workers; "hybrid" finds only them.
MODE_MATCHES: dict[str, tuple[str, ...]] = {
    "remote": ("remote", "hybrid"),
    "onsite": ("onsite", "hybrid"),
    "hybrid": ("hybrid",),
}
# What the search reads as a work mode or as "now" (folded, both languages; see bot.words).
MODE_WORDS: dict[str, tuple[str, ...]] = {
    "remote": ("distance", "à distance", "télétravail"),
    "onsite": ("on site", "on-site", "sur site", "présentiel", "site", "sur place"),
    "hybrid": ("hybride",),
}
NOW_WORDS = {
    "now": ("today", "yes", "maintenant", "aujourd'hui", "aujourd’hui", "aujourdhui", "tout de suite", "oui"),
}

# What autocomplete sends for a trade or sector: a row id. Not str.isdigit(), which takes "²" (int()
# refuses it) and numbers past SQLite's 64-bit integers: those are names to look up like any text.
_ID = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Filters:
    """A search as typed: names or ids, free text; nothing resolved yet."""

    trade: str = ""
    skills: tuple[str, ...] = ()
    sector: str = ""
    city: str = ""
    work_mode: str = ""
    available: str = ""  # "now", a date (2026-12-15, 15/12/2026), or empty


@dataclass(frozen=True)
class Query:
    """A resolved search: ids and folded keys, stored behind a paging token."""

    trade_id: int | None = None
    trade_name: str = ""
    sector_id: int | None = None
    sector_name: str = ""
    skill_keys: tuple[str, ...] = ()
    skill_labels: tuple[str, ...] = ()
    city_key: str = ""
    city: str = ""
    work_mode: str = ""
    available_now: bool = False
    available_by: date | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.trade_id or self.sector_id or self.skill_keys or self.city_key
                    or self.work_mode or self.available_now or self.available_by)

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy cost a tenth of a search; the values are immutable.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["skill_keys"] = list(self.skill_keys)
        data["skill_labels"] = list(self.skill_labels)
        data["available_by"] = self.available_by.isoformat() if self.available_by else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Query:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["skill_keys"] = tuple(known.get("skill_keys") or ())
        known["skill_labels"] = tuple(known.get("skill_labels") or ())
        by = known.get("available_by")
        known["available_by"] = date.fromisoformat(by) if by else None
        return cls(**known)

    def token(self, community_id: int) -> str:
        """Same community and filters -> same token, so a repeated search reuses its stored row.

        Without the trade's and sector's names: they follow from the ids, and a search learns them
        in the statement that also says whether its token is stored (see `_search`).
        """
        data = self.to_json()
        del data["trade_name"], data["sector_name"]
        canonical = json.dumps([community_id, data], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:TOKEN_LENGTH]


async def skill_keys(
    session: AsyncSession, community_id: int, locale: str, typed: str, *, check: bool = True
) -> list[str]:
    """The normalized tags the intros cog stores for what was typed ("Référencement, wordpres").

    The community's known keys (for near-miss snapping, from the autocomplete cache) are needed
    only when a tag is neither a vocabulary word nor already one of its keys (one indexed lookup;
    `check=False` skips it: see `unchecked_skills`).
    """
    keys: list[str] = []
    known: set[str] | None = None
    for text in split_skills(typed):
        key = normalize_skill(text, locale)
        if key and key not in VOCABULARY and check and not await _has_skill(session, community_id, key):
            if known is None:
                known = (await VALUES.get(session, community_id)).skill_keys
            key = normalize_skill(text, locale, known)
        if key and key not in keys:
            keys.append(key)
    return keys


@lru_cache(maxsize=1)
def _skill_used() -> Select[Any]:
    c = ProfileSkill.__table__.c
    return select(c.id).where(c.community_id == bindparam("cid"), c.key == bindparam("key")).limit(1)


async def _has_skill(session: AsyncSession, community_id: int, key: str) -> bool:
    conn = await session.connection()
    found = (await conn.execute(_skill_used(), {"cid": community_id, "key": key})).first()
    return found is not None


def parse_work_mode(text: str) -> str:
    """"télétravail" -> "remote"; "" -> ""; anything else is an InvalidInput."""
    bounded(text, MAX_VALUE, "work_mode")
    if not text.strip():
        return ""
    mode = match_word(text, MODE_WORDS)
    if mode is None or mode not in WORK_MODES:
        raise InvalidInput({"work_mode": ("directory.errors.work_mode", {"value": text})})
    return mode


def parse_available(text: str, today: date, locale: str = "fr") -> tuple[bool, date | None]:
    """(available now, available by date); a date today or past means "now".

    Reads "now" / "maintenant", and dates as `bot.community_time.parse_date` does ("15/12/2026",
    "15 décembre", "dans 2 semaines").
    """
    bounded(text, MAX_VALUE, "available")
    if not text.strip():
        return False, None
    if match_word(text, NOW_WORDS):
        return True, None
    when = parse_date(text, today, locale)
    if when is None:
        raise InvalidInput({"available": ("directory.errors.available", {"value": text})})
    return (True, None) if when <= today else (False, when)


@lru_cache(maxsize=8)
def _named(model: type[Trade] | type[Sector], by: str) -> Select[Any]:
    """Built once (building costs as much as running): a trade or sector by id, key or key prefix."""
    c = model.__table__.c
    stmt = select(c.id, c.name).where(c.community_id == bindparam("cid"))
    if by == "id":
        return stmt.where(c.id == bindparam("value"))
    if by == "key":
        return stmt.where(c.key == bindparam("value"))
    return stmt.where(c.key.like(bindparam("value"), escape="/")).limit(2)


async def _resolve_named(
    session: AsyncSession, model: type[Trade] | type[Sector], community_id: int, text: str, problem: str
) -> tuple[int, str]:
    """A trade or sector by id (what autocomplete sends), name or unambiguous start, in this community."""
    conn = await session.connection()
    value = text.strip()
    row = None
    if _ID.fullmatch(value):
        row = (await conn.execute(_named(model, "id"), {"cid": community_id, "value": int(value)})).first()
    if row is None:
        row = (await conn.execute(_named(model, "key"), {"cid": community_id, "value": fold(value)})).first()
    if row is None:
        pattern = re.sub(r"([/%_])", r"/\1", fold(value)) + "%"
        params = {"cid": community_id, "value": pattern}
        candidates = (await conn.execute(_named(model, "prefix"), params)).all()
        row = candidates[0] if len(candidates) == 1 else None
    if row is None:
        raise InvalidInput({problem: (f"directory.errors.unknown_{problem}", {"value": value})})
    return row.id, row.name


async def resolve(
    session: AsyncSession, community_id: int, locale: str, filters: Filters, today: date,
    *, confirm_later: bool = False,
) -> Query:
    """Turn typed filters into a Query; unknown trade/sector, bad mode or date -> InvalidInput.

    `confirm_later`: a trade or sector typed as an id (what autocomplete sends) is taken as is,
    its name left empty, and skills not in the vocabulary are not looked up, so that the search
    reads the names and checks the skills in its own statement (each lookup is a round trip). The
    caller must then call `resolve` again without it if the search could not confirm them (see
    `pending_names`, `unchecked_skills`). Any other problem is still reported with them checked.
    """
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    named: dict[str, tuple[int | None, str]] = {}
    for field, model in (("trade", Trade), ("sector", Sector)):
        typed = getattr(filters, field).strip()
        if not typed:
            named[field] = (None, "")
        elif confirm_later and _ID.fullmatch(typed):
            named[field] = (int(typed), "")
        else:
            try:
                named[field] = await _resolve_named(session, model, community_id, typed, field)
            except InvalidInput as error:
                problems.update(error.problems)
    work_mode, available_now, available_by = "", False, None
    try:
        work_mode = parse_work_mode(filters.work_mode)
    except InvalidInput as error:
        problems.update(error.problems)
    try:
        available_now, available_by = parse_available(filters.available, today, locale)
    except InvalidInput as error:
        problems.update(error.problems)
    keys: list[str] = []
    for typed in filters.skills:
        typed_keys = await skill_keys(session, community_id, locale, typed, check=not confirm_later)
        keys.extend(k for k in typed_keys if k not in keys)
    labels = [label[:50] for raw in filters.skills for label in split_skills(raw)]
    if len(keys) > MAX_SKILLS:
        problems["skill"] = ("directory.errors.too_many_skills", {"max": MAX_SKILLS})
    if problems:
        if confirm_later:  # the ids taken as is are checked too: one error lists every problem
            return await resolve(session, community_id, locale, filters, today)
        raise InvalidInput(problems)
    (trade_id, trade_name), (sector_id, sector_name) = named["trade"], named["sector"]
    city = " ".join(filters.city.split())[:100]
    return Query(
        trade_id=trade_id, trade_name=trade_name, sector_id=sector_id, sector_name=sector_name,
        skill_keys=tuple(keys), skill_labels=tuple(labels), city_key=city_key(city), city=city,
        work_mode=work_mode, available_now=available_now, available_by=available_by,
    )


def unchecked_skills(query: Query) -> list[str]:
    """The skills `resolve(…, confirm_later=True)` kept without checking the community uses them."""
    return [key for key in query.skill_keys if key not in VOCABULARY]


def pending_names(query: Query) -> bool:
    """A trade or sector id taken as is by `resolve(…, confirm_later=True)`, its name still unknown."""
    return (query.trade_id is not None and not query.trade_name) or (
        query.sector_id is not None and not query.sector_name
    )


# What `/collectif members …` accepts before a colon (folded, both languages).
ARG_KEYS = {
    "trade": "trade", "metier": "trade", "job": "trade",
    "skill": "skills", "skills": "skills", "competence": "skills", "competences": "skills", "tag": "skills",
    "sector": "sector", "secteur": "sector",
    "city": "city", "ville": "city",
    "mode": "work_mode", "work_mode": "work_mode", "workmode": "work_mode",
    "available": "available", "availability": "available", "dispo": "available", "disponible": "available",
    "disponibilite": "available",
}
MAX_VALUE = 100
MAX_ARGS = 1000  # bounded before parsing
_ARG = re.compile(r"(?:^|\s)([^\s:]+)\s*:")  # "ville : Lyon" too (French typography)


def parse_args(text: str) -> Filters:
    """`métier:Rédaction web compétence:seo, wordpress ville:Lyon` -> Filters.

    A value runs until the next known `key:`; text before the first key is taken as skills.
    An unknown key is an InvalidInput naming it.
    """
    bounded(text, MAX_ARGS, "args")
    spans: list[tuple[str, int, int]] = []  # (field, value start, key start)
    for found in _ARG.finditer(text):
        name = ARG_KEYS.get(fold(found[1]))
        if name is None:
            raise InvalidInput({"args": ("directory.errors.unknown_filter", {"value": found[1]})})
        spans.append((name, found.end(), found.start(1)))
    values: dict[str, list[str]] = {}
    leading = text[: spans[0][2]] if spans else text
    if leading.strip():
        values.setdefault("skills", []).append(leading.strip())
    for i, (name, start, _) in enumerate(spans):
        end = spans[i + 1][2] if i + 1 < len(spans) else len(text)
        value = text[start:end].strip()
        if value:
            values.setdefault(name, []).append(value)
    return Filters(
        trade=" ".join(values.get("trade", [])), skills=tuple(values.get("skills", ())),
        sector=" ".join(values.get("sector", [])), city=" ".join(values.get("city", [])),
        work_mode=" ".join(values.get("work_mode", [])), available=" ".join(values.get("available", [])),
    )
