"""Test data: communities, callers and profiles written straight to the tables (no intro flow)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller
from cogs.directory._complete import Choice, match_cities, match_skills
from cogs.directory._values import VALUES
from cogs.intros.models import Profile, ProfileLink, ProfileSector, ProfileSkill, ProfileTrade
from cogs.intros.profiles import normalize_skill
from storage.models import Sector, Trade
from storage.text import city_key, fold

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def skill_choices(session: AsyncSession, community_id: int, locale: str, typed: str) -> list[Choice]:
    """As the autocomplete: the community's values (read in `session` the first time), matched."""
    return match_skills((await VALUES.get(session, community_id)).skills, locale, typed)


async def city_choices(session: AsyncSession, community_id: int, typed: str) -> list[Choice]:
    return match_cities((await VALUES.get(session, community_id)).cities, typed)


async def trade_id(session: AsyncSession, community_id: int, name: str) -> int:
    found = await session.scalar(select(Trade.id).where(Trade.community_id == community_id,
                                                         Trade.key == fold(name)))
    assert found is not None, name
    return found


async def sector_id(session: AsyncSession, community_id: int, name: str) -> int:
    found = await session.scalar(select(Sector.id).where(Sector.community_id == community_id,
                                                          Sector.key == fold(name)))
    assert found is not None, name
    return found


async def add_profile(
    session: AsyncSession, caller: Caller, *, trades: tuple[str, ...] = (), skills: tuple[str, ...] = (),
    sectors: tuple[str, ...] = (), city: str = "", work_mode: str = "remote", availability: str = "available",
    available_from: date | None = None, updated_at: datetime = T0, listed: bool = True,
    bio: str = "", links: tuple[str, ...] = (),
) -> Profile:
    cid = caller.community_id
    profile = Profile(community_id=cid, member_id=caller.member_id, city=city, city_key=city_key(city),
                      work_mode=work_mode, availability=availability, available_from=available_from,
                      bio=bio, opt_directory=listed, created_at=updated_at, updated_at=updated_at,
                      languages=["fr"])
    session.add(profile)
    await session.flush()
    for i, name in enumerate(trades):
        session.add(ProfileTrade(community_id=cid, profile_id=profile.id,
                                 trade_id=await trade_id(session, cid, name), position=i))
    for label in skills:
        session.add(ProfileSkill(community_id=cid, profile_id=profile.id,
                                 key=normalize_skill(label, caller.community_locale), label=label))
    for name in sectors:
        session.add(ProfileSector(community_id=cid, profile_id=profile.id,
                                  sector_id=await sector_id(session, cid, name)))
    for i, url in enumerate(links):
        session.add(ProfileLink(community_id=cid, profile_id=profile.id, url=url, position=i))
    await session.flush()
    return profile
