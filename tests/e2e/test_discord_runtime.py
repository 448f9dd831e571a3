"""The runtime's life: login failures, reconnects without re-sync, shards, a clean stop."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot import startup
from bot.config import Secrets
from bot.discord_bot.runtime import DiscordRuntime
from bot.services import Services
from bot.startup import StartupError
from tests.e2e.conftest import DiscordHarness, discord_settings
from tests.fakes.discord_api import FakeDiscord


async def test_a_reconnect_resumes_without_syncing_again(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.fake.gateway.ask_reconnect()

    assert h.fake.gateway.resumes == 1
    assert len(h.fake.command_syncs) == 1
    answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")
    assert answer.embeds


async def test_a_wrong_token_fails_the_start_cleanly(discord_services: Services) -> None:
    discord_services.secrets = Secrets(discord_token=SecretStr("not-the-token"))
    runtime = DiscordRuntime(discord_services, ready_timeout=5)

    with pytest.raises(StartupError, match="DISCORD_TOKEN") as failure:
        await runtime.start()
    assert failure.value.exit_code == startup.DISCORD_TOKEN
    assert runtime.bot is None
    await runtime.stop()  # safe twice


async def test_a_missing_token_is_refused_before_connecting(discord_services: Services) -> None:
    discord_services.secrets = Secrets()
    with pytest.raises(RuntimeError, match="DISCORD_TOKEN"):
        await DiscordRuntime(discord_services).start()


async def test_configured_shards_still_take_the_gateway_from_the_api_base(
    fake_discord: FakeDiscord, discord_services: Services, sqlite_url: str
) -> None:
    on_shard_1 = fake_discord.add_guild("Impair", guild_id=(1 << 22) * 7)
    fake_discord.add_guild("Pair", guild_id=(1 << 22) * 8)
    discord_services.settings = discord_settings(
        sqlite_url, fake_discord, COLLECTIF_DISCORD__SHARD_COUNT="2", COLLECTIF_DISCORD__SHARD_IDS="[1]")
    runtime = DiscordRuntime(discord_services, ready_timeout=10)
    await runtime.start()
    try:
        assert fake_discord.gateway.identifies[-1]["shard"] == [1, 2]
        assert runtime.bot is not None
        assert [g.id for g in runtime.bot.guilds] == [on_shard_1.id]
        user = fake_discord.add_user("Sam", guild=on_shard_1)
        answer = await fake_discord.invoke_slash(on_shard_1, user, "help", locale="fr")
        assert answer.embeds
    finally:
        await runtime.stop()
