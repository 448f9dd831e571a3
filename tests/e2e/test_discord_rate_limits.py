"""A 429 with a long retry_after (a daily cap, a route held for an hour) is a platform failure to retry
later, never hours of waiting: discord.py raises `discord.RateLimited` past `RATE_LIMIT_WAIT_MAX`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import discord
import pytest
from sqlalchemy import select

from bot import outbox
from bot.cards import Card
from bot.discord_bot.runtime import DiscordRuntime, sync_once
from bot.notifier import EventSpec
from bot.services import Services
from storage.models import Job
from tests.e2e.conftest import DiscordHarness
from tests.fakes.callers import origin
from tests.fakes.discord_api import FakeDiscord

HOURS = 6 * 3600.0
COMMANDS = ("PUT", r"/applications/\d+/commands")


async def test_a_command_sync_over_the_daily_cap_leaves_the_bot_online_on_the_commands_it_has(
    fake_discord: FakeDiscord, discord_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    guild = fake_discord.add_guild("Les Freelances")
    fake_discord.rate_limits[COMMANDS] = HOURS
    runtime = DiscordRuntime(discord_services, ready_timeout=10)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.discord_bot.runtime"):
            await asyncio.wait_for(runtime.start(), 20)
        assert (await runtime.health())["ok"]
        assert [r.status for r in fake_discord.command_syncs] == [429]  # tried once, not waited out
        [told] = [r for r in caplog.records if r.name == "bot.discord_bot.runtime"]
        assert "try again in 6.0 h" in told.getMessage() and told.exc_info is None
    finally:
        await runtime.stop()
    # Not taken for synced: the next start sends the commands.
    del fake_discord.rate_limits[COMMANDS]
    runtime = DiscordRuntime(discord_services, ready_timeout=10)
    try:
        await runtime.start()
        assert [r.status for r in fake_discord.command_syncs] == [429, 200]
        user = fake_discord.add_user("Camille", guild=guild)
        assert (await fake_discord.invoke_slash(guild, user, "help")).embeds
    finally:
        await runtime.stop()


async def test_collectif_discord_sync_rate_limited_says_when_to_try_again_in_one_line(
    fake_discord: FakeDiscord, discord_services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_discord.rate_limits[COMMANDS] = HOURS
    assert await asyncio.wait_for(sync_once(discord_services), 20) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("collectif: Discord rate-limits the command sync") and "try again in 6.0 h" in err


async def test_a_dm_rate_limited_for_an_hour_is_kept_in_the_outbox_at_once(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    caller = await h.services.caller(origin(str(h.member.id), guild=str(h.guild.id), name="Camille"))
    channel = await h.bot.http.start_private_message(h.member.id)
    h.fake.rate_limits[("POST", rf"/channels/{channel['id']}/messages")] = 3600.0
    gid = str(h.guild.id)
    place = outbox.Addressed(caller.community_id, "discord", gid)
    with pytest.raises(discord.RateLimited):  # raised at once, not waited out for an hour
        await asyncio.wait_for(h.services.notifiers["discord"].dm(gid, str(h.member.id), Card("Rappel")), 15)
    sent = await asyncio.wait_for(outbox.send_dm(h.services, place, caller.member_id, str(h.member.id),
                                                 Card(title="Rappel"), about=()), 15)
    assert sent is True
    async with h.services.db.transaction(write=False) as session:
        kept = list(await session.scalars(select(Job.kind).where(Job.community_id == caller.community_id,
                                                                 Job.kind == outbox.OUTBOX)))
    assert kept == [outbox.OUTBOX]
    assert not h.fake.dm_messages(h.member)


async def test_a_member_check_rate_limited_is_cannot_tell_not_gone(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    h.fake.rate_limits[("GET", rf"/guilds/{h.guild.id}/members/\d+")] = 3600.0
    notifier = h.services.notifiers["discord"]
    gone = await asyncio.wait_for(notifier.departed(str(h.guild.id), [str(h.member.id), "42"]), 15)
    assert gone == set()


async def test_an_event_change_rate_limited_is_raised_for_its_job_to_retry(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    gid, notifier = str(h.guild.id), h.services.notifiers["discord"]
    spec = EventSpec("Afterwork Lyon", datetime(2026, 12, 4, 18, 0, tzinfo=UTC), "Le Comptoir")
    event_id = await notifier.create_event(gid, spec)
    assert event_id is not None
    h.fake.rate_limits[("PATCH", rf"/guilds/{gid}/scheduled-events/{event_id}")] = 3600.0
    with pytest.raises(discord.RateLimited):
        await asyncio.wait_for(notifier.cancel_event(gid, event_id), 15)
