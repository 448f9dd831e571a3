"""The synced commands' hash: stored once per application and target, even by two processes at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.discord_bot.sync import hash_key, remember_sync
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
