"""Communities and members: created on first contact, every lookup scoped by community."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.defaults import DEFAULT_SECTORS, DEFAULT_TRADES
from storage.models import Community, Member, Sector, Trade
from storage.sql import dialect_insert, insert_for, insert_ignore
from storage.text import fold

BATCH = 200  # communities per statement: 200 x 10 default trades x 4 columns stays far below the
# bound-parameter limits (SQLite 32,766, asyncpg 32,767)


@dataclass(frozen=True)
class NewCommunity:
    """What a community is created with on first contact."""

    external_id: str
    name: str = ""
    locale: str = "fr"
    timezone: str = "Europe/Paris"


@dataclass(frozen=True)
class KnownCommunity:
    id: int
    active: bool
    created: bool  # created by this call (with its default trades and sectors)


async def get_community(session: AsyncSession, platform: str, external_id: str) -> Community | None:
    return await session.scalar(
        select(Community).where(Community.platform == platform, Community.external_id == external_id)
    )


async def ensure_community(
    session: AsyncSession,
    platform: str,
    external_id: str,
    *,
    name: str = "",
    locale: str = "fr",
    timezone: str = "Europe/Paris",
) -> Community:
    """The community for a guild / workspace, created with its default trades and sectors on first contact."""
    community = await get_community(session, platform, external_id)
    if community is not None:
        return community
    await insert_ignore(
        session,
        Community.__table__,
        [{"platform": platform, "external_id": external_id, "name": name[:200], "locale": locale,
          "timezone": timezone, "active": True}],
    )
    community = await get_community(session, platform, external_id)
    assert community is not None
    await _seed_lists(session, community)
    return community


async def ensure_communities(
    session: AsyncSession, platform: str, wanted: Sequence[NewCommunity]
) -> dict[str, KnownCommunity]:
    """`ensure_community` for many at once (a first start in thousands of guilds), by external id.

    Per batch of `BATCH`: one SELECT of those that exist, one INSERT (executemany) of the others, one
    SELECT of their ids, and one INSERT each (executemany) for their default trades and sectors. Inactive
    (paused) communities are returned as they are: restoring them is the caller's decision.
    """
    known: dict[str, KnownCommunity] = {}
    for start in range(0, len(wanted), BATCH):
        batch = {w.external_id: w for w in wanted[start:start + BATCH]}
        rows = await _lookup(session, platform, list(batch))
        known.update({external_id: KnownCommunity(cid, active, False) for external_id, cid, active in rows})
        new = [w for external_id, w in batch.items() if external_id not in known]
        if not new:
            continue
        await _insert_many(
            session,
            Community.__table__,
            [{"platform": platform, "external_id": w.external_id, "name": w.name[:200], "locale": w.locale,
              "timezone": w.timezone, "active": True} for w in new],
        )
        created = await _lookup(session, platform, [w.external_id for w in new])
        known.update({external_id: KnownCommunity(cid, active, True) for external_id, cid, active in created})
        await _seed_many(session, [(cid, batch[external_id].locale) for external_id, cid, _ in created])
    return known


async def _insert_many(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING of many rows as one executemany of one cached statement.

    A multi-row VALUES clause would be compiled anew for every batch: for 2,500 communities that
    compiling (217k bound parameters) took 9 s, the inserts themselves milliseconds.
    """
    if rows:
        await session.execute(dialect_insert(session, table).on_conflict_do_nothing(), rows)


async def _lookup(
    session: AsyncSession, platform: str, external_ids: list[str]
) -> list[tuple[str, int, bool]]:
    rows = await session.execute(
        select(Community.external_id, Community.id, Community.active)
        .where(Community.platform == platform, Community.external_id.in_(external_ids))
    )
    return [(row.external_id, row.id, row.active) for row in rows]


async def _seed_lists(session: AsyncSession, community: Community) -> None:
    await _seed_many(session, [(community.id, community.locale)])


async def _seed_many(session: AsyncSession, communities: Sequence[tuple[int, str]]) -> None:
    """Default trades and sectors of new communities (id, locale): one INSERT … SELECT per list and language.

    The database pairs each community with its language's defaults (literals, folded once per
    process): building and binding a row per community and name in Python took 400 ms for 2,500
    first-contact communities (50,000 rows), most of a first start's own work.
    """
    ids: dict[str, list[int]] = {}
    for community_id, locale in communities:
        ids.setdefault(locale if locale in DEFAULT_TRADES else "en", []).append(community_id)
    dialect = session.get_bind().dialect.name
    for locale, community_ids in ids.items():
        for model in (Trade, Sector):
            await session.execute(_seeding(dialect, model, locale), {"ids": community_ids})


@cache
def _seeding(dialect: str, model: type[Trade | Sector], locale: str) -> Any:
    """INSERT INTO <list> SELECT id, default FROM communities JOIN (SELECT … UNION ALL …) WHERE id IN :ids."""
    names = (DEFAULT_TRADES if model is Trade else DEFAULT_SECTORS)[locale]
    defaults = union_all(*(
        select(literal(fold(name)).label("key"), literal(name).label("name"),
               literal(position).label("position"))
        for position, name in enumerate(names))).subquery("defaults")
    chosen = (
        select(Community.id, defaults.c.key, defaults.c.name, defaults.c.position)
        .join(defaults, true())  # every community with every default
        .where(Community.id.in_(bindparam("ids", expanding=True)))
    )
    return insert_for(dialect, model.__table__).from_select(
        ["community_id", "key", "name", "position"], chosen).on_conflict_do_nothing()


async def ensure_member(
    session: AsyncSession,
    community: Community,
    platform_user_id: str,
    *,
    display_name: str = "",
    locale: str | None = None,
) -> Member:
    """The member row of a person in this community, created on first contact.

    `locale` is the member's language as last seen from the platform (a supported short form such
    as "fr"): messages sent outside an interaction (DMs, reminders) use it. None keeps what is stored.
    """
    query = select(Member).where(
        Member.community_id == community.id, Member.platform_user_id == platform_user_id
    )
    member = await session.scalar(query)
    if member is None:
        await insert_ignore(
            session,
            Member.__table__,
            [{"community_id": community.id, "platform_user_id": platform_user_id,
              "display_name": display_name[:200], "locale": locale}],
        )
        member = await session.scalar(query)
        assert member is not None  # ours, or a concurrent first contact's: then update it below
    if display_name and member.display_name != display_name[:200]:
        member.display_name = display_name[:200]
    if locale and member.locale != locale:
        member.locale = locale
    return member


async def trades(session: AsyncSession, community_id: int) -> list[Trade]:
    rows = await session.scalars(
        select(Trade).where(Trade.community_id == community_id).order_by(Trade.position, Trade.id)
    )
    return list(rows)


async def sectors(session: AsyncSession, community_id: int) -> list[Sector]:
    rows = await session.scalars(
        select(Sector).where(Sector.community_id == community_id).order_by(Sector.position, Sector.id)
    )
    return list(rows)
