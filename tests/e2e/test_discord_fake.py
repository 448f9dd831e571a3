"""The fake Discord serves what later features need: modals, threads, DMs, scheduled events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import discord
import pytest

from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import FEATURE as PROBE

pytestmark = pytest.mark.parametrize("extra_features", [(PROBE,)])


async def test_a_modal_opens_and_its_submission_is_answered(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    opened = await h.fake.invoke_slash(h.guild, h.member, "probe_form", locale="fr")

    assert opened.response_type == 9
    assert opened.data["custom_id"] == "probe:form"
    assert opened.data["title"] == h.t("fr", "probe.form_title")

    submitted = await h.fake.submit_modal(h.guild, h.member, "probe:form", {"title": "Site vitrine"})
    assert submitted.content == h.t("fr", "probe.received", value="Site vitrine")


async def test_a_failing_modal_reaches_the_central_handler(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "probe_form", locale="fr")
    submitted = await h.fake.submit_modal(h.guild, h.member, "probe:form", {"title": "boom"})

    assert re.search(r"\b[0-9a-f]{8}\b", submitted.content)
    assert submitted.ephemeral


async def test_threads_dms_and_scheduled_events(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    channel = h.bot.get_channel(h.guild.default_channel.id)
    assert isinstance(channel, discord.TextChannel)

    message = await channel.send("Demande de relecture")
    thread = await message.create_thread(name="Relecture")
    await thread.send("Premier avis")
    assert [m["content"] for m in h.fake.channel_messages(thread.id)] == ["Premier avis"]

    dm = await h.bot.create_dm(discord.Object(h.member.id))
    await dm.send("Rappel : afterwork demain")
    assert h.fake.channel_messages(dm.id)[-1]["content"] == "Rappel : afterwork demain"

    guild = h.bot.get_guild(h.guild.id)
    assert guild is not None
    start = datetime.now(UTC) + timedelta(days=2)
    event = await guild.create_scheduled_event(
        name="Afterwork", start_time=start, end_time=start + timedelta(hours=2),
        entity_type=discord.EntityType.external, location="Lyon",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    await event.edit(name="Afterwork du jeudi")
    assert [e["name"] for e in h.fake.scheduled_events.values()] == ["Afterwork du jeudi"]
    await event.delete()
    assert h.fake.scheduled_events == {}


async def test_a_dm_to_a_member_with_closed_dms_is_refused(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    h.fake.closed_dms.add(h.member.id)
    dm = await h.bot.create_dm(discord.Object(h.member.id))

    with pytest.raises(discord.Forbidden):
        await dm.send("Rappel")
