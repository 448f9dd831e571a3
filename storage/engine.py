"""The engine and session factory, built from a URL (nothing at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

WRITE_OPTION = "collectif_write"
# A read-only transaction of background work that scans (a cache refresh): on SQLite its reads run
# on a worker thread at once instead of first on the event loop (storage/sqlite_driver.py).
BACKGROUND_OPTION = "collectif_background"
BUSY_TIMEOUT = 10  # seconds a write waits for SQLite's write lock (on a worker thread)


def _sqlite_recipe(engine: AsyncEngine) -> None:
    """SQLAlchemy's documented recipe: BEGIN IMMEDIATE, WAL, foreign keys.

    The busy timeout is the driver's (storage/sqlite_driver.py): it waits for a lock only on a
    worker thread, never on the event loop.

    Without it, read-then-write transactions silently lose updates under asyncio (PLATFORM_FACTS).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only transaction begins DEFERRED: under WAL it reads a snapshot and never waits
        # behind a writer (BEGIN IMMEDIATE for reads made every request queue behind each write).
        # Straight to the driver's cursor: `exec_driver_sql` went through SQLAlchemy's whole
        # execution path for a statement without rows (30 of an empty transaction's 240 µs).
        options = conn.get_execution_options()
        writes = options.get(WRITE_OPTION, True)
        driver = conn.connection.dbapi_connection
        driver.reads_off_the_loop(bool(options.get(BACKGROUND_OPTION)))
        cursor = driver.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
        finally:
            cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for SQLite (storage/sqlite_driver.py) or PostgreSQL (asyncpg).

    `hide_parameters`: neither database.echo's log nor an error's message shows a statement's values
    (Slack workspace tokens, members' data); the statements themselves still show.
    """
    if url.startswith("sqlite"):
        from storage.sqlite_driver import InlineSQLite

        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, module=InlineSQLite(),
            connect_args={"timeout": BUSY_TIMEOUT},
        )
        _sqlite_recipe(engine)
        return engine
    return create_async_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)


@dataclass
class Database:
    """The engine and its session factory, passed to whoever needs the database."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Database:
        engine = create_engine(url, echo=echo)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `write=False` for a transaction that only reads: on SQLite it takes no write lock.

        Its start and its end are one `run_sync` step each, where `async with session.begin()` and
        the close after it took four, each through AsyncSession's own wrappers: 0.70x the
        documented pattern's time for an empty read instead of 0.89x (benchmarks/transactions.py).
        The greenlet switch itself is cheap: two statements in one `run_sync` instead of two
        `execute` calls measured the same.
        """
        session = self.sessionmaker()
        try:
            await session.run_sync(_begin, write)
            try:
                yield session
            except BaseException:
                await session.run_sync(_end, False)
                raise
            await session.run_sync(_end, True)
        finally:
            if session.in_transaction():  # its start or end was interrupted (cancelled): closed
                await asyncio.shield(session.close())  # shielded, as `async with AsyncSession()` does

    async def dispose(self) -> None:
        await self.engine.dispose()


READ_ONLY = "collectif.read_only"  # in session.info: the transaction was begun with write=False


def _begin(session: Session, write: bool) -> None:
    session.begin()
    if not write:  # a read begins now (BEGIN: no write lock); a write at its first statement
        session.info[READ_ONLY] = True
        session.connection(execution_options={WRITE_OPTION: False})


def _end(session: Session, commit: bool) -> None:
    """Commit (or roll back), then close: the connection goes back to the pool either way."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


_ON_COMMIT = "collectif.on_commit"


def on_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run `action` (synchronous, no I/O) when the session's transaction commits; forget it on rollback.

    The scheduler arms its timers this way; use cases queue platform work with `Context.after_commit`
    (bot/usecase.py), which runs after the commit too, asynchronously.
    """
    sync = session.sync_session
    actions: list[Callable[[], None]] | None = sync.info.get(_ON_COMMIT)
    if actions is None:
        actions = sync.info[_ON_COMMIT] = []

        @event.listens_for(sync, "after_commit")
        def _committed(_session: Any) -> None:
            pending = list(actions)
            actions.clear()
            for run in pending:
                run()

        @event.listens_for(sync, "after_rollback")
        def _rolled_back(_session: Any) -> None:
            actions.clear()

    actions.append(action)
