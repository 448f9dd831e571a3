"""Developer tool: writes a migration from the models.

`python -m bot.autogen "message" REV [HEAD] [BRANCH] [--feature NAME]`

- A feature's first migration starts its own branch from 0001: `… 0300 0001 missions`. Once other
  branches exist 0001 is no longer a head, so the new branch is spliced from it.
- Later ones extend the branch: `… 0301 0001 missions` (an existing BRANCH means `BRANCH@head`; HEAD
  is then ignored).
- `--feature NAME` keeps only the tables of that feature's models module (`core` = storage.models):
  autogenerate compares every feature's models, and a feature's revision must not carry another's
  tables. Columns a feature adds to a core table are filtered out with it: use `--feature core`.

The writing itself is storage.autogen's; this module hands it every feature's models (bot.models).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.models import CORE, metadata, models_modules
from storage import autogen as writer
from storage.migrate import MIGRATIONS


def _models_module(feature: str) -> str:
    modules = models_modules()
    if feature not in modules:
        known = ", ".join(sorted(m for m in modules if m != CORE))
        raise SystemExit(f"unknown feature {feature!r}; known: {CORE}, {known}")
    module = modules[feature]
    if module is None:
        raise SystemExit(f"feature {feature!r} declares no models module")
    return module


def feature_tables(feature: str) -> set[str]:
    """The names of the tables defined in a feature's models module (`core`: storage.models)."""
    return writer.module_tables(_models_module(feature), metadata)


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
    return await writer.write_revision(
        message, rev_id, head, branch, metadata=metadata,
        tables=feature_tables(feature) if feature else None, script_location=script_location,
    )


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.autogen", description=__doc__,
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
