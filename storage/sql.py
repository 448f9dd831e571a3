"""Dialect-specific statements the generic API lacks: INSERT … ON CONFLICT on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import FromClause, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

    Insert = postgresql.Insert | sqlite.Insert

# A table (a FromClause), a model class, or a model's `__table__` (typed as a FromClause by SQLAlchemy).
_Target = FromClause | type[DeclarativeBase]


def insert_for(dialect: str, table: _Target) -> Insert:
    """An INSERT of `dialect` ("sqlite" or "postgresql"), so that `.on_conflict_do_nothing()` exists."""
    # A model's `__table__` is a Table at run time; SQLAlchemy's stubs only promise a FromClause.
    target = cast("Table | type[DeclarativeBase]", table)
    if dialect == "postgresql":
        # Imported here: SQLAlchemy's PostgreSQL dialect costs a SQLite-only process 2 MB of RSS.
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(target)
    return sqlite.insert(target)


def dialect_insert(session: AsyncSession, table: _Target) -> Insert:
    """An INSERT for the backend this session talks to."""
    return insert_for(session.get_bind().dialect.name, table)


async def insert_ignore(session: AsyncSession, table: _Target,
                        rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: a concurrent creator is not an error."""
    if rows:
        await session.execute(dialect_insert(session, table).values(rows).on_conflict_do_nothing())
