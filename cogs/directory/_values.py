"""The skills and cities used by a community's listed members, cached in memory for autocomplete.

Reading them means grouping every profile_skills row of the community (about 130 ms for 10,000
profiles on SQLite), far too slow for each keystroke (Discord gives autocomplete 3 s, no defer, and
members type fast). The distinct values are few (hundreds), so they are read at most every `ttl`
seconds per community and matched in memory. A skill added a moment ago shows up after the TTL;
the search itself always reads the tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.intros.models import Profile, ProfileSkill
from storage.text import fold

DEFAULT_TTL = 30.0


@dataclass(frozen=True)
class Value:
    key: str  # what the search matches (normalized skill key, folded city)
    label: str  # how a member wrote it
    folded_label: str
    count: int  # listed members using it


@dataclass(frozen=True)
class CommunityValues:
    skills: tuple[Value, ...]  # most used first
    cities: tuple[Value, ...]

    @property
    def skill_keys(self) -> set[str]:
        return {v.key for v in self.skills}


async def load_values(session: AsyncSession, community_id: int) -> CommunityValues:
    """Two grouped reads of the community's listed profiles."""
    listed = select(Profile.id).where(Profile.community_id == community_id, Profile.opt_directory.is_(True))
    skills = await session.execute(
        select(ProfileSkill.key, func.min(ProfileSkill.label), func.count())
        .where(ProfileSkill.community_id == community_id, ProfileSkill.profile_id.in_(listed))
        .group_by(ProfileSkill.key)
    )
    cities = await session.execute(
        select(Profile.city_key, func.min(Profile.city), func.count())
        .where(Profile.community_id == community_id, Profile.opt_directory.is_(True), Profile.city_key != "")
        .group_by(Profile.city_key)
    )

    def ordered(rows: object) -> tuple[Value, ...]:
        values = [Value(key, label, fold(label), n) for key, label, n in rows]  # type: ignore[attr-defined]
        return tuple(sorted(values, key=lambda v: (-v.count, v.key)))

    return CommunityValues(skills=ordered(skills), cities=ordered(cities))


class ValueCache:
    """Per database (engine) and community; entries older than `ttl` seconds are read again."""

    def __init__(self, ttl: float = DEFAULT_TTL, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._now = now
        self._entries: WeakKeyDictionary[Engine, dict[int, tuple[float, CommunityValues]]] = (
            WeakKeyDictionary()
        )

    async def get(self, session: AsyncSession, community_id: int) -> CommunityValues:
        engine = session.bind.sync_engine if session.bind is not None else None
        per_db = self._entries.setdefault(engine, {}) if engine is not None else {}
        entry = per_db.get(community_id)
        now = self._now()
        if entry is not None and entry[0] > now:
            return entry[1]
        values = await load_values(session, community_id)
        per_db[community_id] = (now + self.ttl, values)
        return values

    def forget(self) -> None:
        self._entries.clear()


VALUES = ValueCache()
