"""The skills and cities used by a community's listed members, cached in memory for autocomplete.

Reading them means grouping every profile_skills row of the community (about 130 ms for 10,000
profiles on SQLite), far too slow for each keystroke (Discord gives autocomplete 3 s, no defer, and
members type fast). The distinct values are few (hundreds), so they are read at most every `ttl`
seconds per community and matched in memory. A skill added a moment ago shows up after the TTL;
the search itself always reads the tables.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from cogs.intros.models import Profile, ProfileSkill
from storage.engine import BACKGROUND_OPTION, WRITE_OPTION, Database
from storage.text import fold

log = logging.getLogger(__name__)
DEFAULT_TTL = 30.0
# How long past its TTL a copy may still be served (while it is refreshed); older, it is read again.
DEFAULT_MAX_STALE = 3600.0


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
    """Per database (engine) and community; an entry older than `ttl` seconds is refreshed.

    Stale-while-revalidate: an expired entry is still served while one background task per
    community reads the new values in its own read-only transaction, so no member's request ever
    waits for the grouping reads (40-210 ms on 10k-50k profiles). Only a community's first lookup,
    and one after `max_stale` seconds without any, read inline.

    Keyed by community id, which SQLite gives to the next community once one is purged: the purge
    drops the copy (`drop`, through `PrivacyHook.forget`), and a copy another process kept is never
    served that late, a purge coming days after the community's last request (a request from a
    paused community restores it).
    """

    def __init__(self, ttl: float = DEFAULT_TTL, now: Callable[[], float] = time.monotonic, *,
                 max_stale: float = DEFAULT_MAX_STALE) -> None:
        self.ttl = ttl
        self.max_stale = max_stale
        self._now = now
        self._entries: WeakKeyDictionary[Engine, dict[int, tuple[float, CommunityValues]]] = (
            WeakKeyDictionary()
        )
        self._refreshing: dict[tuple[int, int], asyncio.Task[None]] = {}
        self._dropped: dict[int, int] = {}  # community -> how many times its copy was dropped

    async def get(self, session: AsyncSession, community_id: int) -> CommunityValues:
        """The community's values: the copy in memory, read in `session` only the first time."""
        if session.bind is None:
            return await load_values(session, community_id)
        values = self.cached(session.bind, community_id)
        if values is None:
            values = await load_values(session, community_id)
            self._entries.setdefault(session.bind.sync_engine, {})[community_id] = (self._now() + self.ttl,
                                                                                    values)
        return values

    def cached(self, engine: AsyncEngine | AsyncConnection, community_id: int) -> CommunityValues | None:
        """The copy in memory, without any transaction; None: to be read (never, or long ago).

        An expired copy is served and refreshed in the background, up to `max_stale` seconds late.
        """
        per_db = self._entries.get(engine.sync_engine)
        entry = per_db.get(community_id) if per_db is not None else None
        if per_db is None or entry is None:
            return None
        if entry[0] + self.max_stale <= self._now():
            del per_db[community_id]
            return None
        if entry[0] <= self._now():
            self._refresh(engine, per_db, community_id)
        return entry[1]

    async def of(self, db: Database, community_id: int) -> CommunityValues:
        """For a keystroke: the copy in memory; a read-only transaction only for the first read.

        Opening a transaction for each keystroke (a connection, BEGIN, its end) took about a third
        of an autocomplete's time through Discord (4.1-4.4 ms median, 2.9 ms without).
        """
        values = self.cached(db.engine, community_id)
        if values is None:
            async with db.transaction(write=False) as session:
                values = await self.get(session, community_id)
        return values

    def _refresh(self, bind: Any, per_db: dict[int, tuple[float, CommunityValues]],
                 community_id: int) -> None:
        key = (id(per_db), community_id)
        if key in self._refreshing:
            return

        async def refresh() -> None:
            dropped = self._dropped.get(community_id, 0)
            try:
                async with AsyncSession(bind) as session, session.begin():
                    # Its two grouped reads scan every listed profile (40-210 ms): off the loop.
                    await session.connection(
                        execution_options={WRITE_OPTION: False, BACKGROUND_OPTION: True}
                    )
                    values = await load_values(session, community_id)
                if self._dropped.get(community_id, 0) == dropped:  # else read before a deletion
                    per_db[community_id] = (self._now() + self.ttl, values)
            except Exception:  # the stale copy keeps serving; the next lookup tries again
                log.exception("refreshing the directory values of community %s failed", community_id)
            finally:
                self._refreshing.pop(key, None)

        self._refreshing[key] = asyncio.get_running_loop().create_task(refresh())

    async def settle(self) -> None:
        """Wait for the refreshes in flight (tests, shutdown)."""
        while self._refreshing:
            await asyncio.gather(*list(self._refreshing.values()), return_exceptions=True)

    def forget(self) -> None:
        self._entries.clear()

    def drop(self, community_id: int, _member_id: int | None = None) -> None:
        """Forget a community's copy: a member's data deleted, or the community paused or purged.

        What is gone must not be suggested again, not even once more: the next lookup reads again,
        and a refresh already in flight, begun before, does not store its copy.
        """
        self._dropped[community_id] = self._dropped.get(community_id, 0) + 1
        for per_db in self._entries.values():
            per_db.pop(community_id, None)


VALUES = ValueCache()
