"""Alembic is imported only when a migration is pending; the file heads match Alembic's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from storage.engine import Database
from storage.migrate import alembic_config, current_heads, script_heads, upgrade

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import asyncio, sys
from storage.engine import Database
from storage.migrate import upgrade

async def main():
    db = Database.from_url(sys.argv[1])
    await upgrade(db.engine)
    await db.dispose()

asyncio.run(main())
print("alembic" in sys.modules)
"""


def _alembic_imported(url: str) -> bool:
    out = subprocess.run([sys.executable, "-c", CHILD, url], capture_output=True, text=True, cwd=ROOT,
                         check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1] == "True"


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert script_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_heads_follow_the_files_as_they_change(tmp_path: Path) -> None:
    """Parsed once per version of a file; identifiers after a function are still found."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n\ndef upgrade():\n    pass\n')
    (versions / "b.py").write_text('"""B."""\nrevision: str = "b"\n\ndef upgrade():\n    pass\n\n'
                                   'down_revision = ("a",)\n')
    assert script_heads(tmp_path) == {"b"}
    assert script_heads(tmp_path) == {"b"}
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "b"  # a new migration\n')
    assert script_heads(tmp_path) == {"c"}
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"  # edited: a second branch\n')
    assert script_heads(tmp_path) == {"b", "c"}


def test_alembic_is_imported_only_when_a_migration_is_pending(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'collectif.db'}"
    assert _alembic_imported(url) is True  # new database: everything pending
    assert _alembic_imported(url) is False  # up to date: one SELECT, no Alembic


async def test_a_database_behind_the_heads_is_upgraded(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'collectif.db'}")
    try:
        await upgrade(db.engine, "0001")  # the foundation only: every feature branch pending
        assert await current_heads(db.engine) == ("0001",)
        await upgrade(db.engine)
        assert set(await current_heads(db.engine)) == script_heads()
    finally:
        await db.dispose()
