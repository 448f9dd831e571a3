"""A first start in many guilds creates their communities in batches, as one first contact each would."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot import lifecycle
from bot.discord_bot.client import CollectifBot
from storage.communities import BATCH
from storage.defaults import DEFAULT_SECTORS, DEFAULT_TRADES
from storage.models import Community, Job, Sector, Trade
from tests.e2e.conftest import DiscordHarness


async def test_guilds_new_at_start_become_communities_in_batches(
    discord_harness: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = discord_harness
    count = 2 * BATCH + 50  # three batches, the last one partial
    guilds = [h.fake.add_guild(f"Collectif {i}", preferred_locale="en-US" if i % 2 else "fr", channels=())
              for i in range(count)]
    paused = h.fake.add_guild("Revenue", channels=())
    await h.fake.join_guild(paused)
    await lifecycle.deactivate(h.services, "discord", str(paused.id))  # left while offline, purge pending
    ready: list[tuple[int, str]] = []
    dispatch = CollectifBot.dispatch

    def record(self: CollectifBot, event: str, /, *args: Any, **kwargs: Any) -> None:
        if event == "community_ready":
            ready.append(args)
        dispatch(self, event, *args, **kwargs)

    monkeypatch.setattr(CollectifBot, "dispatch", record)
    await h.restart()

    async with h.services.db.transaction() as session:
        rows = {r.external_id: r for r in await session.execute(
            select(Community.id, Community.external_id, Community.locale, Community.active, Community.name))}
        trade_counts = dict((await session.execute(
            select(Trade.community_id, func.count()).group_by(Trade.community_id))).all())
        sector_counts = dict((await session.execute(
            select(Sector.community_id, func.count()).group_by(Sector.community_id))).all())
        purges = await session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == lifecycle.PURGE_KIND, Job.state == "pending"))
    assert len(rows) == count + 2  # plus the harness's guild
    for i, guild in enumerate(guilds):
        row = rows[str(guild.id)]
        assert row.active and row.name == f"Collectif {i}"
        assert row.locale == ("en" if i % 2 else "fr")
        assert trade_counts[row.id] == len(DEFAULT_TRADES[row.locale])
        assert sector_counts[row.id] == len(DEFAULT_SECTORS[row.locale])
    assert rows[str(paused.id)].active  # restored, its purge cancelled
    assert purges == 0
    assert sorted(guild_id for _, guild_id in ready) == sorted([str(g.id) for g in guilds] + [str(paused.id)])
    assert all(rows[guild_id].id == community_id for community_id, guild_id in ready)

    ready.clear()
    await h.restart()  # nothing new: nothing created, nothing dispatched
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Community)) == count + 2
    assert ready == []
