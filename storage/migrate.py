"""Applies Alembic migrations from inside the running program (no alembic.ini needed).

Alembic (with Mako) costs ~11 MB and ~0.2 s to import: it is imported only when a migration is
pending. Whether one is, is decided without it: the heads of the migration files (their `revision`
and `down_revision` assignments, read with `ast`) against the rows of the `alembic_version` table.
"""

from __future__ import annotations

import ast
import asyncio
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_LOCK_ID = 0x0C011EC7  # PostgreSQL advisory lock: one process migrates at a time
SQLITE_ATTEMPTS = 5


class UnknownRevisionError(Exception):
    """The database is at revisions no migration file here knows: a newer Collectif migrated it.

    Alembic cannot upgrade (nor downgrade) from there; this version must not run on it either.
    """

    def __init__(self, revisions: Iterable[str]) -> None:
        self.revisions = tuple(sorted(revisions))
        super().__init__(f"unknown migration revision(s) {', '.join(self.revisions)}")


def alembic_config(connection: Connection | None = None, script_location: Path = MIGRATIONS) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str, script_location: Path) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    command.upgrade(alembic_config(connection, script_location), revision)


def script_heads(script_location: Path = MIGRATIONS) -> frozenset[str]:
    """The head revisions of the migration files, read from their source (Alembic not imported).

    A head is a revision that no other file names as its `down_revision` (dependencies
    (`depends_on`) do not make heads, as in Alembic).
    """
    revisions, parents = _script_graph(script_location)
    return revisions - parents


def script_revisions(script_location: Path = MIGRATIONS) -> frozenset[str]:
    """Every revision of the migration files: the database may be at no other one."""
    return _script_graph(script_location)[0]


def unknown_revisions(revisions: Iterable[str], script_location: Path = MIGRATIONS) -> frozenset[str]:
    """The revisions among `revisions` that no migration file here knows (a newer Collectif's)."""
    return frozenset(revisions) - script_revisions(script_location)


def _script_graph(script_location: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(every revision, every revision some file names as its `down_revision`)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((script_location / "versions").glob("*.py")):
        stat = path.stat()
        revision, down = _revision(path, stat.st_mtime_ns, stat.st_size)
        if revision is not None:
            revisions.add(revision)
            parents.update(down)
    return frozenset(revisions), frozenset(parents)


@lru_cache(maxsize=1024)
def _revision(path: Path, mtime_ns: int, size: int) -> tuple[str | None, tuple[str, ...]]:
    """(revision, down revisions) of one migration file, parsed once per version of the file.

    A start asks twice (the backup before a migration, then the migration). Only the statements
    before the first top-level function are parsed (the identifiers come first in Alembic's
    template), the whole file when they are not there: parsing every file whole took 20-50 ms.
    """
    source = path.read_text(encoding="utf-8")
    names = {"revision", "down_revision"}
    try:
        values = _assignments(source.split("\ndef ", 1)[0], names, path)
    except SyntaxError:
        values = {}
    if not names <= values.keys():
        values = _assignments(source, names, path)
    if not isinstance(values.get("revision"), str):
        return None, ()
    down = values.get("down_revision")
    return values["revision"], tuple([down] if isinstance(down, str) else down or ())


def _assignments(source: str, names: set[str], path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in ast.parse(source, str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


def _database_heads(connection: Connection) -> frozenset[str]:
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


async def current_heads(engine: AsyncEngine) -> tuple[str, ...]:
    """The revisions the database is at (one per migration branch), in a read-only transaction."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: False})
        return tuple(sorted(await conn.run_sync(_database_heads)))


async def is_up_to_date(engine: AsyncEngine, script_location: Path = MIGRATIONS) -> bool:
    """Whether the database is at every head; UnknownRevisionError when a newer Collectif migrated it."""
    heads = script_heads(script_location)
    current = await current_heads(engine)
    if unknown := unknown_revisions(current, script_location):
        raise UnknownRevisionError(unknown)
    return bool(heads) and set(current) == heads


async def upgrade(
    engine: AsyncEngine, revision: str = "heads", *, script_location: Path = MIGRATIONS
) -> None:
    """Bring the schema to `revision` (default: every branch's latest; features migrate on branches).

    When the database is at every head already (the usual start), this reads one table and returns:
    Alembic is not imported. Several processes may start at once on one database. PostgreSQL
    serializes them with an advisory lock. SQLite serializes them with BEGIN IMMEDIATE, but while a
    brand-new file is switched to WAL it can answer "database is locked" at once, without waiting for
    the busy timeout: that is retried (the other process's migration is then already applied, and the
    retry finds nothing to do). A database a newer Collectif migrated raises UnknownRevisionError
    before Alembic is asked (it would fail with "Can't locate revision").
    """
    if await is_up_to_date(engine, script_location) and revision == "heads":
        return
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
