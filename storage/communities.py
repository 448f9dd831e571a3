"""Communities and members: created on first contact, every lookup scoped by community."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.defaults import DEFAULT_SECTORS, DEFAULT_TRADES
from storage.models import Community, Member, Sector, Trade
from storage.sql import insert_ignore
from storage.text import fold


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


async def _seed_lists(session: AsyncSession, community: Community) -> None:
    lang = community.locale if community.locale in DEFAULT_TRADES else "en"
    await insert_ignore(
        session,
        Trade.__table__,
        [{"community_id": community.id, "key": fold(n), "name": n, "position": i}
         for i, n in enumerate(DEFAULT_TRADES[lang])],
    )
    await insert_ignore(
        session,
        Sector.__table__,
        [{"community_id": community.id, "key": fold(n), "name": n, "position": i}
         for i, n in enumerate(DEFAULT_SECTORS[lang])],
    )


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
