"""Directory search: listed profiles of the caller's community, filtered, ranked and paginated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.context import Caller
from bot.errors import NotFound
from cogs.directory import _queries as sql
from cogs.directory._filters import Filters, Query, resolve
from cogs.directory.models import DirectoryQuery

PAGE_SIZE = 5
SKILLS_SHOWN = 8


@dataclass(frozen=True)
class MemberHit:
    """One result: what a directory card shows about a member."""

    member_id: int
    user_id: str  # the platform's user id
    display_name: str
    trades: tuple[str, ...]
    skills: tuple[str, ...]  # labels, matched ones first
    matched_skills: int
    sectors: tuple[str, ...]
    city: str
    work_mode: str
    availability: str  # available | from_date | busy, as stored
    available_from: date | None
    updated_at: datetime


@dataclass(frozen=True)
class SearchPage:
    query: Query
    token: str
    hits: tuple[MemberHit, ...]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


async def search_members(
    session: AsyncSession,
    caller: Caller,
    filters: Filters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    *,
    today: date,
    now: datetime | None = None,
) -> SearchPage:
    """Search the caller's community directory; the query is stored only when there is a next page."""
    query = await resolve(session, caller.community_id, caller.community_locale, filters, today)
    conn = await session.connection()
    result = await run_query(conn, caller.community_id, query, page, page_size, today=today)
    if result.total > page_size:
        row: dict[str, Any] = {"community_id": caller.community_id, "token": result.token,
                               "filters": query.to_json()}
        if now is not None:  # else the columns' defaults
            row |= {"created_at": now, "used_at": now}
        await conn.execute(sql.remember(conn.dialect.name), row)
    return result


async def search_page(
    session: AsyncSession,
    caller: Caller,
    token: str,
    page: int,
    page_size: int = PAGE_SIZE,
    *,
    today: date,
    now: datetime | None = None,
) -> SearchPage:
    """A page of a stored search (a paging button); a token of another community is NotFound."""
    conn = await session.connection()
    stored = (await conn.execute(sql.stored_search(), {"cid": caller.community_id, "token": token})).first()
    if stored is None:
        raise NotFound("directory.errors.search_expired")
    if now is not None:
        await conn.execute(update(DirectoryQuery).where(DirectoryQuery.id == stored.id).values(used_at=now))
    query = Query.from_json(stored.filters)
    return await run_query(conn, caller.community_id, query, page, page_size, today=today)


async def forget_searches(session: AsyncSession, before: datetime) -> int:
    """Remove stored searches unused since `before` (their paging buttons then say "search again")."""
    result = await session.execute(DirectoryQuery.__table__.delete().where(DirectoryQuery.used_at < before))
    return result.rowcount or 0


async def run_query(
    conn: AsyncConnection, community_id: int, query: Query, page: int, page_size: int, *, today: date
) -> SearchPage:
    """A page of ranked results and the total in one statement, then the page's card data in one more."""
    shape = sql.Shape.of(query)
    page = max(1, page)

    async def fetch(page: int) -> list[Any]:
        params = sql.values(query, community_id, today, page, page_size)
        return list((await conn.execute(sql.ranked(shape), params)).all())

    rows = await fetch(page)
    if not rows and page > 1:  # past the end (results changed since): show the last page
        params = sql.values(query, community_id, today, 1, page_size)
        total = (await conn.execute(sql.counted(shape), params)).scalar() or 0
        page = max(1, -(-total // page_size))
        rows = await fetch(page)
    total = rows[0].total if rows else 0
    hits = await _hits(conn, community_id, query, rows)
    return SearchPage(query=query, token=query.token(community_id), hits=hits, page=page,
                      page_size=page_size, total=total)


async def _hits(
    conn: AsyncConnection, community_id: int, query: Query, rows: list[Any]
) -> tuple[MemberHit, ...]:
    if not rows:
        return ()
    ids = [r.id for r in rows]
    found: dict[int, dict[int, list[tuple[str, str]]]] = {i: {0: [], 1: [], 2: [], 3: []} for i in ids}
    for kind, pid, a, b, _ in await conn.execute(sql.details(), {"cid": community_id, "ids": ids}):
        found[pid][kind].append((a, b))
    wanted = set(query.skill_keys)
    hits = []
    for r in rows:
        parts = found[r.id]
        name, user_id = parts[0][0] if parts[0] else ("", "")
        tags = sorted(parts[2], key=lambda tag: tag[1] not in wanted)  # stable: matched first
        hits.append(MemberHit(
            member_id=r.member_id, user_id=user_id, display_name=name,
            trades=tuple(a for a, _ in parts[1]), skills=tuple(a for a, _ in tags[:SKILLS_SHOWN]),
            matched_skills=int(r.n) if "n" in r._fields else 0,
            sectors=tuple(a for a, _ in parts[3]), city=r.city, work_mode=r.work_mode,
            availability=r.availability, available_from=r.available_from, updated_at=r.updated_at,
        ))
    return tuple(hits)
