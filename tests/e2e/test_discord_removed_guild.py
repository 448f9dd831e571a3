"""the bot is removed from a guild (community paused) while its timed work is due."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from cogs.afterworks import FEATURE
from storage.models import Community
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_afterworks_discord import (
    DEC_4_19H_PARIS,
    OPTIONS,
    afterworks,
    cards,
    click,
    create,
    dm_titles,
    use_channel,
)


@pytest.fixture
async def h(discord_harness: DiscordHarness) -> DiscordHarness:
    await FEATURE.on_start(discord_harness.services)
    return discord_harness


async def test_no_afterwork_reminder_dm_once_the_bot_was_removed_from_the_guild(h: DiscordHarness) -> None:
    channel = await use_channel(h)
    alex = h.fake.add_user("Alex", guild=h.guild)
    await create(h, h.member)
    [afterwork] = await afterworks(h)
    card = cards(h, channel)[0]
    assert await click(h, card, f"afterworks:rsvp:{afterwork.id}:going", alex) == h.t(
        "fr", "afterworks.answered.going")

    await h.fake.remove_guild(h.guild)  # kicked: GUILD_DELETE, the community is paused
    for _ in range(50):
        async with h.services.db.transaction() as session:
            active = await session.scalar(select(Community.active).where(
                Community.external_id == str(h.guild.id)))
        if not active:
            break
        await asyncio.sleep(0.05)
    assert active is False

    h.services.clock.set(DEC_4_19H_PARIS - timedelta(hours=24))
    await h.services.scheduler.run_due()
    reminder = h.t("fr", "afterworks.dm.reminder_title", title=OPTIONS["title"])
    assert reminder not in dm_titles(h, alex), "a paused community's member still gets its reminders"


async def test_no_group_purchase_outcome_dm_once_the_bot_was_removed_from_the_guild(
    discord_harness: DiscordHarness,
) -> None:
    from cogs.pooling import FEATURE as POOLING
    from tests.e2e import test_pooling_discord as pooling

    h = discord_harness
    await POOLING.on_start(h.services)
    channel = await pooling.use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", pooling.OPTIONS)
    [pool] = await pooling.pools(h)
    alex, bea = (h.fake.add_user(n, guild=h.guild) for n in ("Alex", "Bea"))
    card = pooling.cards(h, channel)[0]
    for user in (alex, bea):
        await pooling.click(h, card, f"pooling:join:{pool.id}", user)

    await h.fake.remove_guild(h.guild)
    await asyncio.sleep(0.3)
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(Community.active).where(
            Community.external_id == str(h.guild.id))) is False

    h.services.clock.set(pooling.DEADLINE)
    await h.services.scheduler.run_due()
    assert pooling.dm_titles(h, alex) == [], "a paused community's purchase still decided and DM'd"


async def test_a_mission_dm_button_is_refused_once_the_community_is_paused(
    discord_harness: DiscordHarness,
) -> None:
    """Every other DM button (router `dm=`, bot.context.member_caller) refuses a paused community."""
    from cogs.missions import FEATURE as MISSIONS
    from tests.e2e import test_missions_discord as m

    h = discord_harness
    await MISSIONS.on_start(h.services)
    await m.configure(h)
    mission, _ = await m.post_mission(h, h.member)
    h.services.clock.advance(timedelta(days=12, hours=14))
    await h.services.scheduler.run_due()
    [warning] = h.fake.dm_messages(h.member)

    await h.fake.remove_guild(h.guild)
    await asyncio.sleep(0.3)
    async with h.services.db.transaction() as session:
        assert await session.scalar(select(Community.active).where(
            Community.external_id == str(h.guild.id))) is False

    extended = await m.answered(await h.fake.click(warning, f"missions:extend:{mission.id}", h.member))
    assert str((await m.missions(h))[0].answer_by) == "2026-12-10", m.texts_of(extended)
