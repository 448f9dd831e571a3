"""Migrations build the schema on SQLite and PostgreSQL, and the models match them exactly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from bot.models import metadata
from storage.engine import Database
from storage.migrate import MIGRATIONS, alembic_config, upgrade

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The URL of an empty database of its own, on each backend."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))


def _heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_builds_every_table_and_is_repeatable(empty_url: str) -> None:
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine)
        await upgrade(db.engine)  # `run` upgrades on every start: a second time changes nothing
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            applied = await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
        assert set(metadata.tables) <= tables
        assert {"communities", "members", "trades", "sectors", "jobs", "meta", "alembic_version"} <= tables
        assert applied == _heads()  # every feature branch is at its latest revision
    finally:
        await db.dispose()


async def test_models_match_the_migrations(empty_url: str) -> None:
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await db.dispose()
    assert diff == [], f"models and migrations differ; write a migration (python -m bot.autogen): {diff}"


async def test_two_processes_migrating_at_once_both_succeed(empty_url: str) -> None:
    first, second = Database.from_url(empty_url), Database.from_url(empty_url)
    try:
        await asyncio.gather(upgrade(first.engine), upgrade(second.engine))
        async with first.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await first.dispose()
        await second.dispose()


def test_every_migration_file_belongs_to_the_history() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = {rev.path for rev in scripts.walk_revisions()}
    files = {str(path) for path in (MIGRATIONS / "versions").glob("*.py")}
    assert files == revisions


async def test_a_sqlite_lock_while_migrating_is_retried(sqlite_url: str, monkeypatch) -> None:
    """SQLite may answer "database is locked" at once (no busy wait) while another process sets up WAL."""
    from sqlalchemy.exc import OperationalError

    from storage import migrate

    real = migrate._upgrade
    calls: list[int] = []

    def locked_once(connection, revision, script_location):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        real(connection, revision, script_location)

    monkeypatch.setattr(migrate, "_upgrade", locked_once)
    db = Database.from_url(sqlite_url)
    try:
        await migrate.upgrade(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()
    assert len(calls) == 2
