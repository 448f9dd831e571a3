"""The SQLite driver: statements on the event loop, and only waits and long work on worker threads."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import storage.sqlite_driver as driver
from storage.engine import BACKGROUND_OPTION, WRITE_OPTION, Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await session.execute(text("INSERT INTO t (v) VALUES ('a'), ('b')"))
    yield database
    await database.dispose()


@pytest.fixture
def thread_jobs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The work each statement sent to a worker thread, by pool."""
    jobs: list[str] = []
    for name in ("_workers", "_lock_waiters"):
        pool = getattr(driver, name)
        original = pool.submit

        def submit(*args: object, _original: object = original, _name: str = name) -> object:
            jobs.append(_name)
            return _original(*args)  # type: ignore[operator]

        monkeypatch.setattr(pool, "submit", submit)
    return jobs


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection (another process, say) holding the write lock."""
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.rollback()
    other.close()


async def _ticks_during(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many times a 1 ms ticker ran while `work` was going on: 0 when the loop was stalled."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def test_a_read_and_a_small_write_use_no_thread_but_the_checkpoint(
    db: Database, thread_jobs: list[str]
) -> None:
    loop_thread = threading.get_ident()
    statements: list[tuple[str, bool]] = []  # (statement, ran on the loop's thread)
    async with db.transaction(write=False) as session:
        raw = (await (await session.connection()).get_raw_connection()).dbapi_connection
        raw._connection.conn.set_trace_callback(  # type: ignore[union-attr]
            lambda sql: statements.append((sql.split()[0], threading.get_ident() == loop_thread))
        )
        assert (await session.execute(text("SELECT v FROM t WHERE id = 1"))).scalar() == "a"
    assert thread_jobs == []  # aiosqlite: four hand-offs per statement, plus BEGIN and COMMIT

    driver.checkpoints.settle()  # the setup's write started one a moment ago
    driver.checkpoints._last.clear()
    async with db.transaction() as session:
        await session.execute(text("UPDATE t SET v = 'c' WHERE id = 1"))
    driver.checkpoints.settle()
    assert thread_jobs == ["_workers"]  # the WAL checkpoint, on its own connection
    assert ("COMMIT", True) in statements and all(on_loop for _, on_loop in statements)

    async with db.transaction(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t WHERE id = 1"))).scalar() == "c"


async def test_checkpoints_off_the_loop_keep_the_wal_small(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's connections never checkpoint (that syncs the disk); the worker's checkpoints
    let the log start over, so it does not grow with every write."""
    monkeypatch.setattr(driver, "CHECKPOINT_EVERY", 0.0)
    for _ in range(60):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 12_000})
        driver.checkpoints.settle()
    wal = tmp_path / "driver.db-wal"
    page = 4096
    assert wal.stat().st_size < 20 * page, wal.stat().st_size  # 60 writes of 3+ pages: 180+ without


async def test_a_read_does_not_wait_for_another_connections_write_lock(
    db: Database, lock_holder: sqlite3.Connection, thread_jobs: list[str]
) -> None:
    lock_holder.execute("UPDATE t SET v = 'uncommitted' WHERE id = 1")
    started = time.perf_counter()
    async with db.transaction(write=False) as session:
        value = (await session.execute(text("SELECT v FROM t WHERE id = 1"))).scalar()
    assert value == "a"  # the last committed value, under WAL
    assert time.perf_counter() - started < 1
    assert thread_jobs == []


async def test_a_write_waits_for_the_lock_on_a_thread_while_the_loop_runs(
    db: Database, lock_holder: sqlite3.Connection, thread_jobs: list[str]
) -> None:
    async def write() -> None:
        async with db.transaction() as session:
            await session.execute(text("UPDATE t SET v = 'mine' WHERE id = 2"))

    task = asyncio.ensure_future(write())
    asyncio.get_running_loop().call_later(0.3, lock_holder.rollback)  # the other writer finishes
    ticks = await _ticks_during(task)
    await task

    assert ticks >= 50  # the loop kept serving for the 0.3 s the write waited
    assert thread_jobs[0] == "_lock_waiters"  # BEGIN IMMEDIATE, retried where it may wait
    async with db.transaction(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t WHERE id = 2"))).scalar() == "mine"


async def test_a_long_select_moves_to_a_thread_and_the_loop_keeps_running(
    db: Database, thread_jobs: list[str]
) -> None:
    long_count = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
        "SELECT count(*) FROM n"
    )

    async def scan() -> int:
        async with db.transaction(write=False) as session:
            return int((await session.execute(long_count)).scalar_one())

    task = asyncio.ensure_future(scan())
    ticks = await _ticks_during(task)

    assert await task == 3_000_000  # stopped at its time budget, run again in full on a thread
    assert thread_jobs == ["_workers"]
    assert ticks >= 5


async def test_background_reads_go_to_a_thread_at_once_and_the_next_transaction_reads_on_the_loop(
    db: Database, thread_jobs: list[str]
) -> None:
    """A cache refresh known to scan (BACKGROUND_OPTION) never holds the loop for the inline budget."""
    loop_thread = threading.get_ident()
    statements: list[tuple[str, bool]] = []  # (statement, ran on the loop's thread)
    options = {WRITE_OPTION: False, BACKGROUND_OPTION: True}
    async with AsyncSession(db.engine) as session, session.begin():
        first = (await (await session.connection(execution_options=options)).get_raw_connection())
        first_driver = first.dbapi_connection
        first_driver._connection.conn.set_trace_callback(  # type: ignore[union-attr]
            lambda sql: statements.append((sql.split()[0], threading.get_ident() == loop_thread))
        )
        assert (await session.execute(text("SELECT v FROM t WHERE id = 1"))).scalar() == "a"
    assert ("SELECT", False) in statements and ("SELECT", True) not in statements  # not tried inline
    assert thread_jobs == ["_workers"]

    statements.clear()
    thread_jobs.clear()
    async with db.transaction(write=False) as session:  # the pool's one connection, a member's read
        again = await (await session.connection()).get_raw_connection()
        assert again.dbapi_connection is first_driver
        assert (await session.execute(text("SELECT v FROM t WHERE id = 2"))).scalar() == "b"
    assert ("SELECT", True) in statements and thread_jobs == []


async def test_a_cancelled_write_gives_up_waiting_and_its_connection_stays_sound(
    db: Database, lock_holder: sqlite3.Connection
) -> None:
    async def write() -> None:
        async with db.transaction() as session:
            await session.execute(text("UPDATE t SET v = 'never' WHERE id = 1"))

    task = asyncio.ensure_future(write())
    await asyncio.sleep(0.2)  # waiting for the lock on a thread
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 2  # not the 10 s busy timeout
    lock_holder.rollback()

    for _ in range(3):  # the pool's connections still work, none is used by two threads
        async with db.transaction() as session:
            await session.execute(text("UPDATE t SET v = 'later' WHERE id = 1"))
    async with db.transaction(write=False) as session:
        assert (await session.execute(text("SELECT v FROM t WHERE id = 1"))).scalar() == "later"


async def test_a_write_still_gives_up_after_the_busy_timeout(
    db: Database, lock_holder: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.engine.connect() as conn:  # every pooled connection: a short timeout
        raw = await conn.get_raw_connection()
        monkeypatch.setattr(raw.driver_connection, "busy_ms", 300)  # type: ignore[union-attr]
        with pytest.raises(Exception, match="database is locked"):
            await conn.execute(text("BEGIN IMMEDIATE"))


async def test_writers_of_one_process_take_turns_in_arrival_order(
    db: Database, thread_jobs: list[str]
) -> None:
    release = asyncio.Event()

    async def first() -> None:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (v) VALUES ('w0')"))
            await release.wait()  # holds the write lock while the others arrive

    async def writer(i: int) -> None:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": f"w{i}"})

    holder = asyncio.ensure_future(first())
    await asyncio.sleep(0.05)
    writers = []
    for i in range(1, 13):  # more than the pool's 5 connections + 10 overflow would still queue
        writers.append(asyncio.ensure_future(writer(i)))
        await asyncio.sleep(0.005)
    release.set()
    await asyncio.gather(holder, *writers)

    async with db.transaction(write=False) as session:
        order = (await session.execute(text("SELECT v FROM t WHERE v LIKE 'w%' ORDER BY id"))).scalars()
        assert list(order) == [f"w{i}" for i in range(13)]
    assert "_lock_waiters" not in thread_jobs  # nobody polled SQLite's lock
