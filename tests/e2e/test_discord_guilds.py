"""First contact: a guild that adds the bot becomes a community, with default trades, in its language."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.communities import get_community, trades
from storage.defaults import DEFAULT_TRADES
from tests.e2e.conftest import DiscordHarness


async def community(h: DiscordHarness, guild_id: int):
    async with h.services.db.transaction() as session:
        return await get_community(session, "discord", str(guild_id))


async def test_guilds_present_at_start_are_communities(discord_harness: DiscordHarness) -> None:
    found = await community(discord_harness, discord_harness.guild.id)
    assert found is not None
    assert found.locale == "fr"
    assert found.name == "Les Freelances"


async def test_joining_a_guild_creates_its_community_with_default_trades(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    guild = h.fake.new_guild("Freelance Collective", preferred_locale="en-US")
    joined = asyncio.ensure_future(
        h.bot.wait_for("community_ready", check=lambda _, guild_id: guild_id == str(guild.id), timeout=5))

    await h.fake.join_guild(guild)
    community_id, _ = await joined

    found = await community(h, guild.id)
    assert found is not None
    assert found.id == community_id
    assert found.locale == "en"
    async with h.services.db.transaction() as session:
        names = [t.name for t in await trades(session, found.id)]
    assert names == list(DEFAULT_TRADES["en"])


async def test_leaving_a_guild_pauses_its_community(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    removed = asyncio.ensure_future(h.bot.wait_for("community_removed", timeout=5))

    await h.fake.remove_guild(h.guild)
    await removed

    found = await community(h, h.guild.id)
    assert found is not None
    assert not found.active
    assert found.deactivated_at is not None


async def test_a_restart_does_not_duplicate_communities(discord_harness: DiscordHarness) -> None:
    from storage.models import Community

    h = discord_harness
    await h.restart()
    async with h.services.db.transaction() as session:
        ids = list(await session.scalars(select(Community.id)))
    assert len(ids) == 1


async def test_a_new_server_unavailable_at_start_gets_its_community_when_it_comes_back(
    discord_harness: DiscordHarness,
) -> None:
    """Added while the bot was offline, in an outage at its start: discord.py's placeholder has no name
    and says en-US. Its community is made from the real server once it is available: French, named."""
    h = discord_harness
    guild = h.fake.add_guild("Collectif Lyon", preferred_locale="fr")
    guild.outage = True  # listed in READY as unavailable, no GUILD_CREATE
    bot = await h.restart()
    assert bot.get_guild(guild.id).unavailable  # type: ignore[union-attr]
    assert await community(h, guild.id) is None  # not from the placeholder
    assert str(guild.id) not in await bot.pause_departed_guilds()  # nor taken for a server that left

    guild.outage = False
    back = asyncio.ensure_future(
        bot.wait_for("community_ready", check=lambda _, guild_id: guild_id == str(guild.id), timeout=5))
    await h.fake.dispatch("GUILD_CREATE", guild.payload(h.fake.bot_user), guild_id=guild.id)
    community_id, _ = await back
    found = await community(h, guild.id)
    assert found is not None and found.id == community_id
    assert (found.locale, found.name, found.active) == ("fr", "Collectif Lyon", True)
    async with h.services.db.transaction() as session:
        names = [t.name for t in await trades(session, found.id)]
    assert names == list(DEFAULT_TRADES["fr"])
