"""The search against a plain-Python reading of the same rows: filters, ranking, paging and card details.

Many ties on purpose (few update times, cities and dates): the SQL must order them exactly like the
rules say (skills matched, availability, sooner date, recently updated, id), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cogs.directory._filters import MODE_MATCHES, Filters, Query
from cogs.directory._search import PAGE_SIZE, SKILLS_SHOWN, SearchPage, search_members, search_page
from cogs.intros.models import Profile, ProfileSector, ProfileSkill, ProfileTrade
from storage.models import Member, Sector, Trade
from tests.directory.factory import T0, add_profile
from tests.fakes.callers import caller_for

TODAY = date(2026, 11, 26)
SKILLS = ["SEO", "WordPress", "Figma", "Notion", "Copywriting", "Podcast", "Data", "Python", "Print",
          "Naming"]
CITIES = ["Lyon", "lyon ", "Paris", "Saint-Étienne", "Nantes", ""]
TRADES = ["Développement", "Design graphique", "Rédaction web", "SEO / SEA"]
SECTORS = ["Mode", "Santé", "Sport"]


@pytest.fixture
def db(any_db):
    """On SQLite and on PostgreSQL: both must rank ties the same way."""
    return any_db


@dataclass
class Row:
    """What the oracle knows of a profile."""

    id: int
    name: str
    listed: bool
    city_key: str
    city: str
    work_mode: str
    availability: str
    available_from: date | None
    updated_at: Any
    trades: list[tuple[int, int, str]]  # (position, trade id, name)
    skills: list[tuple[int, str, str]]  # (row id, key, label)
    sectors: list[tuple[int, int, str]]  # (sector position, sector id, name)


async def seed(session, rng: random.Random, count: int) -> Any:
    me = await caller_for(session, "me")
    stranger = await caller_for(session, "x", guild="g2")
    for i in range(count):
        roll = rng.random()
        availability = "available" if roll < 0.4 else "from_date" if roll < 0.75 else "busy"
        days = rng.choice((-3, 0, 0, 5, 5, 20))
        when = TODAY + timedelta(days=days) if availability == "from_date" else None
        for caller_of, prefix in ((me, "u"), (stranger, "s")) if i % 10 == 0 else ((me, "u"),):
            guild = "g1" if caller_of is me else "g2"
            member = await caller_for(session, f"{prefix}{i}", guild=guild, name=f"{prefix}{i:03d}")
            await add_profile(
                session, member, trades=tuple(rng.sample(TRADES, rng.randint(0, 2))),
                skills=tuple(rng.sample(SKILLS, rng.randint(0, 4))),
                sectors=tuple(rng.sample(SECTORS, rng.randint(0, 2))),
                city=rng.choice(CITIES), work_mode=rng.choice(("remote", "onsite", "hybrid")),
                availability=availability, available_from=when, listed=rng.random() < 0.85,
                updated_at=T0 + timedelta(hours=rng.choice((0, 1, 1, 2))),
            )
    return me


async def rows_of(session, community_id: int) -> list[Row]:
    members = dict((await session.execute(select(Member.id, Member.display_name))).all())
    trades = dict((await session.execute(select(Trade.id, Trade.name))).all())
    sectors = {i: (pos, name) for i, pos, name in await session.execute(select(Sector.id, Sector.position,
                                                                                   Sector.name))}
    rows = {}
    for p in await session.scalars(select(Profile).where(Profile.community_id == community_id)):
        rows[p.id] = Row(p.id, members[p.member_id], p.opt_directory, p.city_key, p.city, p.work_mode,
                         p.availability, p.available_from, p.updated_at, [], [], [])
    for pt in await session.scalars(select(ProfileTrade)):
        if pt.profile_id in rows:
            rows[pt.profile_id].trades.append((pt.position, pt.trade_id, trades[pt.trade_id]))
    for ps in await session.scalars(select(ProfileSkill)):
        if ps.profile_id in rows:
            rows[ps.profile_id].skills.append((ps.id, ps.key, ps.label))
    for pc in await session.scalars(select(ProfileSector)):
        if pc.profile_id in rows:
            position, name = sectors[pc.sector_id]
            rows[pc.profile_id].sectors.append((position, pc.sector_id, name))
    return list(rows.values())


def expected(rows: list[Row], query: Query) -> list[tuple[Any, ...]]:
    """The ranked results, as (name, matched, trades, skills shown, sectors, city, updated_at)."""
    cutoff = TODAY if query.available_now else query.available_by
    wanted = set(query.skill_keys)
    found = []
    for r in rows:
        if not r.listed or (query.trade_id and query.trade_id not in {t for _, t, _ in r.trades}):
            continue
        if query.sector_id and query.sector_id not in {s for _, s, _ in r.sectors}:
            continue
        if (query.city_key and r.city_key != query.city_key) or (
                query.work_mode and r.work_mode not in MODE_MATCHES[query.work_mode]):
            continue
        from_date = r.availability == "from_date"
        if cutoff and not (r.availability == "available" or (from_date and r.available_from <= cutoff)):
            continue
        matched = len(wanted & {key for _, key, _ in r.skills})
        if wanted and not matched:
            continue
        rank = 0 if r.availability == "available" or (from_date and r.available_from <= TODAY) else (
            1 if from_date else 2)
        sooner = r.available_from if rank == 1 else date.min
        tags = sorted(sorted(r.skills), key=lambda tag: tag[1] not in wanted)
        card = (r.name, matched, tuple(n for *_, n in sorted(r.trades)),
                tuple(label for _, _, label in tags[:SKILLS_SHOWN]), tuple(n for *_, n in sorted(r.sectors)),
                r.city, r.updated_at)
        found.append(((-matched, rank, sooner, -r.updated_at.timestamp(), r.id), card))
    return [card for _, card in sorted(found)]


def shown(result: SearchPage) -> list[tuple[Any, ...]]:
    return [(h.display_name, h.matched_skills, h.trades, h.skills, h.sectors, h.city, h.updated_at)
            for h in result.hits]


def searches(rng: random.Random, trade_ids: dict[str, int], sector_ids: dict[str, int]) -> list[Filters]:
    choices = {
        "trade": lambda: rng.choice([str(trade_ids[rng.choice(TRADES)]), rng.choice(TRADES).lower()]),
        "skills": lambda: (", ".join(rng.sample(SKILLS, rng.randint(1, 3))),),
        "sector": lambda: str(sector_ids[rng.choice(SECTORS)]),
        "city": lambda: rng.choice(["LYON", "paris", "saint etienne", "Nantes"]),
        "work_mode": lambda: rng.choice(["remote", "onsite", "hybride"]),
        "available": lambda: rng.choice(["now", "2026-12-01", "2026-12-31"]),
    }
    out = [Filters()]
    for _ in range(40):
        picked = rng.sample(list(choices), rng.randint(1, 3))
        out.append(Filters(**{name: choices[name]() for name in picked}))
    return out


async def test_results_follow_the_rules_on_every_page(db):
    rng = random.Random(3)
    async with db.transaction() as s:
        me = await seed(s, rng, 90)
    async with db.transaction() as s:
        rows = await rows_of(s, me.community_id)
        trade_ids = dict((await s.execute(select(Trade.name, Trade.id).where(
            Trade.community_id == me.community_id))).all())
        sector_ids = dict((await s.execute(select(Sector.name, Sector.id).where(
            Sector.community_id == me.community_id))).all())
    nonempty = 0
    for filters in searches(rng, trade_ids, sector_ids):
        async with db.transaction() as s:
            first = await search_members(s, me, filters, today=TODAY)
            everything = expected(rows, first.query)
            assert first.total == len(everything), filters
            assert shown(first) == everything[:PAGE_SIZE], filters
            names = {i: n for n, i in trade_ids.items()}
            assert first.query.trade_name == names.get(first.query.trade_id, ""), filters
            nonempty += bool(everything)
            for page in range(2, first.pages + 2) if first.has_next else ():  # one past the end: the last
                later = await search_page(s, me, first.token, page, today=TODAY)
                last = min(page, first.pages)
                assert later.page == last, filters
                assert shown(later) == everything[(last - 1) * PAGE_SIZE:last * PAGE_SIZE], filters
    assert nonempty > 20  # the searches did find people
