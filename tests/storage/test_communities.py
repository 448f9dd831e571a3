"""Communities and members are created once on first contact, even when many requests race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from storage.communities import (
    NewCommunity,
    ensure_communities,
    ensure_community,
    ensure_member,
    sectors,
    trades,
)
from storage.defaults import DEFAULT_SECTORS, DEFAULT_TRADES
from storage.engine import Database
from storage.models import Community, Job, Member, Sector, Trade


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_ensure_community_is_idempotent(any_db: Database) -> None:
    async with any_db.transaction() as session:
        first = await ensure_community(session, "discord", "42", name="Collectif Lyon")
    async with any_db.transaction() as session:
        again = await ensure_community(session, "discord", "42", name="renamed later")
        listed = await trades(session, again.id)
    assert again.id == first.id
    assert (again.name, again.locale, again.timezone) == ("Collectif Lyon", "fr", "Europe/Paris")
    assert again.active
    assert [trade.name for trade in listed] == list(DEFAULT_TRADES["fr"])


async def test_fifty_concurrent_first_contacts_make_one_community(any_db: Database) -> None:
    async def contact() -> int:
        async with any_db.transaction() as session:
            return (await ensure_community(session, "slack", "T0123", locale="en")).id

    ids = await asyncio.gather(*(contact() for _ in range(50)))

    assert len(set(ids)) == 1
    assert await _count(any_db, Community) == 1
    assert await _count(any_db, Trade) == len(DEFAULT_TRADES["en"])
    assert await _count(any_db, Sector) == len(DEFAULT_SECTORS["en"])


async def test_many_first_contacts_get_their_language_defaults_once(any_db: Database) -> None:
    """A first start in many guilds: each new community gets its language's lists (English for a language
    without defaults), in order, with their folded keys; a community met again is not seeded twice."""
    wanted = [NewCommunity(str(i), f"Collectif {i}", ("fr", "en", "de")[i % 3]) for i in range(450)]
    async with any_db.transaction() as session:
        first = await ensure_communities(session, "discord", wanted[:300])
    async with any_db.transaction() as session:
        known = await ensure_communities(session, "discord", wanted)
        assert [known[w.external_id].created for w in wanted] == [False] * 300 + [True] * 150
        assert all(known[w.external_id].id == first[w.external_id].id for w in wanted[:300])
        for w in (wanted[0], wanted[1], wanted[2], wanted[301], wanted[449]):
            language = "fr" if w.locale == "fr" else "en"
            listed = await trades(session, known[w.external_id].id)
            assert [(t.name, t.position) for t in listed] == [
                (name, position) for position, name in enumerate(DEFAULT_TRADES[language])]
            assert [s.name for s in await sectors(session, known[w.external_id].id)] == list(
                DEFAULT_SECTORS[language])
        assert {t.key for t in listed} >= {"development", "seo / sea"}
    def language(w: NewCommunity) -> str:
        return "fr" if w.locale == "fr" else "en"

    assert await _count(any_db, Trade) == sum(len(DEFAULT_TRADES[language(w)]) for w in wanted)
    assert await _count(any_db, Sector) == sum(len(DEFAULT_SECTORS[language(w)]) for w in wanted)


async def test_the_same_id_on_two_platforms_is_two_communities(any_db: Database) -> None:
    async with any_db.transaction() as session:
        discord = await ensure_community(session, "discord", "1")
        slack = await ensure_community(session, "slack", "1")
    assert discord.id != slack.id


async def test_concurrent_first_contacts_make_one_member(any_db: Database) -> None:
    async with any_db.transaction() as session:
        community = await ensure_community(session, "discord", "42")

    async def contact(name: str) -> int:
        async with any_db.transaction() as session:
            return (await ensure_member(session, community, "u1", display_name=name)).id

    ids = await asyncio.gather(*(contact("Camille") for _ in range(20)))
    assert len(set(ids)) == 1
    async with any_db.transaction() as session:
        member = await ensure_member(session, community, "u1", display_name="Camille D.")
    async with any_db.sessionmaker() as session:
        stored = await session.get(Member, member.id)
    assert stored is not None
    assert stored.display_name == "Camille D."


async def test_deleting_a_community_deletes_what_belongs_to_it(any_db: Database) -> None:
    async with any_db.transaction() as session:
        gone = await ensure_community(session, "discord", "1")
        kept = await ensure_community(session, "discord", "2")
        for community in (gone, kept):
            await ensure_member(session, community, "u1")
            session.add(Job(kind="remind", payload={}, due_at=datetime.now(UTC), community_id=community.id))
    async with any_db.transaction() as session:
        await session.execute(delete(Community).where(Community.id == gone.id))

    for model in (Member, Trade, Sector, Job):
        assert await _count(any_db, model, model.community_id == gone.id) == 0, model
        assert await _count(any_db, model, model.community_id == kept.id) > 0, model
    async with any_db.sessionmaker() as session:
        assert [s.name for s in await sectors(session, kept.id)] == list(DEFAULT_SECTORS["fr"])


async def test_foreign_keys_are_enforced(any_db: Database) -> None:
    async def add_orphan() -> None:
        async with any_db.transaction() as session:
            session.add(Member(community_id=999_999, platform_user_id="u1"))

    with pytest.raises(IntegrityError):
        await add_orphan()


async def test_settings_read_in_a_read_only_transaction_are_the_defaults_unsaved(any_db: Database) -> None:
    """A read-only transaction never inserts the settings row (on SQLite that INSERT waited on the
    write lock: /feedback in a community nobody had configured yet lost its answer behind a backup)."""
    from storage.models import CommunitySettings
    from storage.settings import get_settings

    async with any_db.transaction() as session:
        community = await ensure_community(session, "discord", "43")
    async with any_db.transaction(write=False) as session:
        read = await get_settings(session, community.id)
        assert (read.missions_per_week, read.reminder_offsets_minutes) == (3, [1440, 60])
        assert read not in session
    assert await _count(any_db, CommunitySettings) == 0
    async with any_db.transaction() as session:  # a write transaction stores them on first use
        stored = await get_settings(session, community.id)
        stored.missions_per_week = 5
    async with any_db.transaction(write=False) as session:
        assert (await get_settings(session, community.id)).missions_per_week == 5
