"""Commands reach Discord localized, and are synced only when their definitions changed."""

from __future__ import annotations

import re

import discord
import pytest

from bot.features import load_features
from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import FEATURE as PROBE

NAME = re.compile(r"^[-_\w]{1,32}$")  # Discord's rule for command names


async def test_commands_are_synced_with_french_localizations(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    assert len(h.fake.command_syncs) == 1
    help_command = h.fake.registered("help")
    assert help_command["name_localizations"]["fr"] == "aide"
    assert help_command["description"] == h.t("en", "help.commands.help.description")
    assert help_command["description_localizations"]["fr"] == h.t("fr", "help.commands.help.description")
    assert help_command["contexts"] == [0]  # guild only: every command acts in a community


async def test_every_localized_name_is_a_valid_discord_name(discord_harness: DiscordHarness) -> None:
    slash_commands = [c for c in discord_harness.fake.commands[None] if c["type"] == 1]
    assert slash_commands
    for command in slash_commands:  # context menu names may have spaces and capitals
        for name in [command["name"], *command.get("name_localizations", {}).values()]:
            assert NAME.match(name), name
            assert name == name.lower(), name
        for text in [command["description"], *command.get("description_localizations", {}).values()]:
            assert 1 <= len(text) <= 100, text


async def test_the_bot_asks_for_no_privileged_intent(discord_harness: DiscordHarness) -> None:
    intents = discord.Intents._from_value(discord_harness.fake.gateway.identifies[-1]["intents"])
    assert not (intents.members)
    assert not (intents.presences)
    assert not (intents.message_content)
    # Only what ships: guilds; no message, typing or scheduled-event stream (events go through REST).
    assert intents == discord.Intents(guilds=True)


async def test_a_second_start_does_not_sync_unchanged_commands(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.restart()

    assert len(h.fake.command_syncs) == 1
    answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")
    assert answer.embeds  # the commands registered by the first start still work


async def test_a_changed_definition_is_synced_at_the_next_start(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.restart(features=[*load_features(), PROBE])

    assert len(h.fake.command_syncs) == 2
    assert h.fake.registered("probe_boom")["name_localizations"]["fr"] == "sonde_boum"

    await h.restart()
    assert len(h.fake.command_syncs) == 2


async def test_dev_guild_commands_are_synced_to_that_guild_only(
    fake_discord, discord_services, sqlite_url
) -> None:
    from bot.discord_bot.runtime import DiscordRuntime
    from tests.e2e.conftest import discord_settings

    guild = fake_discord.add_guild("Dev")
    discord_services.settings = discord_settings(
        sqlite_url, fake_discord, COLLECTIF_DISCORD__DEV_GUILD_ID=str(guild.id))
    runtime = DiscordRuntime(discord_services, ready_timeout=10)
    await runtime.start()
    try:
        assert [r.path for r in fake_discord.command_syncs] == [
            f"/applications/{fake_discord.application_id}/guilds/{guild.id}/commands"]
        assert fake_discord.registered("help", guild.id)["name_localizations"]["fr"] == "aide"
        user = fake_discord.add_user("Sam", guild=guild)
        answer = await fake_discord.invoke_slash(guild, user, "help", locale="fr")
        assert answer.embeds
    finally:
        await runtime.stop()


@pytest.mark.parametrize("extra_features", [(PROBE,)])
async def test_moderator_commands_stay_visible_to_a_moderator_role(discord_harness: DiscordHarness) -> None:
    # Discord would hide them from a moderator role without Manage Server; the use cases check instead.
    assert discord_harness.fake.registered("probe_admin")["default_member_permissions"] is None


async def test_the_sync_command_syncs_even_unchanged_commands(
    discord_harness: DiscordHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.discord_bot.runtime import sync_once

    assert await sync_once(discord_harness.services) == 0

    assert len(discord_harness.fake.command_syncs) == 2
    assert "commands synced" in capsys.readouterr().out
