"""storage.sql: one INSERT … ON CONFLICT helper for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.engine import Database
from storage.models import Meta
from storage.sql import dialect_insert, insert_for, insert_ignore


def test_insert_for_each_backend() -> None:
    assert isinstance(insert_for("sqlite", Meta), sqlite.Insert)
    assert isinstance(insert_for("postgresql", Meta.__table__), postgresql.Insert)


async def test_insert_ignore_keeps_the_first_row(any_db: Database) -> None:
    async with any_db.transaction() as session:
        assert isinstance(dialect_insert(session, Meta), postgresql.Insert if not any_db.is_sqlite
                          else sqlite.Insert)
        await insert_ignore(session, Meta.__table__, [{"key": "k", "value": "first"}])
        await insert_ignore(session, Meta, [{"key": "k", "value": "second"}, {"key": "j", "value": "x"}])
        await insert_ignore(session, Meta, [])  # nothing to insert is not an error
    async with any_db.sessionmaker() as session:
        assert await session.scalar(select(Meta.value).where(Meta.key == "k")) == "first"
        assert await session.scalar(select(func.count()).select_from(Meta)) == 2
