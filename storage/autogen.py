"""Writes a migration by comparing the models handed in with the migrated schema.

The caller assembles the models (bot.models: every registered feature) and may keep only some tables,
so that a feature's revision carries no other feature's tables; the command line is `python -m
bot.autogen`, which explains the branches.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table

from storage.engine import create_engine
from storage.migrate import MIGRATIONS, alembic_config, upgrade
from storage.models import Base

IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def module_tables(module_name: str, metadata: MetaData) -> set[str]:
    """The names of the tables of `metadata` defined in one models module (mapped classes or Tables)."""
    module = importlib.import_module(module_name)
    names = {
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ == module_name and isinstance(mapper.local_table, Table)
    }
    names |= {value.name for value in vars(module).values() if isinstance(value, Table)}
    return names & set(metadata.tables)


def include_tables(names: set[str]) -> IncludeObject:
    """An alembic `include_object` hook keeping only objects of these tables (both sides of the diff)."""

    def include(obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        if type_ == "table":
            return name in names
        table = getattr(obj, "table", None)
        return table is None or table.name in names

    return include


def revision_target(
    script_location: Path, head: str, branch: str | None
) -> tuple[str, str | None, bool]:
    """(head, branch_label, splice) for alembic's `command.revision`."""
    scripts = ScriptDirectory(str(script_location))
    if branch is None:
        return head, None, False
    labels = {label for rev in scripts.walk_revisions() for label in rev.branch_labels}
    if branch in labels:
        return f"{branch}@head", None, False
    splice = head not in scripts.get_heads()
    return head, branch, splice


async def write_revision(
    message: str,
    rev_id: str,
    head: str = "0001",
    branch: str | None = None,
    *,
    metadata: MetaData,
    tables: set[str] | None = None,
    script_location: Path = MIGRATIONS,
) -> Path:
    """Autogenerate revision `rev_id` from `metadata` (only `tables`, if given); returns the file."""
    head, branch_label, splice = revision_target(script_location, head, branch)
    include = include_tables(tables) if tables is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'autogen.db'}")
        try:
            await upgrade(engine, script_location=script_location)

            def write(connection: Any) -> Any:
                cfg = alembic_config(connection, script_location)
                cfg.attributes["target_metadata"] = metadata
                cfg.attributes["include_object"] = include
                return command.revision(
                    cfg, message=message, autogenerate=True, rev_id=rev_id, head=head,
                    splice=splice, branch_label=branch_label,
                )

            async with engine.begin() as conn:
                script = await conn.run_sync(write)
        finally:
            await engine.dispose()
    return Path(script.path)
