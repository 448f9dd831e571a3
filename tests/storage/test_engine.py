"""The engine: no lost updates under concurrency, aware UTC times, SQLite pragmas on every connection."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from storage.engine import BUSY_TIMEOUT, Database
from storage.models import Job, Meta

PARIS = ZoneInfo("Europe/Paris")


async def _increment(db: Database, *, lock: bool) -> None:
    async with db.transaction() as session:
        query = select(Meta).where(Meta.key == "counter")
        row = await session.scalar(query.with_for_update() if lock else query)
        assert row is not None
        await asyncio.sleep(0)  # give every other transaction the chance to read the same value
        row.value = str(int(row.value) + 1)


async def _counter(db: Database) -> None:
    async with db.transaction() as session:
        session.add(Meta(key="counter", value="0"))


async def _value(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(Meta.value).where(Meta.key == "counter")) or -1)


async def test_sqlite_read_then_write_loses_no_update(db: Database) -> None:
    # Without BEGIN IMMEDIATE the SELECT runs outside the transaction and most increments vanish.
    await _counter(db)
    await asyncio.gather(*(_increment(db, lock=False) for _ in range(200)))
    assert await _value(db) == 200


async def test_read_for_update_then_write_loses_no_update(any_db: Database) -> None:
    # The portable pattern: FOR UPDATE is what PostgreSQL needs, and SQLite's recipe makes it moot.
    await _counter(any_db)
    await asyncio.gather(*(_increment(any_db, lock=True) for _ in range(200)))
    assert await _value(any_db) == 200


async def test_sqlite_connections_use_the_recipe(db: Database) -> None:
    async with db.engine.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    # On the event loop a connection never waits for a lock (busy_timeout 0); the driver retries
    # what meets one on a worker thread with the 10 s timeout (tests/storage/test_sqlite_driver.py).
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 0}
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection.busy_ms == BUSY_TIMEOUT * 1000  # type: ignore[union-attr]


async def test_times_come_back_aware_utc(any_db: Database) -> None:
    paris = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=PARIS)  # just after the spring DST change
    async with any_db.transaction() as session:
        session.add(Job(kind="remind", payload={}, due_at=paris))
    async with any_db.sessionmaker() as session:
        stored = await session.scalar(select(Job.due_at))
        later = await session.scalar(select(Job.id).where(Job.due_at > paris - timedelta(microseconds=1)))
    assert stored == paris
    assert stored is not None
    assert stored.tzinfo == UTC
    assert stored.utcoffset() == timedelta(0)
    assert (stored.hour, stored.minute) == (1, 30)
    assert later is not None  # comparisons in SQL use the same UTC representation


async def test_naive_times_are_refused(any_db: Database) -> None:
    async def store_naive() -> None:
        async with any_db.transaction() as session:
            session.add(Job(kind="remind", payload={}, due_at=datetime(2026, 12, 1, 19, 0)))

    with pytest.raises(StatementError, match="naive datetime"):
        await store_naive()


async def test_a_failed_transaction_is_rolled_back(any_db: Database) -> None:
    async def fail_after_insert() -> None:
        async with any_db.transaction() as session:
            session.add(Meta(key="half", value="done"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_after_insert()
    async with any_db.sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM meta WHERE key = 'half'"))).scalar() == 0


async def test_a_sqlite_read_runs_start_to_end_without_a_turn_of_the_loop(db: Database) -> None:
    # Nothing in a read on SQLite waits (storage/sqlite_driver.py), so nothing else runs meanwhile:
    # closing the session in a task of its own (as `async with AsyncSession()` does) cost a turn.
    if not db.is_sqlite:
        pytest.skip("PostgreSQL reads wait on the network")
    turns: list[int] = []
    asyncio.get_running_loop().call_soon(turns.append, 1)
    async with db.transaction(write=False) as session:
        assert await session.scalar(text("SELECT 1")) == 1
    assert turns == []
    await asyncio.sleep(0)
    assert turns == [1]


async def test_a_cancelled_transaction_keeps_nothing_and_gives_its_connection_back(any_db: Database) -> None:
    entered = asyncio.Event()

    async def interrupted() -> None:
        async with any_db.transaction() as session:
            session.add(Meta(key="cancelled", value="half"))
            await session.flush()
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(interrupted())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert any_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with any_db.transaction(write=False) as session:
        assert await session.scalar(select(Meta.value).where(Meta.key == "cancelled")) is None


async def test_database_echo_and_errors_never_show_a_statements_values(
        any_db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """database.echo = true logged every statement with its values: Slack workspace tokens (slack_bots),
    members' data. The statements still show; their values do not, in the log nor in an error."""
    from sqlalchemy.exc import IntegrityError

    secret = "xoxb-1234-not-for-the-logs"
    url = any_db.engine.url.render_as_string(hide_password=False)
    echoing = Database.from_url(url, echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with echoing.transaction() as session:
                session.add(Meta(key="slack-token", value=secret))
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "INSERT INTO meta" in logged  # echo still shows what runs
        assert secret not in logged
        with pytest.raises(IntegrityError) as error:
            async with echoing.transaction() as session:
                session.add(Meta(key="slack-token", value=secret))
        assert secret not in str(error.value)
    finally:
        await echoing.dispose()
