"""Applies Alembic migrations from inside the running program (no alembic.ini needed)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x0C011EC7  # PostgreSQL advisory lock: one process migrates at a time
SQLITE_ATTEMPTS = 5


def alembic_config(connection: Connection | None = None, script_location: Path = MIGRATIONS) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str, script_location: Path) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    command.upgrade(alembic_config(connection, script_location), revision)


async def upgrade(
    engine: AsyncEngine, revision: str = "heads", *, script_location: Path = MIGRATIONS
) -> None:
    """Bring the schema to `revision` (default: every branch's latest; features migrate on branches).

    Several processes may start at once on one database. PostgreSQL serializes them with an advisory
    lock. SQLite serializes them with BEGIN IMMEDIATE, but while a brand-new file is switched to WAL it
    can answer "database is locked" at once, without waiting for the busy timeout: that is retried
    (the other process's migration is then already applied, and the retry finds nothing to do).
    """
    for attempt in range(1, SQLITE_ATTEMPTS + 1):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_upgrade, revision, script_location)
            return
        except OperationalError as exc:
            if engine.dialect.name != "sqlite" or "locked" not in str(exc) or attempt == SQLITE_ATTEMPTS:
                raise
            log.warning("database locked while migrating (attempt %d), retrying", attempt)
            await asyncio.sleep(0.1 * attempt)


async def current_heads(engine: AsyncEngine) -> tuple[str, ...]:
    """The revisions the database is at (one per migration branch)."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: tuple(MigrationContext.configure(c).get_current_heads()))
