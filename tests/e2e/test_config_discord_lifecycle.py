"""At start, guilds that removed the bot while it was offline are paused (purge scheduled), and only those.

The bot cannot hear a GUILD_DELETE while it is down: the start-up reconciliation compares the
active communities with READY's guild list, for the shards this process runs.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.discord_bot.client import CollectifBot
from bot.discord_bot.runtime import DiscordRuntime
from bot.lifecycle import PURGE_KIND, deactivate
from bot.services import Services
from storage.communities import ensure_community, get_community
from storage.models import Community, Job
from tests.e2e.conftest import DiscordHarness, discord_settings
from tests.fakes.discord_api import FakeDiscord


def guild_id_on_shard(shard: int, count: int, n: int) -> int:
    """A snowflake-shaped guild id owned by `shard` of `count` (Discord: (id >> 22) % count)."""
    return ((1000 + n) * count + shard) << 22


async def add_community(services: Services, guild_id: int) -> int:
    async with services.db.transaction() as session:
        community = await ensure_community(
            session, "discord", str(guild_id), name=f"G{guild_id}", locale="fr", timezone="Europe/Paris"
        )
        return community.id


async def community(services: Services, guild_id: int) -> Community | None:
    async with services.db.transaction() as session:
        return await get_community(session, "discord", str(guild_id))


async def purge_jobs(services: Services, community_id: int) -> list[str]:
    async with services.db.transaction() as session:
        return list(
            await session.scalars(
                select(Job.state).where(Job.community_id == community_id, Job.kind == PURGE_KIND)
            )
        )


async def settled(services: Services, community_id: int, states: list[str]) -> list[str]:
    """The purge jobs once the config listener (a task the dispatch started) has run."""
    for _ in range(100):
        found = await purge_jobs(services, community_id)
        if found == states:
            break
        await asyncio.sleep(0.01)
    return found


async def test_a_guild_that_removed_the_bot_while_offline_is_paused_at_start(discord_harness: DiscordHarness):
    h = discord_harness
    kept = await community(h.services, h.guild.id)
    gone_id = guild_id_on_shard(0, 1, 1)
    gone = await add_community(h.services, gone_id)
    await h.stop()
    left_meanwhile = h.fake.guilds.pop(h.guild.id)  # removed while the bot was down: no GUILD_DELETE
    other = h.fake.add_guild("Toujours là")

    await h.start()

    assert await settled(h.services, kept.id, ["pending"]) == ["pending"]
    assert await settled(h.services, gone, ["pending"]) == ["pending"]
    for guild_id in (left_meanwhile.id, gone_id):
        found = await community(h.services, guild_id)
        assert not found.active and found.deactivated_at == h.services.clock.now()
    still = await community(h.services, other.id)
    assert still.active and await purge_jobs(h.services, still.id) == []

    # a second start changes nothing more (already paused, the purge job is not doubled)
    await h.restart()
    assert await purge_jobs(h.services, gone) == ["pending"]
    assert await purge_jobs(h.services, kept.id) == ["pending"]


async def test_a_guild_that_re_added_the_bot_while_offline_is_restored_at_start(
    discord_harness: DiscordHarness,
):
    h = discord_harness
    found = await community(h.services, h.guild.id)
    await h.stop()
    assert await deactivate(h.services, "discord", str(h.guild.id))  # it left, the purge is pending
    assert await purge_jobs(h.services, found.id) == ["pending"]

    await h.start()  # … and it is back in READY

    assert await settled(h.services, found.id, ["skipped"]) == ["skipped"]
    assert (await community(h.services, h.guild.id)).active


async def test_a_guild_in_an_outage_is_not_paused(discord_harness: DiscordHarness):
    h = discord_harness
    await h.stop()
    h.guild.outage = True  # listed in READY as unavailable, its GUILD_CREATE never comes
    await h.start()
    assert [g.unavailable for g in h.bot.guilds] == [True]
    found = await community(h.services, h.guild.id)
    await asyncio.sleep(0.05)  # let any listener task run
    assert found.active and await purge_jobs(h.services, found.id) == []


async def test_only_the_guilds_of_this_process_shards_are_paused(
    fake_discord: FakeDiscord, discord_services: Services, sqlite_url: str
):
    # One shard here (several would wait 5 s between identifies); the others run elsewhere.
    fake_discord.shard_count = 3
    discord_services.settings = discord_settings(
        sqlite_url, fake_discord, COLLECTIF_DISCORD__SHARD_COUNT="3", COLLECTIF_DISCORD__SHARD_IDS="[1]"
    )
    present = fake_discord.add_guild("Présent", guild_id=guild_id_on_shard(1, 3, 1))
    ids = {shard: guild_id_on_shard(shard, 3, 2) for shard in range(3)}  # none of them lists the bot
    communities = {shard: await add_community(discord_services, guild_id) for shard, guild_id in ids.items()}

    runtime = DiscordRuntime(discord_services, ready_timeout=10)
    await runtime.start()
    try:
        assert runtime.bot is not None and [g.id for g in runtime.bot.guilds] == [present.id]
        # ours: paused, purge scheduled
        assert not (await community(discord_services, ids[1])).active
        assert await settled(discord_services, communities[1], ["pending"]) == ["pending"]
        for shard in (0, 2):  # another process's shards: untouched
            assert (await community(discord_services, ids[shard])).active
            assert await purge_jobs(discord_services, communities[shard]) == []
        assert (await community(discord_services, present.id)).active
    finally:
        await runtime.stop()


async def test_nothing_is_paused_before_the_bot_is_ready(
    fake_discord: FakeDiscord, discord_services: Services, sqlite_url: str
):
    discord_services.settings = discord_settings(sqlite_url, fake_discord, COLLECTIF_DISCORD__SHARD_COUNT="1")
    gone = await add_community(discord_services, guild_id_on_shard(0, 1, 3))
    bot = CollectifBot(discord_services)  # never connected: READY has not come
    assert not bot.is_ready()
    assert await bot.pause_departed_guilds() == []
    async with discord_services.db.transaction() as session:
        assert (await session.get(Community, gone)).active
    assert await purge_jobs(discord_services, gone) == []
