"""Merging one row into another for every table that points at it (trades, sectors), whatever the feature.

The tables are found by walking the metadata, so a feature added later (missions needing trades, a
pairing round keyed by sector…) is merged without this module knowing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import (
    Column,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession


def _metadata():  # imported late: bot.models loads every feature, this one included
    from bot.models import metadata

    return metadata


def references(target: Table) -> Iterator[Column]:
    """Every column, in every table, holding a foreign key to `target`'s primary key."""
    for table in _metadata().sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                yield fk.parent


def _unique_sets(table: Table, column: Column) -> list[list[Column]]:
    """The unique column sets of `table` that include `column` (constraints, unique indexes, primary key)."""
    sets: list[list[Column]] = []
    for constraint in table.constraints:
        if (
            isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
            and column.name in constraint.columns
        ):
            sets.append(list(constraint.columns))
    for index in table.indexes:
        if index.unique and column.name in index.columns:
            sets.append(list(index.columns))
    return sets


async def usage(session: AsyncSession, target: Table, row_id: int, *, ignore: tuple[str, ...] = ()) -> int:
    """How many rows of other tables point at `row_id` (tables named in `ignore` not counted)."""
    total = 0
    for column in references(target):
        if column.table.name in ignore:
            continue
        count = await session.scalar(select(func.count()).select_from(column.table).where(column == row_id))
        total += int(count or 0)
    return total


async def merge(session: AsyncSession, target: Table, source_id: int, into_id: int) -> int:
    """Point every reference to `source_id` at `into_id` instead; returns the rows moved.

    A row that would then duplicate one already pointing at `into_id` (a unique constraint) is
    deleted instead of moved: e.g. a member who had both trades keeps one.
    """
    moved = 0
    for column in references(target):
        table = column.table
        for unique in _unique_sets(table, column):
            twin = table.alias()
            same = [twin.c[c.name] == c for c in unique if c is not column]
            await session.execute(
                delete(table)
                .where(column == source_id, exists().where(and_(twin.c[column.name] == into_id, *same)))
                .execution_options(synchronize_session=False)
            )
        result = await session.execute(
            update(table)
            .where(column == source_id)
            .values({column.name: into_id})
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount  # type: ignore[attr-defined]
    return moved
