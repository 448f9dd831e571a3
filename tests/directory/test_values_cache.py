"""The autocomplete values: an expired copy keeps serving while one background read refreshes it."""

from __future__ import annotations

from sqlalchemy import event

from bot.context import Caller
from bot.services import Services
from cogs.directory._values import ValueCache
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for


async def _cache_and_alice(services: Services) -> tuple[list[float], ValueCache, Caller]:
    """A cache on a clock the test moves, and Alice listed with one skill and a city."""
    clock = [0.0]
    cache = ValueCache(ttl=30, now=lambda: clock[0])
    async with services.db.transaction() as session:
        alice = await caller_for(session, "alice")
        await add_profile(session, alice, skills=("Figma",), city="Lyon")
    return clock, cache, alice


async def test_an_expired_copy_is_served_and_refreshed_in_the_background(services: Services) -> None:
    clock, cache, alice = await _cache_and_alice(services)
    async with services.db.transaction() as session:
        first = await cache.get(session, alice.community_id)
    assert [v.label for v in first.skills] == ["Figma"]

    async with services.db.transaction() as session:
        bob = await caller_for(session, "bob")
        await add_profile(session, bob, skills=("Webflow",), city="Lyon")
    clock[0] = 31.0
    reads: list[str] = []
    during_get: list[str] = []
    event.listen(services.db.engine.sync_engine, "before_cursor_execute",
                 lambda *args: reads.append(args[2]))
    async with services.db.transaction(write=False) as session:
        before = len(reads)
        served = await cache.get(session, alice.community_id)
        during_get = reads[before:]
    assert served is first  # the member got the stale copy at once, without the grouping reads
    assert not any("GROUP BY" in statement for statement in during_get)

    await cache.settle()
    async with services.db.transaction(write=False) as session:
        fresh = await cache.get(session, alice.community_id)
    assert sorted(v.label for v in fresh.skills) == ["Figma", "Webflow"]
    assert "BEGIN IMMEDIATE" not in reads  # the refresh reads without taking the write lock


async def test_a_keystroke_served_from_memory_opens_no_transaction(services: Services) -> None:
    """`of` (the Discord autocomplete): a transaction for the community's first read only."""
    clock, cache, alice = await _cache_and_alice(services)
    checkouts: list[object] = []
    statements: list[str] = []
    engine = services.db.engine.sync_engine
    event.listen(engine.pool, "checkout", lambda *args: checkouts.append(args[0]))
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    first = await cache.of(services.db, alice.community_id)
    assert [v.label for v in first.skills] == ["Figma"] and [v.label for v in first.cities] == ["Lyon"]
    assert len(checkouts) == 1 and any("GROUP BY" in s for s in statements)
    assert not any(s.startswith("BEGIN IMMEDIATE") for s in statements)  # a read: no write lock

    checkouts.clear()
    statements.clear()
    assert await cache.of(services.db, alice.community_id) is first
    clock[0] = 31.0  # expired: still served at once, refreshed in the background
    assert await cache.of(services.db, alice.community_id) is first
    assert checkouts == [] and statements == []
    await cache.settle()
    assert len(checkouts) == 1  # the one background refresh


async def test_a_copy_long_past_its_time_is_read_again_not_served(services: Services) -> None:
    """A day without a lookup: another process may have purged the community since, its id given to
    a new one (SQLite). The copy is not served, even once (it is more than `max_stale` late)."""
    clock, cache, alice = await _cache_and_alice(services)
    first = await cache.of(services.db, alice.community_id)
    async with services.db.transaction() as session:
        bob = await caller_for(session, "bob")
        await add_profile(session, bob, skills=("Webflow",), city="Lyon")
    clock[0] = 24 * 3600.0
    fresh = await cache.of(services.db, alice.community_id)
    assert fresh is not first and sorted(v.label for v in fresh.skills) == ["Figma", "Webflow"]
