"""Dialect-specific statements the generic API lacks: INSERT … ON CONFLICT on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

Insert = postgresql.Insert | sqlite.Insert


def insert_for(dialect: str, table: Table | type[DeclarativeBase]) -> Insert:
    """An INSERT of `dialect` ("sqlite" or "postgresql"), so that `.on_conflict_do_nothing()` exists."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def dialect_insert(session: AsyncSession, table: Table | type[DeclarativeBase]) -> Insert:
    """An INSERT for the backend this session talks to."""
    return insert_for(session.get_bind().dialect.name, table)


async def insert_ignore(session: AsyncSession, table: Table | type[DeclarativeBase],
                        rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: a concurrent creator is not an error."""
    if rows:
        await session.execute(dialect_insert(session, table).values(rows).on_conflict_do_nothing())
