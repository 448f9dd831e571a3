"""A configured channel deleted on Discord (CHANNEL_DELETE), then a member posts there."""

from __future__ import annotations

import asyncio

import pytest

from cogs.afterworks import FEATURE
from storage.settings import get_settings
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_afterworks_discord import afterworks, cards, community_id, create, use_channel


@pytest.fixture
async def h(discord_harness: DiscordHarness) -> DiscordHarness:
    await FEATURE.on_start(discord_harness.services)
    return discord_harness


async def test_an_afterwork_whose_channel_was_deleted_is_not_left_without_a_card(h: DiscordHarness) -> None:
    await h.fake.invoke_slash(h.guild, h.member, "help")
    channel = await use_channel(h, "design")
    modlog = h.guild.channel("développement").id
    async with h.services.db.transaction() as session:
        (await get_settings(session, await community_id(h))).modlog_channel_id = str(modlog)
    deleted = h.fake.channels.pop(channel)
    h.guild.channels.remove(deleted)
    await h.fake.dispatch("CHANNEL_DELETE", {**deleted.payload(), "guild_id": str(h.guild.id)},
                          guild_id=h.guild.id)
    await asyncio.sleep(0.1)

    _, confirm = await create(h, h.member)
    assert len(await afterworks(h)) == 1  # saved
    origin = h.guild.default_channel.id
    posted = cards(h, origin)
    await h.services.scheduler.run_due()  # the moderators' log notice, queued with the card
    told = [m["embeds"][0]["title"] for m in h.fake.channel_messages(modlog) if m.get("embeds")]
    assert told == [h.t("fr", "afterworks.channel_gone.title")]
    assert posted and confirm.all_texts()[-1] == h.t("fr", "afterworks.created.posted", channel=origin), (
        f"saved with no card anywhere (nobody can answer) and no moderator told; the member read: "
        f"{confirm.all_texts()}")
