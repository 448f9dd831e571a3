"""Shared fixtures: a migrated SQLite database per test, settings, services, a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Secrets, Settings, load_settings
from bot.services import Services
from storage.engine import Database
from storage.migrate import upgrade

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'collectif.db'}"


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(sqlite_url)
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    loaded, _ = load_settings(env={"COLLECTIF_DATABASE__URL": sqlite_url})
    return loaded


@pytest.fixture
async def services(settings: Settings, db: Database, clock: FrozenClock) -> AsyncIterator[Services]:
    built = Services.build(settings, Secrets(), clock=clock, db=db)
    yield built
    await built.scheduler.stop()
