"""SQLite for the event loop without a thread hand-off per statement.

aiosqlite runs every call on its own thread: the cursor, the statement, the fetch, the close and
the commit are each a hand-off, about 20 per request. Each hand-off gives the GIL to another
thread and back, which costs up to the interpreter's switch interval (5 ms) when the loop is busy:
that, not SQLite, was most of every command's time (issue 7).

Under WAL a read never waits on a lock, and a short statement takes microseconds, so this driver
runs statements on the event loop and sends to a worker thread only what may wait or last:

- any statement that meets a lock (`SQLITE_BUSY`: another connection holds the write lock, so
  `BEGIN IMMEDIATE` cannot start) is run again on a worker thread, with the busy timeout; on the
  loop the connection never waits (its busy timeout is 0);
- a SELECT (or a WITH … SELECT) gets a time budget (`INLINE_BUDGET`, checked by SQLite's
  progress handler); past it, it is stopped and run again on a worker thread, so a long scan
  never stalls the loop. Only a SELECT: stopping a write would roll back its transaction;
- the reads of a transaction begun for background work (`storage.engine.BACKGROUND_OPTION`: a
  periodic refresh known to scan) go to a worker thread at once: tried on the loop first, each
  would hold it for the whole budget before moving, under the members' interactions;
- the WAL checkpoint, which copies the log into the database file and syncs the disk: the loop's
  connections do not checkpoint on commit (`wal_autocheckpoint=0`), so a commit only appends to
  the log (no sync under `synchronous=NORMAL`) and runs on the loop; after writes, a PASSIVE
  checkpoint runs on a worker thread on its own connection, at most one at a time per file and
  one per `CHECKPOINT_EVERY` seconds. (A commit sent to a thread cost about 0.6 ms of CPU in
  thread switches: a sixth of an RSVP click.)

It is aiosqlite's SQLAlchemy dialect with this DBAPI module in place of aiosqlite
(`create_async_engine(..., module=InlineSQLite())`, see `storage.engine.create_engine`), so URLs stay
`sqlite+aiosqlite://`. A connection is used by one task at a time (SQLAlchemy's pool), on the loop
or, while that task waits, on a worker thread: never by two at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

# Seconds a SELECT may run on the loop before it is stopped and run again on a worker thread. Past
# it the time spent is lost, so it sits above the hot reads' usual cost: at 2 ms, a third of the
# directory's skill searches (1.5-3 ms on a busy loop) ran twice and the load benchmark's p99 was
# 9.8-10.2 ms; at 5 ms, 6 statements a minute moved instead of 77-134 and the p99 was 7.6-8.4 ms.
INLINE_BUDGET = 0.005
PROGRESS_STEPS = 1000  # SQLite virtual machine steps between two checks of the budget
LOCK_POLL_MS = 50  # a worker waiting for the write lock checks this often whether to give up
CHECKPOINT_EVERY = 1.0  # seconds between two WAL checkpoints of a file, while it is written

_SQLITE_BUSY = 5  # with its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT…) in the high bits
_SQLITE_INTERRUPT = 9

# Two sets of threads, created only when first needed: what lasts (a commit, a long SELECT) must
# never queue behind what waits for a lock, or the holder of the lock could not commit.
_workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="collectif-sqlite")
_lock_waiters = ThreadPoolExecutor(max_workers=64, thread_name_prefix="collectif-sqlite-lock")
# Per event loop and database file: the writers of this process take turns (Connection._take_write_turn).
_write_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)

T = TypeVar("T")


class _Checkpoints:
    """The WAL checkpoints of this process, per database file, off the loop (see the module docstring)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._running: set[str] = set()

    def after_write(self, database: str, connect: Callable[[], sqlite3.Connection]) -> None:
        now = time.monotonic()
        if database in self._running or now - self._last.get(database, 0.0) < CHECKPOINT_EVERY:
            return
        self._running.add(database)
        self._last[database] = now
        _workers.submit(self._run, database, connect)

    def _run(self, database: str, connect: Callable[[], sqlite3.Connection]) -> None:
        try:
            conn = connect()
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:  # the file is gone (a test's), or busy: the next write tries again
            pass
        finally:
            self._running.discard(database)

    def settle(self) -> None:
        """Wait until no checkpoint runs (tests)."""
        while self._running:
            time.sleep(0.001)


checkpoints = _Checkpoints()


def _statement(cursor: sqlite3.Cursor, operation: str, parameters: Any) -> list[Any] | None:
    if parameters is None:
        cursor.execute(operation)
    else:
        cursor.execute(operation, parameters)
    return cursor.fetchall() if cursor.description else None


def _reads_only(operation: str) -> bool:
    """A WITH statement that is a SELECT (a CTE may also lead an INSERT, UPDATE or DELETE)."""
    upper = operation.upper()
    return not any(verb in upper for verb in ("INSERT ", "UPDATE ", "DELETE ", "REPLACE "))


def _code(error: sqlite3.Error) -> int:
    return (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


class Connection:
    """One sqlite3 connection and what it knows of its transaction."""

    def __init__(self, conn: sqlite3.Connection, busy_ms: int, database: str | None = None,
                 reopen: Callable[[], sqlite3.Connection] | None = None) -> None:
        self.conn = conn
        self.busy_ms = busy_ms
        self.database = database  # the file, for the process's write turn (None: no turn)
        self.reopen = reopen  # another connection to the same file, for its checkpoints
        self.turn: asyncio.Lock | None = None  # the write turn this connection holds
        self.wrote = False  # the open transaction took the write lock or changed something
        self.job: Future[Any] | None = None  # the last work sent to a worker thread
        self.stop = False  # tells that work to give up waiting for the lock
        self.reads_off_the_loop = False  # set at each BEGIN: background work (see the module docstring)

    def _on_thread(self, work: Callable[[], T], *, waits: bool = False) -> T:
        """Run `work` on a worker thread, waiting for locks up to the busy timeout.

        If the waiting task is cancelled, the thread is told to stop (`interrupt`, and it stops
        waiting for the lock) and the task waits until the thread let go of the connection, so
        that nothing closes or reuses a connection a thread is still using.
        """
        self.stop = False
        job = (_lock_waiters if waits else _workers).submit(self._waiting, work)
        self.job = job
        try:
            return await_(asyncio.wrap_future(job))
        except BaseException:
            if not job.done():
                self.stop = True
                self.conn.interrupt()
                with contextlib.suppress(BaseException):
                    await_(asyncio.shield(asyncio.wrap_future(job)))
            raise

    def _waiting(self, work: Callable[[], T]) -> T:
        # Short busy waits in a loop rather than one long one: SQLite's busy wait does not heed
        # interrupt(), this loop heeds `stop` within LOCK_POLL.
        deadline = time.monotonic() + self.busy_ms / 1000
        self.conn.execute(f"PRAGMA busy_timeout={LOCK_POLL_MS}")
        try:
            while True:
                try:
                    return work()
                except sqlite3.OperationalError as error:
                    if _code(error) != _SQLITE_BUSY or self.stop or time.monotonic() > deadline:
                        raise
        finally:
            self.conn.execute("PRAGMA busy_timeout=0")

    def in_use_elsewhere(self) -> bool:
        """A worker thread still runs a statement (its task was cancelled twice)."""
        return self.job is not None and not self.job.done()

    def _take_write_turn(self) -> None:
        """Wait, on the loop and in arrival order, for this process's other writers to commit.

        SQLite lets one writer at a time; a writer that finds the lock taken polls for it (sleeps
        of growing length), so under a burst the writes finish in no particular order and the lock
        sits idle between a commit and the next poll. Within one process the writers queue on an
        asyncio lock instead: first come, first served, handed over at once. Other processes
        still meet SQLite's lock, handled as above. Bounded by the busy timeout, like SQLite's.
        """
        if self.database is None:
            return
        turns = _write_turns.setdefault(asyncio.get_running_loop(), {})
        turn = turns.setdefault(self.database, asyncio.Lock())
        if turn.locked():
            try:
                await_(asyncio.wait_for(turn.acquire(), self.busy_ms / 1000))
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
        else:
            await_(turn.acquire())  # free: completes without yielding to the loop
        self.turn = turn

    def _leave_write_turn(self) -> None:
        turn, self.turn = self.turn, None
        if turn is not None:
            turn.release()

    def execute(self, cursor: sqlite3.Cursor, operation: str, parameters: Any) -> list[Any] | None:
        """Run one statement and fetch its rows (None when it returns none)."""
        head = operation.lstrip()[:16].upper()
        read = head.startswith("SELECT") or (head.startswith("WITH") and _reads_only(operation))
        if head.startswith("BEGIN"):
            self.wrote = "IMMEDIATE" in head or "EXCLUSIVE" in head
            if self.wrote and self.turn is None:
                self._take_write_turn()
        elif not read and not head.startswith("PRAGMA"):
            self.wrote = True
        if read and self.reads_off_the_loop:
            return self._on_thread(lambda: _statement(cursor, operation, parameters))
        if read:
            deadline = time.perf_counter() + INLINE_BUDGET
            self.conn.set_progress_handler(lambda: time.perf_counter() > deadline, PROGRESS_STEPS)
        try:
            return _statement(cursor, operation, parameters)
        except sqlite3.OperationalError as error:
            code = _code(error)
            if code != _SQLITE_BUSY and not (read and code == _SQLITE_INTERRUPT):
                raise
        finally:
            if read:
                self.conn.set_progress_handler(None, 0)
        return self._on_thread(
            lambda: _statement(cursor, operation, parameters), waits=code == _SQLITE_BUSY
        )

    def executemany(self, cursor: sqlite3.Cursor, operation: str, rows: Sequence[Any]) -> None:
        self.wrote = True
        try:
            cursor.executemany(operation, rows)
        except sqlite3.OperationalError as error:
            if _code(error) != _SQLITE_BUSY:
                raise
            self._on_thread(lambda: cursor.executemany(operation, rows), waits=True)

    def commit(self) -> None:
        wrote, self.wrote = self.wrote, False
        self.reads_off_the_loop = False
        try:
            try:
                self.conn.commit()
            except sqlite3.OperationalError as error:
                if _code(error) != _SQLITE_BUSY:
                    raise
                self._on_thread(self.conn.commit, waits=True)
        finally:
            self._leave_write_turn()
        if wrote and self.database is not None and self.reopen is not None:
            checkpoints.after_write(self.database, self.reopen)

    def rollback(self) -> None:
        if self.in_use_elsewhere():  # SQLAlchemy then discards the connection (see close)
            raise sqlite3.OperationalError("connection still in use by a worker thread")
        self.wrote = self.reads_off_the_loop = False
        try:
            self.conn.rollback()
        finally:
            self._leave_write_turn()

    def close(self) -> None:
        self._leave_write_turn()
        job = self.job
        if job is not None and not job.done():
            job.add_done_callback(lambda _job: self.conn.close())  # closed once the thread is done
        else:
            self.conn.close()


class _Resolved:
    """An awaitable that is already done: awaiting it switches greenlets but never yields to the loop."""

    def __await__(self) -> Any:
        return iter(())


_RESOLVED = _Resolved()


class _Cursor(AsyncAdapt_dbapi_cursor):
    """SQLAlchemy's adapted cursor, driving a plain sqlite3 cursor through `Connection`."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return connection.conn.cursor()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> None:
        try:
            rows = self._connection.execute(self._cursor, operation, parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        if rows is not None:
            self._rows = collections.deque(rows)
        # AsyncConnection.execute insists that the driver awaited something (AwaitRequired): one
        # greenlet switch, microseconds, and no turn of the event loop.
        await_(_RESOLVED)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        try:
            self._connection.executemany(self._cursor, operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor  # type: ignore[assignment]
    _ss_cursor_cls = _Cursor  # type: ignore[assignment]  # nothing streams; reads like any other

    @property
    def _inline(self) -> Connection:
        return cast(Connection, self._connection)

    @property
    def isolation_level(self) -> str | None:
        return self._inline.conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._inline.conn.isolation_level = value  # type: ignore[assignment]

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._inline.conn.create_function(*args, **kw)

    def reads_off_the_loop(self, background: bool) -> None:
        """For the transaction about to begin: its reads run on a worker thread at once."""
        self._inline.reads_off_the_loop = background

    def commit(self) -> None:
        try:
            self._inline.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._inline.rollback()
        except Exception as error:
            self._handle_exception(error)

    def close(self) -> None:
        self._inline.close()

    async def _terminate_graceful_close(self) -> None:
        self._inline.close()

    def _terminate_force_close(self) -> None:
        self._inline.close()


class InlineSQLite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module given to SQLAlchemy's aiosqlite dialect: sqlite3, run as described above."""

    def __init__(self) -> None:
        super().__init__(sqlite3, sqlite3)  # aiosqlite's exceptions are sqlite3's

    def connect(self, *arg: Any, **kw: Any) -> _AdaptedConnection:
        kw.pop("async_creator_fn", None)
        busy_ms = int(float(kw.pop("timeout", 5.0)) * 1000)
        kw.update(timeout=0, check_same_thread=False)  # waits happen on a worker thread, see above
        conn = sqlite3.connect(*arg, **kw)
        database = str(arg[0] if arg else kw.get("database", ""))
        shared = database not in ("", ":memory:") and "mode=memory" not in database
        if not shared:
            return _AdaptedConnection(self, cast(Any, Connection(conn, busy_ms)))
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on a worker thread instead

        def reopen() -> sqlite3.Connection:
            return sqlite3.connect(*arg, **{**kw, "timeout": 0})

        return _AdaptedConnection(self, cast(Any, Connection(conn, busy_ms, database, reopen)))
