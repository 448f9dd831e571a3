"""bot.autogen on a throwaway copy of the migrations: new branches splice from 0001, old ones extend."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Column, ForeignKey, Integer, String, Table, inspect

from bot import autogen
from bot.models import metadata
from storage.engine import Database
from storage.migrate import MIGRATIONS, upgrade


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the real migrations folder: the tool writes here, the real one stays untouched."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def probe_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    """A new table in the directory feature's models module, as if its author had just added it."""
    table = Table(
        "autogen_probe", metadata,
        Column("id", Integer, primary_key=True),
        Column("community_id", ForeignKey("communities.id", ondelete="CASCADE")),
        Column("label", String(20)),
    )
    monkeypatch.setattr(importlib.import_module("cogs.directory.models"), "autogen_probe", table,
                        raising=False)
    try:
        yield table
    finally:
        metadata.remove(table)


def _version(migrations: Path, rev: str) -> str:
    (path,) = (migrations / "versions").glob(f"{rev}_*.py")
    return path.read_text()


async def test_a_new_branch_from_0001_is_spliced_and_holds_only_its_feature(migrations: Path) -> None:
    # Rewrite directory's first migration while intros (0100, 0101) already branches from 0001; config's is
    # gone too, so its tables and its columns on community_settings show up in the comparison.
    for name in ("0150_directory_saved_searches.py", "0200_config.py", "0201_feature_settings.py"):
        (migrations / "versions" / name).unlink()

    before = set(ScriptDirectory(str(migrations)).get_heads())  # intros' and other features' branches
    written = await autogen.main("directory again", "0151", "0001", "directory", feature="directory",
                                 script_location=migrations)

    text = written.read_text()
    assert "0102" in before and written.parent == migrations / "versions"  # intros' head
    assert "down_revision = '0001'" in text
    assert "branch_labels = ('directory',)" in text
    assert "op.create_table('directory_queries'" in text
    for foreign in ("packs", "audit_entries", "community_settings", "profiles"):
        assert f"'{foreign}'" not in text
    assert set(ScriptDirectory(str(migrations)).get_heads()) == before | {"0151"}
    assert not (MIGRATIONS / "versions" / written.name).exists()


async def test_an_existing_branch_is_extended_at_its_head(migrations: Path, probe_table: Table,
                                                         tmp_path: Path) -> None:
    written = await autogen.main("probe", "0151", "0001", "directory", feature="directory",
                                 script_location=migrations)

    text = written.read_text()
    assert "down_revision = '0150'" in text
    assert "branch_labels = None" in text
    assert "op.create_table('autogen_probe'" in text
    # The written revision applies on top of the others.
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'check.db'}")
    try:
        await upgrade(db.engine, script_location=migrations)
        async with db.engine.connect() as conn:
            assert "autogen_probe" in await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await db.dispose()


async def test_another_feature_never_receives_the_change(migrations: Path, probe_table: Table) -> None:
    written = await autogen.main("nothing", "0149", "0001", "intros", feature="intros",
                                 script_location=migrations)

    text = written.read_text()
    assert "down_revision = '0102'" in text  # intros' head
    assert "autogen_probe" not in text
    assert "op." not in text.split("def upgrade()")[1]


def test_feature_tables() -> None:
    assert {"communities", "members", "trades", "sectors", "jobs", "meta", "posts", "removed_posts",
            "form_submissions", "community_settings", "feature_settings",
            "slack_installations", "slack_bots", "slack_oauth_states"} == autogen.feature_tables("core")
    assert "profiles" in autogen.feature_tables("intros")
    assert autogen.feature_tables("directory") == {"directory_queries"}
    with pytest.raises(SystemExit, match="unknown feature 'nope'"):
        autogen.feature_tables("nope")
    with pytest.raises(SystemExit, match="declares no models"):
        autogen.feature_tables("help")


def test_command_line_arguments() -> None:
    args = autogen._parse(["add x", "0301", "0001", "missions", "--feature", "missions"])
    assert (args.message, args.rev_id, args.head, args.branch, args.feature) == (
        "add x", "0301", "0001", "missions", "missions")
    assert autogen._parse(["m", "0002"]).head == "0001"
