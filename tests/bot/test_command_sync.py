"""The synced commands' hash: stored once per application and target, even by two processes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands
from sqlalchemy import select

from bot.discord_bot.client import CollectifBot
from bot.discord_bot.sync import command_payloads, hash_key, remember_sync, sync_commands
from bot.services import Services
from storage.engine import Database
from storage.models import Meta


async def test_processes_storing_the_hash_together_all_succeed(any_db: Database) -> None:
    # Two processes starting together both sync and both store the hash. With `merge()` each
    # SELECTed no row and INSERTed one: PostgreSQL refused the second (pk_meta) and start-up
    # logged a traceback.
    key = hash_key(1234, None)
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    await asyncio.gather(*(remember_sync(any_db, key, "abc", now) for _ in range(8)))
    await remember_sync(any_db, key, "def", now)
    async with any_db.sessionmaker() as session:
        rows = (await session.execute(select(Meta.key, Meta.value).where(Meta.key == key))).all()
    assert [tuple(r) for r in rows] == [(key, "def")]


class _RecordingHTTP:
    """Discord's two bulk upserts, recorded; a guild in `gone` answers 404 (the bot left it)."""

    def __init__(self, gone: frozenset[int] = frozenset()) -> None:
        self.calls: list[tuple[str, int | None, int]] = []
        self.gone = gone

    async def bulk_upsert_global_commands(self, application_id: int, payload: list[Any]) -> None:
        self.calls.append(("global", None, len(payload)))

    async def bulk_upsert_guild_commands(self, application_id: int, guild_id: int,
                                         payload: list[Any]) -> None:
        if guild_id in self.gone:
            response = SimpleNamespace(status=404, reason="Not Found")
            raise discord.NotFound(response, {"message": "Unknown Guild"})
        self.calls.append(("guild", guild_id, len(payload)))


@pytest.fixture
async def tree(services: Services) -> AsyncIterator[app_commands.CommandTree]:
    bot = CollectifBot(services)
    try:
        await bot.setup_hook()
        yield bot.tree
    finally:
        await bot.http.close()


def _bot(services: Services, tree: app_commands.CommandTree, http: _RecordingHTTP,
         dev_guild: int | None) -> Any:
    settings = services.settings.model_copy(update={
        "discord": services.settings.discord.model_copy(update={"dev_guild_id": dev_guild})})
    return SimpleNamespace(application_id=1, tree=tree, http=http,
                           services=SimpleNamespace(settings=settings, db=services.db, clock=services.clock))


async def test_a_former_development_guild_loses_its_copy_of_the_commands(
    services: Services, tree: app_commands.CommandTree
) -> None:
    """README: set `discord.dev_guild_id` while trying things out. Once it is removed, that server kept
    its own copy of every command beside the global ones: each showed twice there (a docs review)."""
    http = _RecordingHTTP()
    count = len(await command_payloads(tree))
    assert await sync_commands(_bot(services, tree, http, 4242))  # trying things out
    assert await sync_commands(_bot(services, tree, http, None))  # the setting removed
    assert http.calls == [("guild", 4242, count), ("guild", 4242, 0), ("global", None, count)]
    http.calls.clear()
    assert not await sync_commands(_bot(services, tree, http, None))  # next start: nothing to clear again
    assert http.calls == []


async def test_a_development_guild_the_bot_left_is_forgotten(
    services: Services, tree: app_commands.CommandTree
) -> None:
    http = _RecordingHTTP()
    await sync_commands(_bot(services, tree, http, 4242))
    await sync_commands(_bot(services, tree, http, 4343))  # another server tried (4242 is cleared)
    http = _RecordingHTTP(gone=frozenset({4242, 4343}))
    await sync_commands(_bot(services, tree, http, None))  # both former guilds gone: nothing fails
    async with services.db.sessionmaker() as session:
        keys = set(await session.scalars(select(Meta.key)))
    assert keys == {hash_key(1, None)}
