"""Developer tool: writes a migration from the models.

`python -m storage.autogen "message" REV [HEAD] [BRANCH] [--feature NAME]`

- A feature's first migration starts its own branch from 0001: `… 0300 0001 missions`. Once other
  branches exist 0001 is no longer a head, so the new branch is spliced from it.
- Later ones extend the branch: `… 0301 0001 missions` (an existing BRANCH means `BRANCH@head`; HEAD
  is then ignored).
- `--feature NAME` keeps only the tables of that feature's models module (`core` = storage.models):
  autogenerate compares every feature's models, and a feature's revision must not carry another's
  tables. Columns a feature adds to a core table are filtered out with it: use `--feature core`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Table

from storage.engine import create_engine
from storage.migrate import MIGRATIONS, alembic_config, upgrade

CORE = "core"
IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def _models_module(feature: str) -> str:
    if feature == CORE:
        return "storage.models"
    from bot.features import load_features

    modules = {f.name: f.models for f in load_features()}
    if feature not in modules:
        raise SystemExit(f"unknown feature {feature!r}; known: {CORE}, {', '.join(sorted(modules))}")
    module = modules[feature]
    if module is None:
        raise SystemExit(f"feature {feature!r} declares no models module")
    return module


def feature_tables(feature: str) -> set[str]:
    """The names of the tables defined in a feature's models module (`core`: storage.models)."""
    from storage.all_models import metadata  # every feature's models, so the registry is complete
    from storage.models import Base

    module_name = _models_module(feature)
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


async def main(
    message: str,
    rev_id: str,
    head: str = "0001",
    branch: str | None = None,
    *,
    feature: str | None = None,
    script_location: Path = MIGRATIONS,
) -> Path:
    """Autogenerate revision `rev_id` into `script_location`; returns the written file."""
    head, branch_label, splice = revision_target(script_location, head, branch)
    include = include_tables(feature_tables(feature)) if feature else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'autogen.db'}")
        try:
            await upgrade(engine, script_location=script_location)

            def write(connection: Any) -> Any:
                cfg = alembic_config(connection, script_location)
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


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m storage.autogen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message")
    parser.add_argument("rev_id", metavar="REV")
    parser.add_argument("head", metavar="HEAD", nargs="?", default="0001")
    parser.add_argument("branch", metavar="BRANCH", nargs="?")
    parser.add_argument("--feature", help=f"only this feature's tables ({CORE}: storage.models)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse(sys.argv[1:])
    path = asyncio.run(main(args.message, args.rev_id, args.head, args.branch, feature=args.feature))
    print(f"wrote {path}; read it before committing")
