"""A /match request: what the member typed, parsed (Slack's `key:value` text) and resolved."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community_time import parse_date
from bot.errors import InvalidInput
from bot.text import bounded, refuse_control_characters
from bot.words import match_word
from cogs.config import default_packs
from cogs.config.models import Pack, PackTrade
from cogs.intros.profiles import normalize_skill, split_skills
from storage.models import Sector, Trade
from storage.settings import get_settings
from storage.text import fold

MAX_SLOTS = 6
MAX_SKILLS = 5
MAX_VALUE = 200
MAX_ARGS = 1000
MAX_RATE = 100_000
MAX_NOTE = 500
SEED_RANGE = 2**31  # a signed 32-bit column on every database
Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class MatchInput:
    """/match as typed, nothing resolved: names, free text, flags."""

    pack: str = ""
    trades: str = ""  # comma separated names
    skills: str = ""
    city: str = ""
    remote: bool = False
    available_by: str = ""
    max_rate: str = ""
    sector: str = ""
    include_me: bool = False
    note: str = ""  # for the invited members (the invitation's DM and the team's space)


@dataclass(frozen=True)
class Resolved:
    """A request in ids and folded keys, with the names the answer shows."""

    slots: tuple[int, ...]
    slot_names: tuple[str, ...]
    pack_name: str = ""
    skill_keys: tuple[str, ...] = ()
    skill_labels: tuple[str, ...] = ()
    city: str = ""
    remote: bool = False
    available_by: date | None = None
    max_rate: int | None = None
    sector_id: int | None = None
    sector_name: str = ""
    include_me: bool = False
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("slots", "slot_names", "skill_keys", "skill_labels"):
            data[name] = list(data[name])
        data["available_by"] = self.available_by.isoformat() if self.available_by else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Resolved:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("slots", "slot_names", "skill_keys", "skill_labels"):
            known[name] = tuple(known.get(name) or ())
        by = known.get("available_by")
        known["available_by"] = date.fromisoformat(by) if by else None
        return cls(**known)

    def seed(self, community_id: int, requester_id: int) -> int:
        """The tie-break seed: the same request by the same member gives the same team on the same data."""
        data = self.to_json()
        data.pop("note")  # what the requester writes to the team does not change who is in it
        canonical = json.dumps([community_id, requester_id, data], sort_keys=True, ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big") % SEED_RANGE


# What a budget may hold besides its digits: spaces, the euro ("€", "EUR", "euro(s)"), a per-day
# ("/j", "/jour", "/d", "/day"). The longer spellings first: "eur" out of "euros" left "500os".
_RATE_NOISE = re.compile(r"(?i)\s|€|euros?|eur|/\s*j(?:our)?|/\s*d(?:ay)?")
# ASCII digits only: str.isdigit() takes "²", which int() refuses (an "unexpected error").
_RATE_DIGITS = re.compile(r"[0-9]+")


def parse_rate(text: str) -> int | None:
    """"450", "450 €", "450€/j", "500 euros" -> 450; "" -> None; anything else an InvalidInput."""
    bounded(text, MAX_VALUE, "max_rate")
    cleaned = _RATE_NOISE.sub("", text)
    if not cleaned:
        return None
    if not _RATE_DIGITS.fullmatch(cleaned) or not 0 < int(cleaned) <= MAX_RATE:
        raise InvalidInput({"max_rate": ("matching.errors.rate", {"value": text.strip()})})
    return int(cleaned)


def parse_by(text: str, today: date, locale: str) -> date | None:
    """A date today or later ("2026-12-15", "15/12", "dans 2 semaines"); past or unreadable: refused."""
    bounded(text, MAX_VALUE, "available_by")
    if not text.strip():
        return None
    when = parse_date(text, today, locale)
    if when is None:
        raise InvalidInput({"available_by": ("matching.errors.date", {"value": text.strip()})})
    if when < today:
        raise InvalidInput({"available_by": ("matching.errors.past_date", {"value": text.strip()})})
    return when


def _names(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n+]", text) if part.strip()]


async def _named(session: AsyncSession, model: type[Trade] | type[Sector] | type[Pack], community_id: int,
                 text: str) -> tuple[int, str] | None:
    """A trade, sector or pack of this community by name (case and accents ignored) or unambiguous start."""
    key = fold(text)
    rows = (await session.execute(
        select(model.id, model.name, model.key).where(model.community_id == community_id)
    )).all()
    exact = [r for r in rows if r.key == key]
    if exact:
        return exact[0].id, exact[0].name
    started = [r for r in rows if r.key.startswith(key)]
    return (started[0].id, started[0].name) if len(started) == 1 and key else None


async def _default_pack(session: AsyncSession, community_id: int, locale: str,
                        text: str) -> tuple[str, list[tuple[int, str]]] | None:
    key = fold(text)
    for name, trade_names in default_packs(locale):
        if fold(name) == key or (key and fold(name).startswith(key)):
            rows = (await session.execute(select(Trade.id, Trade.name, Trade.key)
                                          .where(Trade.community_id == community_id))).all()
            by_key = {r.key: (r.id, r.name) for r in rows}
            return name, [by_key[fold(t)] for t in trade_names if fold(t) in by_key]
    return None


async def pack_names(session: AsyncSession, community_id: int, locale: str) -> list[str]:
    """The packs /match accepts, in order: the community's, and the defaults until they are written.

    A default pack is offered as `ensure_default_packs` would write it: with one of its trades at least.
    """
    names = list((await session.scalars(
        select(Pack.name).where(Pack.community_id == community_id).order_by(Pack.position, Pack.id)
    )).all())
    if (await get_settings(session, community_id)).packs_seeded:
        return names
    trades = set((await session.scalars(select(Trade.key).where(Trade.community_id == community_id))).all())
    known = {fold(n) for n in names}
    return names + [name for name, trade_names in default_packs(locale)
                    if fold(name) not in known and any(fold(t) in trades for t in trade_names)]


async def resolve(session: AsyncSession, community_id: int, locale: str, typed: MatchInput,
                  today: date) -> Resolved:
    """Ids for names; every problem at once in one InvalidInput (unknown pack or trade, too many slots…)."""
    problems: Problems = {}
    for name in ("pack", "trades", "skills", "city", "sector"):
        bounded(getattr(typed, name), MAX_VALUE, name)
    bounded(typed.note, MAX_NOTE, "note")
    refuse_control_characters({"note": typed.note})
    slots: list[int] = []
    slot_names: list[str] = []
    pack_name = ""
    if typed.pack.strip():
        pack = await _named(session, Pack, community_id, typed.pack.strip())
        if pack is None and not (await get_settings(session, community_id)).packs_seeded:
            # The default packs are written on a first /config pack; until then they are these.
            found = await _default_pack(session, community_id, locale, typed.pack.strip())
            if found is not None:
                pack_name, found_slots = found
                slots += [t for t, _ in found_slots]
                slot_names += [n for _, n in found_slots]
        if pack is None and not pack_name:
            problems["pack"] = ("matching.errors.unknown_pack", {"value": typed.pack.strip()})
        elif pack is not None:
            pack_name = pack[1]
            rows = (await session.execute(
                select(Trade.id, Trade.name).join(PackTrade, PackTrade.trade_id == Trade.id)
                .where(PackTrade.pack_id == pack[0], PackTrade.community_id == community_id,
                       Trade.community_id == community_id)
                .order_by(PackTrade.position, PackTrade.id)
            )).all()
            slots += [r.id for r in rows]
            slot_names += [r.name for r in rows]
    for name in _names(typed.trades):
        trade = await _named(session, Trade, community_id, name)
        if trade is None:
            problems["trades"] = ("matching.errors.unknown_trade", {"value": name})
            break
        slots.append(trade[0])
        slot_names.append(trade[1])
    if not problems and not slots:
        problems["trades"] = ("matching.errors.no_slot", {})
    if len(slots) > MAX_SLOTS:
        problems["trades"] = ("matching.errors.too_many_slots", {"max": MAX_SLOTS, "count": len(slots)})
    sector_id, sector_name = None, ""
    if typed.sector.strip():
        sector = await _named(session, Sector, community_id, typed.sector.strip())
        if sector is None:
            problems["sector"] = ("matching.errors.unknown_sector", {"value": typed.sector.strip()})
        else:
            sector_id, sector_name = sector
    keys: list[str] = []
    labels: list[str] = []
    for label in split_skills(typed.skills):
        key = normalize_skill(label, locale)
        if key and key not in keys:
            keys.append(key)
            labels.append(label[:50])
    if len(keys) > MAX_SKILLS:
        problems["skills"] = ("matching.errors.too_many_skills", {"max": MAX_SKILLS})
    by = rate = None
    try:
        by = parse_by(typed.available_by, today, locale)
    except InvalidInput as error:
        problems.update(error.problems)
    try:
        rate = parse_rate(typed.max_rate)
    except InvalidInput as error:
        problems.update(error.problems)
    if problems:
        raise InvalidInput(problems)
    return Resolved(
        slots=tuple(slots), slot_names=tuple(slot_names), pack_name=pack_name, skill_keys=tuple(keys),
        skill_labels=tuple(labels), city=" ".join(typed.city.split())[:100], remote=typed.remote,
        available_by=by, max_rate=rate, sector_id=sector_id, sector_name=sector_name,
        include_me=typed.include_me, note=typed.note.strip(),
    )


# What `/collectif match …` accepts before a colon (folded, both languages); flags stand alone.
ARG_KEYS = {
    "pack": "pack", "offre": "pack",
    "trade": "trades", "trades": "trades", "metier": "trades", "metiers": "trades",
    "skill": "skills", "skills": "skills", "competence": "skills", "competences": "skills",
    "city": "city", "ville": "city",
    "by": "available_by", "available": "available_by", "dispo": "available_by", "disponible": "available_by",
    "rate": "max_rate", "max_rate": "max_rate", "budget": "max_rate", "tjm": "max_rate",
    "sector": "sector", "secteur": "sector",
    "note": "note", "message": "note", "mot": "note",
}
FLAG_WORDS = {
    "remote": ("remote", "distance", "à distance", "teletravail", "télétravail"),
    "include_me": ("me", "include me", "moi", "avec moi", "inclus moi", "inclure moi"),
}
# The most words a flag's spelling has ("à distance", "inclure moi"): the widest run tried as a flag.
FLAG_SPAN = max(len(spelling.split()) for spellings in FLAG_WORDS.values() for spelling in spellings)
_ARG = re.compile(r"(?:^|\s)([^\s:]+)\s*:")  # "ville : Lyon" too (French typography), as the directory


def _flag(words: list[str]) -> str | None:
    return match_word(" ".join(words), FLAG_WORDS)


def _pop_trailing_flags(words: list[str], flags: dict[str, bool]) -> list[str]:
    """Removes the flags ending a value ("… tjm:450 avec moi"), the longest spelling first.

    Bounded and linear: each step removes words or stops, after at most FLAG_SPAN lookups.
    """
    while words:
        for width in range(min(FLAG_SPAN, len(words)), 0, -1):
            flag = _flag(words[-width:])
            if flag:
                flags[flag] = True
                del words[-width:]
                break
        else:
            break
    return words


def _leading_flags(words: list[str], flags: dict[str, bool]) -> list[str]:
    """The words before the first key without their flags ("Site vitrine à distance" -> the pack)."""
    rest: list[str] = []
    i = 0
    while i < len(words):
        for width in range(min(FLAG_SPAN, len(words) - i), 0, -1):
            flag = _flag(words[i:i + width])
            if flag:
                flags[flag] = True
                i += width
                break
        else:
            rest.append(words[i])
            i += 1
    return rest


def parse_args(text: str) -> MatchInput:
    """`pack:Site vitrine compétences:wordpress ville:Lyon tjm:450 moi` -> MatchInput.

    A value runs until the next known `key:`; words before the first key are flags (`remote`,
    `moi`…) or, failing that, the pack. An unknown key is an InvalidInput naming it. `note:` comes
    last: the rest of the text is the note, colons and links included.
    """
    bounded(text, MAX_ARGS, "args")
    spans: list[tuple[str, int, int]] = []
    note = ""
    for found in _ARG.finditer(text):
        name = ARG_KEYS.get(fold(found[1]))
        if name is None:
            raise InvalidInput({"args": ("matching.errors.unknown_filter", {"value": found[1]})})
        if name == "note":
            note = text[found.end():].strip()
            text = text[: found.start(1)]
            break
        spans.append((name, found.end(), found.start(1)))
    values: dict[str, str] = {}
    flags = {"remote": False, "include_me": False}
    leading = text[: spans[0][2]] if spans else text
    for i, (name, start, _) in enumerate(spans):
        end = spans[i + 1][2] if i + 1 < len(spans) else len(text)
        value = text[start:end].strip()
        # trailing flags ("… tjm:450 remote avec moi") belong to no value
        value = " ".join(_pop_trailing_flags(value.split(), flags))
        if value:
            values[name] = f"{values[name]}, {value}" if name in values else value
    rest = _leading_flags(leading.split(), flags)
    if rest and "pack" not in values:
        values["pack"] = " ".join(rest)
    return MatchInput(**values, remote=flags["remote"], include_me=flags["include_me"], note=note)
