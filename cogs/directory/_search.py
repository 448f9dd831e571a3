"""Directory search: listed profiles of the caller's community, filtered, ranked and paginated in SQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot import paging
from bot.community_time import community_today
from bot.context import Caller
from bot.errors import NotFound
from bot.notifier import Notifier
from bot.usecase import Context
from cogs.directory import _queries as sql
from cogs.directory._filters import Filters, Query, pending_names, resolve, unchecked_skills
from cogs.directory.models import DirectoryQuery

# Queues a write for after the answer; the optional second callable runs once its transaction ended.
Later = Callable[[Callable[[AsyncConnection], Awaitable[Any]], Callable[[], None] | None], None]

PAGE_SIZE = 5
TOUCH_AFTER = timedelta(days=1)  # a stored search run again is marked used when last used this long ago
PAGING = "directory"  # its searches' key in bot.paging
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
    later: Later | None = None,
) -> SearchPage:
    """Search the caller's community directory; the query is stored only when there is a next page.

    With `later` (a use case's Context.after_commit), storing it waits until the member has the answer.

    Optimistic: typed ids and skills are taken as they are and the search statement confirms them
    (one round trip instead of one per lookup); only when it cannot (no result, a name made of
    digits, a misspelt skill) are the filters resolved in full and, if that changes them, searched
    again. Either way the result is the one of resolving first.
    """
    cid, locale = caller.community_id, caller.community_locale
    query = await resolve(session, cid, locale, filters, today, confirm_later=True)
    conn = await session.connection()
    result, found = await _run_query(conn, cid, query, page, page_size, today=today)
    if not found.confirms(query):
        checked = await resolve(session, cid, locale, filters, today)  # or InvalidInput
        if (checked.trade_id, checked.sector_id, checked.skill_keys) != (
                query.trade_id, query.sector_id, query.skill_keys):
            result, found = await _run_query(conn, cid, checked, page, page_size, today=today)
        query = checked
    elif pending_names(query):
        query = replace(query, trade_name=found.trade_name or "", sector_name=found.sector_name or "")
    result = replace(result, query=query)
    if result.total > page_size and not found.stored:
        row: dict[str, Any] = {"community_id": cid, "token": result.token, "filters": query.to_json()}
        if now is not None:  # else the columns' defaults
            row |= {"created_at": now, "used_at": now}
        if later is None:
            await conn.execute(sql.remember(conn.dialect.name), row)
        else:  # a page asked before the store committed finds the query in this process meanwhile
            stored = paging.storing(PAGING, cid, result.token, query)
            later(lambda db: db.execute(sql.remember(db.dialect.name), row), stored)
    elif found.used_at is not None and now is not None and found.used_at <= now - TOUCH_AFTER:
        # Run again: in use, so kept (`_cleanup`); written at most once a day, not on every search.
        touch = (update(DirectoryQuery)
                 .where(DirectoryQuery.community_id == cid, DirectoryQuery.token == result.token,
                        DirectoryQuery.used_at < now)
                 .values(used_at=now))
        if later is None:
            await conn.execute(touch)
        else:
            later(lambda db: db.execute(touch), None)
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
    later: Later | None = None,
) -> SearchPage:
    """A page of a stored search (a paging button); a token of another community is NotFound."""
    conn = await session.connection()
    query = paging.pending(PAGING, caller.community_id, token)  # still being stored: just used
    if query is None:
        stored = (await conn.execute(sql.stored_search(),
                                     {"cid": caller.community_id, "token": token})).first()
        if stored is None:
            raise NotFound("directory.errors.search_expired")
        if now is not None:  # kept while in use (unused searches are forgotten: _cleanup)
            touch = update(DirectoryQuery).where(DirectoryQuery.id == stored.id).values(used_at=now)
            if later is None:
                await conn.execute(touch)
            else:
                later(lambda db: db.execute(touch), None)
        query = Query.from_json(stored.filters)
    result, _ = await _run_query(conn, caller.community_id, query, page, page_size, today=today)
    return result


async def forget_searches(session: AsyncSession, before: datetime) -> int:
    """Remove stored searches unused since `before` (their paging buttons then say "search again")."""
    table = cast(Table, DirectoryQuery.__table__)
    result = await session.execute(table.delete().where(DirectoryQuery.used_at < before))
    return result.rowcount or 0  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Found:
    """What the search statement says besides the page (all unknown when it found nobody)."""

    used_at: datetime | None = None  # the search is stored, last used then: storing it again is for nothing
    trade_name: str | None = None  # None: not an id of this community (or unknown)
    sector_name: str | None = None
    skills_used: int | None = None  # how many of `unchecked_skills(query)` the community uses

    @property
    def stored(self) -> bool:
        return self.used_at is not None

    def confirms(self, query: Query) -> bool:
        """The ids and skills `resolve(…, confirm_later=True)` took as they were are right."""
        unchecked = unchecked_skills(query)
        return (
            (query.trade_id is None or bool(query.trade_name) or self.trade_name is not None)
            and (query.sector_id is None or bool(query.sector_name) or self.sector_name is not None)
            and (not unchecked or self.skills_used == len(unchecked))
        )


async def _run_query(
    conn: AsyncConnection, community_id: int, query: Query, page: int, page_size: int, *, today: date
) -> tuple[SearchPage, _Found]:
    """A page of ranked results, the total and the cards' details in one statement."""
    shape = sql.Shape.of(query)
    token = query.token(community_id)
    page = max(1, page)

    async def fetch(page: int) -> list[Any]:
        params = sql.values(query, community_id, token, today, page, page_size)
        return list((await conn.execute(sql.ranked(shape), params)).all())

    rows = await fetch(page)
    if not rows and page > 1:  # past the end (results changed since): show the last page
        params = sql.values(query, community_id, token, today, 1, page_size)
        total = (await conn.execute(sql.counted(shape), params)).scalar() or 0
        page = max(1, -(-total // page_size))
        rows = await fetch(page)
    hits = _hits(query, rows)
    if not hits:
        return SearchPage(query, token, hits, page, page_size, 0), _Found()
    first = rows[0]
    found = _Found(first.used_at, first.trade_name, first.sector_name, first.skills_used)
    return SearchPage(query, token, hits, page, page_size, first.total), found


def _hits(query: Query, rows: list[Any]) -> tuple[MemberHit, ...]:
    """Cards from `sql.ranked` rows: the page's profiles (kind 0, ranked), then their trades, skills, sectors.

    Rows are unpacked by position (the column order of `sql.ranked`): a Row's attribute access
    costs about a microsecond, and a page has some fifty rows.
    """
    profiles = []
    found: dict[int, tuple[list[Any], ...]] = {}
    for row in rows:
        kind, pid, _, a, b, *_ = row
        if kind == 0:
            profiles.append(row)
            found[pid] = ([], [], [])
        else:
            found[pid][kind - 1].append((a, b) if kind == 2 else a)
    wanted = set(query.skill_keys)
    hits = []
    for row in profiles:
        (pid, _, name, user_id, member_id, city, work_mode, availability, available_from, updated_at,
         n) = row[1:12]
        trades, tags, sectors = found[pid]
        if wanted:
            tags = sorted(tags, key=lambda tag: tag[1] not in wanted)  # stable: matched first
        hits.append(MemberHit(
            member_id=member_id, user_id=user_id or "", display_name=name or "", trades=tuple(trades),
            skills=tuple(label for label, _ in tags[:SKILLS_SHOWN]), matched_skills=int(n or 0),
            sectors=tuple(sectors), city=city, work_mode=work_mode, availability=availability,
            available_from=available_from, updated_at=updated_at,
        ))
    return tuple(hits)


# -- the use cases the bindings run (bot.usecase.run) ---------------------------------------------


def _write_after(ctx: Context) -> Later:
    """A search's writes (its paging token, its last use), queued for after the answer.

    Each runs in its own transaction: the search itself only reads, so the member never waits
    behind a writer.
    """

    def later(write: Callable[[AsyncConnection], Awaitable[Any]], then: Callable[[], None] | None) -> None:
        db = ctx.services.db

        async def store(_notifier: Notifier | None) -> None:
            try:
                async with db.transaction() as session:
                    await write(await session.connection())
            finally:
                if then is not None:
                    then()

        ctx.after_commit(store)

    return later


async def find_members(ctx: Context, filters: Filters) -> tuple[SearchPage, date]:
    """/members: the first page for these filters, and the community's today the card is shown for."""
    now = ctx.clock.now()
    today = community_today(now, ctx.caller.timezone)
    found = await search_members(ctx.session, ctx.caller, filters, today=today, now=now,
                                 later=_write_after(ctx))
    return found, today


async def turn_page(ctx: Context, token: str, page: int) -> tuple[SearchPage, date]:
    """Previous / Next on a result card ."""
    now = ctx.clock.now()
    today = community_today(now, ctx.caller.timezone)
    found = await search_page(ctx.session, ctx.caller, token, page, today=today, now=now,
                              later=_write_after(ctx))
    return found, today
