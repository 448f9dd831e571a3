"""Shared fixtures: a migrated SQLite database per test, settings, services, a frozen clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Secrets, Settings, load_settings
from bot.services import Services
from storage.engine import Database
from storage.migrate import upgrade
from tests.postgres import PostgresServer, find_bindir, run_sync

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'collectif.db'}"


@pytest.fixture
async def db(sqlite_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated SQLite database (COLLECTIF_TEST_DATABASE=postgresql: a PostgreSQL one, for a whole run)."""
    if os.environ.get("COLLECTIF_TEST_DATABASE") == "postgresql":
        database = Database.from_url(str(request.getfixturevalue("pg_migrated_url")))
    else:
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


# -- PostgreSQL: one throwaway server per test run, one fresh database per test ---------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server on 127.0.0.1 for the whole run; skipped without binaries unless CI is set."""
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: PostgreSQL tests may not be skipped)")
        pytest.skip(reason)
    server = PostgresServer.start(bindir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    """A migrated database that each test's database is copied from (CREATE DATABASE … TEMPLATE)."""
    name = postgres.create_database(name="collectif_template")

    async def migrate() -> None:
        database = Database.from_url(postgres.url(name))
        try:
            await upgrade(database.engine)
        finally:
            await database.dispose()  # a template must have no open connection when copied

    run_sync(migrate())
    return name


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """An empty PostgreSQL database of its own (for migration tests)."""
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture
def pg_migrated_url(postgres: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database of its own."""
    name = postgres.create_database(template=postgres_template)
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The URL of a database of its own, on each backend (PostgreSQL's is already migrated)."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_migrated_url"))


@pytest.fixture
async def any_db(any_db_url: str) -> AsyncIterator[Database]:
    """A migrated Database, once on SQLite and once on PostgreSQL."""
    database = Database.from_url(any_db_url)
    if database.is_sqlite:
        await upgrade(database.engine)
    yield database
    await database.dispose()
