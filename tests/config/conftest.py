"""Fixtures for the config tests: callers of two communities, a recording notifier, a named directory."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.context import Caller
from bot.models import metadata
from bot.services import Services
from tests.fakes import callers
from tests.fakes.notifier import RecordingNotifier

GUILD_A = "900000000000000001"
GUILD_B = "900000000000000002"
INTROS = "100000000000000001"
MODLOG = "100000000000000002"
DEV = "100000000000000003"
OTHER_GUILD_CHANNEL = "100000000000000009"


class NamedDirectory:
    """A Discord-like directory knowing channel and role names of one guild."""

    def __init__(self, channels: dict[str, str], roles: dict[str, str] | None = None) -> None:
        self.channels = channels
        self.roles = roles or {}

    async def channel(self, ref: str) -> str | None:
        ref = ref.strip()
        if ref.startswith("#"):
            return next((i for i, n in self.channels.items() if n == ref[1:]), None)
        ref = ref.removeprefix("<#").removesuffix(">")
        return ref if ref in self.channels else None

    async def channel_label(self, channel_id: str) -> str:
        return f"#{self.channels.get(channel_id, channel_id)}"

    async def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)

    async def role(self, ref: str) -> str | None:
        ref = ref.strip()
        if ref.startswith("@"):
            return next((i for i, n in self.roles.items() if n == ref[1:]), None)
        ref = ref.removeprefix("<@&").removesuffix(">")
        return ref if ref in self.roles else None

    async def role_label(self, role_id: str) -> str:
        return f"@{self.roles.get(role_id, role_id)}"

    async def role_name(self, role_id: str) -> str | None:
        return self.roles.get(role_id)

    async def user_label(self, user_id: str) -> str:
        return f"@{user_id}"

    async def usergroup(self, ref: str) -> str | None:
        return None


@pytest.fixture
async def config_services(services: Services) -> Services:
    return services


def with_probe(services: Services) -> Services:
    """The test feature `probe` (tests/e2e/probe) added, with its settings and its messages."""
    from bot.i18n import Catalog
    from tests.e2e.probe import FEATURE as PROBE

    if PROBE not in services.features:
        services.features = [*services.features, PROBE]
        for locale, messages in Catalog.load([PROBE.locales]).messages.items():
            services.catalog.messages[locale].update(messages)
    return services


@pytest.fixture
def notifier(config_services: Services) -> RecordingNotifier:
    fake = RecordingNotifier()
    config_services.notifiers["discord"] = fake
    return fake


async def make_caller(
    services: Services, user: str = "mod", *, guild: str = GUILD_A, moderator: bool = True,
    **fields: Any,
) -> Caller:
    """tests.fakes.callers.make_caller with config's defaults: a moderator of community A ("Guild 1")."""
    fields.setdefault("community_name", f"Guild {guild[-1]}")
    return await callers.make_caller(services, user, guild=guild, moderator=moderator, **fields)


@pytest.fixture
async def mod(config_services: Services) -> Caller:
    return await make_caller(config_services, "mod-a")


@pytest.fixture
async def member(config_services: Services, mod: Caller) -> Caller:
    return await make_caller(config_services, "member-a", moderator=False)


@pytest.fixture
async def mod_b(config_services: Services) -> Caller:
    return await make_caller(config_services, "mod-b", guild=GUILD_B, locale="en")


async def snapshot(services: Services) -> dict[str, list[tuple]]:
    """Every row of every table: "nothing changed" in one comparison."""
    async with services.db.transaction() as s:
        return {
            name: sorted(tuple(map(repr, row)) for row in (await s.execute(select(table))).all())
            for name, table in metadata.tables.items()
        }


def directory_a() -> NamedDirectory:
    return NamedDirectory(
        {INTROS: "presentations", MODLOG: "modlog", DEV: "dev"}, {"300000000000000001": "Modos"}
    )
