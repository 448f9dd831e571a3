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


async def test_a_stop_lets_the_interactions_in_flight_finish_their_work(
    discord_harness: DiscordHarness,
) -> None:
    """SIGTERM while a click, committed and answered, still posts its card (an effect after the commit):
    the card goes out before the client closes (before: its REST call met a closed session, and the
    stored change never showed on Discord)."""
    import asyncio

    from bot.cards import Card
    from bot.discord_bot.replies import send_text
    from bot.discord_bot.router import DiscordRequest
    from bot.usecase import Context, run

    h = discord_harness
    channel_id = str(h.guild.default_channel.id)
    started = asyncio.Event()

    async def use_case(ctx: Context) -> str:
        async def post_card(notifier):  # type: ignore[no-untyped-def]
            started.set()
            await asyncio.sleep(0.3)  # a slow API answer, a rate limit waited out…
            return await notifier.post(ctx.caller.community_external_id, channel_id, Card(title="Mission"))

        ctx.after_commit(post_card)
        return "saved"

    async def on_click(request: DiscordRequest) -> None:
        caller = await request.caller()

        async def respond(text: str) -> None:
            await send_text(request.interaction, text)

        await run(request.services, caller, use_case, respond=respond)

    h.bot.router.action(r"stopping:save", on_click)
    before = len(h.fake.channel_messages(h.guild.default_channel.id))
    await h.fake.click({"id": "1", "channel_id": channel_id, "components": []}, "stopping:save", h.member)
    await asyncio.wait_for(started.wait(), 2)
    await h.stop()  # what `collectif run` does on SIGTERM (bot/runner.py shutdown)
    posted = h.fake.channel_messages(h.guild.default_channel.id)[before:]
    assert [m["embeds"][0]["title"] for m in posted] == ["Mission"]
