"""End-to-end fixtures: the real Collectif bot running against a fake Discord on 127.0.0.1.

    async def test_something(discord_harness):     # the bot is ready in a French guild
        h = discord_harness
        answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")
        assert answer.ephemeral and answer.embeds[0]["title"] == ...

A test module adds features of its own by overriding the `extra_features` fixture.
`discord_harness.fake` offers invoke_slash / click / submit_modal, join_guild / remove_guild / dispatch,
and records every request (`requests`, `command_syncs`, `messages`, `commands`, `interactions`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from bot.clock import FrozenClock
from bot.config import Secrets, Settings, load_settings
from bot.discord_bot.client import CollectifBot
from bot.discord_bot.runtime import DiscordRuntime
from bot.features import Feature, load_features, locale_folders
from bot.i18n import Catalog, expand_commands
from bot.services import Services
from storage.engine import Database
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_payloads import FakeGuild, FakeUser

GUILD_READY_TIMEOUT = "0.02"  # seconds discord.py waits for more GUILD_CREATEs before READY


@dataclass
class DiscordHarness:
    """The fake Discord, the services and the running bot, with a French guild and two people."""

    fake: FakeDiscord
    services: Services
    guild: FakeGuild
    member: FakeUser
    moderator: FakeUser
    runtime: DiscordRuntime | None = None
    starts: list[DiscordRuntime] = field(default_factory=list)

    @property
    def bot(self) -> CollectifBot:
        bot = self.runtime.bot if self.runtime is not None else None
        assert bot is not None, "the bot is not running"
        return bot

    def t(self, locale: str, key: str, **params: object) -> str:
        """A message as Discord shows it (commands as Discord's: bot.i18n.expand_commands)."""
        return expand_commands(self.services.t(locale, key, **params), "discord")

    async def start(self) -> CollectifBot:
        self.runtime = DiscordRuntime(self.services, ready_timeout=10)
        self.starts.append(self.runtime)
        await self.runtime.start()
        return self.bot

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def restart(self, features: Sequence[Feature] | None = None) -> CollectifBot:
        """Stop, optionally change the feature list (as a new release would), start again."""
        await self.stop()
        if features is not None:
            set_features(self.services, features)
        return await self.start()


def set_features(services: Services, features: Sequence[Feature]) -> None:
    services.features = list(features)
    services.catalog = Catalog.load(locale_folders(services.features))


def discord_settings(database_url: str, fake: FakeDiscord, **env: str) -> Settings:
    settings, _ = load_settings(env={
        "COLLECTIF_DATABASE__URL": database_url,
        "COLLECTIF_DISCORD__API_BASE_URL": fake.api_base,
        "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": GUILD_READY_TIMEOUT,
        **env,
    })
    return settings


@pytest.fixture
def extra_features() -> tuple[Feature, ...]:
    """Features added to the real ones for a test module (override in the module)."""
    return ()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def discord_services(
    fake_discord: FakeDiscord, sqlite_url: str, db: Database, clock: FrozenClock,
    extra_features: tuple[Feature, ...],
) -> AsyncIterator[Services]:
    settings = discord_settings(sqlite_url, fake_discord)
    secrets = Secrets(discord_token=SecretStr(fake_discord.token))
    services = Services.build(settings, secrets, clock=clock, db=db)
    if extra_features:
        set_features(services, [*load_features(), *extra_features])
    yield services
    await services.scheduler.stop()


@pytest.fixture
async def discord_harness(
    fake_discord: FakeDiscord, discord_services: Services
) -> AsyncIterator[DiscordHarness]:
    """The real bot, ready, in the guild "Les Freelances" (fr) with a member and a moderator."""
    guild = fake_discord.add_guild("Les Freelances", preferred_locale="fr")
    harness = DiscordHarness(
        fake=fake_discord,
        services=discord_services,
        guild=guild,
        member=fake_discord.add_user("Camille", locale="fr", guild=guild),
        moderator=fake_discord.add_user("Dominique", locale="fr", guild=guild, moderator=True),
    )
    await harness.start()
    yield harness
    await harness.stop()

from tests.e2e.slack_harness import fake_slack, slack, slack_services  # noqa: E402, F401  (Slack e2e fixtures)
