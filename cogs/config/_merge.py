"""Merging one row into another for every table that points at it (trades, sectors), whatever the feature.

The tables are found by walking the metadata, so a feature added later (missions needing trades, a
pairing round keyed by sector…) is merged without this module knowing it. Ids a feature keeps without
a foreign key (a JSON list, a plain key, a stored search's entry) are found through its declaration
(`bot.features.HeldIds`): merged, counted as uses and forgotten the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    JSON,
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

from bot.features import HeldIds, ShowsRows, load_features
from bot.text import is_number


def _metadata():  # imported late: bot.models loads every feature, this one included
    from bot.models import metadata

    return metadata


def references(target: Table) -> Iterator[Column]:
    """Every column, in every table, holding a foreign key to `target`'s primary key."""
    for table in _metadata().sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                yield fk.parent


def held(target: Table) -> list[tuple[HeldIds, Column]]:
    """Every column a feature declares as holding ids of `target` without a foreign key."""
    tables = _metadata().tables
    return [
        (declared, tables[declared.table].c[declared.column])
        for feature in load_features()
        for declared in feature.held_ids
        if declared.target == target.name
    ]


def _column(name: str) -> Column:
    """A column of the metadata named "table.column"."""
    table, column = name.split(".")
    return _metadata().tables[table].c[column]


async def showing(session: AsyncSession, target: Table, row_id: int) -> list[tuple[ShowsRows, int]]:
    """(declaration, object id) of every feature's object whose cards show `row_id`'s name (ShowsRows)."""
    found: list[tuple[ShowsRows, int]] = []
    for feature in load_features():
        for shows in feature.shows:
            if shows.target == target.name:
                column, objects = _column(shows.column), _column(shows.object_column)
                ids = await session.scalars(select(objects).where(column == row_id).distinct())
                found += [(shows, object_id) for object_id in sorted(ids)]
    return found


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


def _as_id(item: Any) -> int | None:
    """An id as JSON holds it: a number, or its digits in a text (as a form sent it)."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return item
    if isinstance(item, str) and is_number(item):
        return int(item)
    return None


def _ids(value: Any, entry: str) -> set[int]:
    """The ids a JSON value holds: the value or its `entry`, one id or a list of them."""
    if entry:
        value = value.get(entry) if isinstance(value, dict) else None
    items = value if isinstance(value, list) else [value]
    return {found for found in map(_as_id, items) if found is not None}


def _replaced(value: Any, entry: str, source_id: int, into_id: int) -> Any:
    """`value` naming `into_id` where it named `source_id`.

    A list keeps each id once: a candidacy covering both trades covers the merged one once.
    """
    if entry:
        return {**value, entry: _replaced(value[entry], "", source_id, into_id)}
    if not isinstance(value, list):
        return into_id
    result: list[Any] = []
    seen: set[int] = set()
    for item in value:
        found = _as_id(item)
        if found == source_id:
            item, found = into_id, into_id
        if found is None or found not in seen:
            result.append(item)
        if found is not None:
            seen.add(found)
    return result


async def _community(session: AsyncSession, target: Table, row_id: int) -> int | None:
    return await session.scalar(select(target.c.community_id).where(target.c.id == row_id))


async def _holding(
    session: AsyncSession, declared: HeldIds, column: Column, community_id: int | None, row_id: int
) -> list[tuple[int, Any]]:
    """(id, value) of the rows of the community whose column holds `row_id`.

    Read, then looked into here: the same on SQLite and PostgreSQL, whatever the JSON's shape.
    """
    table = column.table
    rows = await session.execute(select(table.c.id, column).where(table.c.community_id == community_id))
    return [(row, value) for row, value in rows if row_id in _ids(value, declared.entry)]


async def _count(session: AsyncSession, column: Column, row_id: int) -> int:
    count = await session.scalar(select(func.count()).select_from(column.table).where(column == row_id))
    return int(count or 0)


async def usage(session: AsyncSession, target: Table, row_id: int, *, ignore: tuple[str, ...] = ()) -> int:
    """How many rows of other tables point at `row_id` (tables named in `ignore` not counted).

    Declared ids count like foreign keys (a rota task limited to a trade uses it), stored searches not.
    """
    total = 0
    for column in references(target):
        if column.table.name not in ignore:
            total += await _count(session, column, row_id)
    community_id = await _community(session, target, row_id)
    for declared, column in held(target):
        if declared.forget or declared.table in ignore:
            continue
        if isinstance(column.type, JSON):
            total += len(await _holding(session, declared, column, community_id, row_id))
        else:
            total += await _count(session, column, row_id)
    return total


async def _move(
    session: AsyncSession, column: Column, source_id: int, into_id: int, adds: tuple[str, ...] = ()
) -> int:
    """Point `column` at `into_id` where it points at `source_id`; returns the rows moved.

    A row that would then duplicate one already pointing at `into_id` (a unique constraint) is
    deleted instead of moved: e.g. a member who had both trades keeps one; its `adds` columns are
    first added to that row (a month's kudos under both trades).
    """
    table = column.table
    for unique in _unique_sets(table, column):
        twin = table.alias()
        same = [twin.c[c.name] == c for c in unique if c is not column]
        if adds:
            from_source = select(twin.c[column.name]).where(twin.c[column.name] == source_id, *same)
            await session.execute(
                update(table)
                .where(column == into_id, from_source.exists())
                .values({
                    name: table.c[name]
                    + select(twin.c[name]).where(twin.c[column.name] == source_id, *same).scalar_subquery()
                    for name in adds
                })
                .execution_options(synchronize_session=False)
            )
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
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _rewrite(
    session: AsyncSession, declared: HeldIds, column: Column, community_id: int | None, source_id: int,
    into_id: int,
) -> int:
    """Replace `source_id` by `into_id` in the JSON column's values; returns the rows changed."""
    table = column.table
    rows = await _holding(session, declared, column, community_id, source_id)
    for row, value in rows:
        await session.execute(
            update(table)
            .where(table.c.id == row)
            .values({column.name: _replaced(value, declared.entry, source_id, into_id)})
            .execution_options(synchronize_session=False)
        )
    return len(rows)


async def merge(session: AsyncSession, target: Table, source_id: int, into_id: int) -> int:
    """Point every reference to `source_id` at `into_id` instead, declared ids too; returns the rows moved.

    Stored searches naming it are left to `forget`, which every removal calls.
    """
    moved = 0
    for column in references(target):
        moved += await _move(session, column, source_id, into_id)
    community_id = await _community(session, target, source_id)
    for declared, column in held(target):
        if declared.forget:
            continue
        if isinstance(column.type, JSON):
            moved += await _rewrite(session, declared, column, community_id, source_id, into_id)
        else:
            moved += await _move(session, column, source_id, into_id, declared.adds)
    return moved


async def forget(session: AsyncSession, target: Table, row_id: int) -> None:
    """Before `row_id` is deleted: forget the stored searches naming it.

    Its foreign keys' cascades do not reach them; their paging buttons then say to search again.
    """
    community_id = await _community(session, target, row_id)
    for declared, column in held(target):
        if declared.forget:
            rows = await _holding(session, declared, column, community_id, row_id)
            if rows:
                table = column.table
                await session.execute(delete(table).where(table.c.id.in_([row for row, _ in rows])))
