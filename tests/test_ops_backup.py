"""`collectif db backup` / `restore` on SQLite: consistent while writing, kept N, refused while running."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.ops import backup
from bot.ops.metrics import Metrics, from_custom_id
from bot.services import Services
from storage.engine import Database
from storage.migrate import current_heads, is_up_to_date, upgrade

ROOT = Path(__file__).resolve().parents[1]


def _settings(tmp_path: Path, **env: str):
    settings, _ = load_settings(None, {"COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/c.db",
                                       **env})
    return settings


async def _migrated(tmp_path: Path, revision: str = "heads") -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    try:
        await upgrade(db.engine, revision)
    finally:
        await db.dispose()


def _cli(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "COLLECTIF_DATABASE__URL": f"sqlite+aiosqlite:///{cwd}/c.db", **extra}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def _one_line_failure(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr[-1500:]
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-1500:]
    for word in words:
        assert word in result.stderr, result.stderr


async def test_a_backup_taken_while_another_process_writes_is_whole_and_consistent(tmp_path):
    await _migrated(tmp_path)
    settings = _settings(tmp_path)
    db_file = tmp_path / "c.db"
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:  # another connection, like the running bot: one row per transaction
        conn = sqlite3.connect(db_file, timeout=10, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS load (n INTEGER PRIMARY KEY, pad TEXT)")
        n = 0
        while not stop.is_set():
            n += 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO load (n, pad) VALUES (?, ?)", (n, "x" * 500))
            conn.execute("COMMIT")
            written.append(n)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 200:
            await __import__("asyncio").sleep(0.01)
        made = [backup.backup(settings, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()

    for copy in made:
        assert backup.integrity(copy.path) == "ok"
        assert not list(tmp_path.glob(f"{copy.path.name}-*")), "a backup is one file, no -wal/-shm"
        conn = sqlite3.connect(copy.path)
        rows = [n for (n,) in conn.execute("SELECT n FROM load ORDER BY n")]
        conn.close()
        assert rows == list(range(1, len(rows) + 1)), "a snapshot: every committed row up to a point"
        assert 200 <= len(rows) <= len(written)
        assert copy.path.stat().st_mode & 0o777 == 0o600


async def test_backups_into_the_folder_keep_the_newest_ones(tmp_path):
    await _migrated(tmp_path)
    first = backup.backup(_settings(tmp_path), None).path
    made = []
    for day in range(4):  # older backups, oldest first
        path = first.with_name(f"collectif-2026010{day + 1}-000000.db")
        path.write_bytes(first.read_bytes())
        __import__("os").utime(path, (1_700_000_000 + day, 1_700_000_000 + day))
        made.append(path)
    first.unlink()
    (tmp_path / "backups" / "notes.txt").write_text("not a backup")
    last = backup.backup(_settings(tmp_path, COLLECTIF_BACKUP__KEEP="2"), None)
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert kept == sorted([made[-1].name, last.path.name, "notes.txt"])
    assert set(last.removed) == set(made[:3])


async def test_restore_refuses_while_a_bot_runs_then_restores_a_database_the_bot_starts_on(tmp_path):
    await _migrated(tmp_path)
    settings = _settings(tmp_path)
    db = Database.from_url(settings.database.url)
    async with db.transaction() as session:
        await session.execute(text("INSERT INTO communities (platform, external_id, name, locale, timezone, "
                                   "active, created_at) VALUES ('slack', 'T1', 'Before', 'fr', "
                                   "'Europe/Paris', 1, '2026-01-01 00:00:00')"))
    await db.dispose()
    saved = backup.backup(settings, tmp_path / "saved.db").path
    db = Database.from_url(settings.database.url)
    async with db.transaction() as session:
        await session.execute(text("UPDATE communities SET name = 'After'"))
    await db.dispose()

    with backup.running(settings.database.url):  # what `collectif run` holds
        refused = _cli("db", "restore", str(saved), cwd=tmp_path)
        assert refused.returncode == 1
        assert "a Collectif process is running" in refused.stderr and "stop it first" in refused.stderr
        with pytest.raises(backup.BackupError, match="running"):
            backup.restore(settings, saved)

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(saved.read_bytes()[:5000])
    bad = _cli("db", "restore", str(damaged), cwd=tmp_path)
    assert bad.returncode == 1 and "not restored" in bad.stderr

    done = _cli("db", "restore", str(saved), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the previous database is kept as" in done.stdout
    kept = next(tmp_path.glob("c.db.before-restore-*"))
    assert backup.integrity(tmp_path / "c.db") == "ok"
    assert backup.integrity(kept) == "ok"

    # The bot starts on the restored database: migrations checked, scheduler started, the old row back.
    from bot import runner

    services = Services.build(settings, load_settings(None, {})[1])
    started = await runner.start(services, [])
    try:
        async with services.db.transaction(write=False) as session:
            assert (await session.execute(text("SELECT name FROM communities"))).scalar_one() == "Before"
        assert services.scheduler.running
    finally:
        await runner.shutdown(services, started)


async def test_a_pending_migration_on_sqlite_is_preceded_by_a_backup(tmp_path):
    await _migrated(tmp_path, "0001")  # an older Collectif's database
    settings = _settings(tmp_path)
    db = Database.from_url(settings.database.url)
    try:
        assert not await is_up_to_date(db.engine)
        made = await backup.before_upgrade(settings, db.engine)
        assert made is not None and made.path.name.endswith("-before-upgrade.db")
        assert made.path.parent == tmp_path / "backups"
        copy = Database.from_url(f"sqlite+aiosqlite:///{made.path}")
        try:
            assert await current_heads(copy.engine) == ("0001",)  # the state before the migration
        finally:
            await copy.dispose()
        await upgrade(db.engine)
        assert await backup.before_upgrade(settings, db.engine) is None  # nothing pending: no backup
    finally:
        await db.dispose()
    upgraded = _cli("db", "upgrade", cwd=tmp_path)  # up to date: no second backup
    assert upgraded.returncode == 0, upgraded.stderr
    assert len(list((tmp_path / "backups").iterdir())) == 1


def test_metrics_labels_stay_bounded_and_render_as_prometheus_text():
    metrics = Metrics()
    features = ["missions", "help"]
    assert from_custom_id("missions:interest:123", features) == ("missions", "interest")
    assert from_custom_id("missions:123:x", features) == ("missions", "component")
    assert from_custom_id("evil\n:x", features) == ("other", "other")
    metrics.interaction("discord", "missions", "interest", "ok", 0.004)
    metrics.interaction("discord", "missions", "interest", "ok", 0.2)
    metrics.api_response("discord", 429)
    metrics.job("afterworks.reminder", "done", 0.02, 1.5)
    text_out = metrics.render()
    assert ('collectif_interactions_total{command="interest",feature="missions",outcome="ok",'
            'platform="discord"} 2') in text_out
    bucket = 'collectif_interaction_seconds_bucket{feature="missions",platform="discord",le='
    assert bucket + '"0.005"} 1' in text_out
    assert bucket + '"+Inf"} 2' in text_out
    assert 'collectif_platform_rate_limited_total{platform="discord"} 1' in text_out
    assert 'collectif_jobs_run_total{kind="afterworks.reminder",outcome="done"} 1' in text_out
    for n in range(3000):  # a bug feeding unbounded values cannot grow the memory without end
        metrics.interactions.inc(platform="x", feature=f"f{n}", command="c", outcome="ok")
    assert len(metrics.interactions.values) <= 2001


async def test_postgresql_backup_and_restore_through_pg_dump(pg_migrated_url, tmp_path, monkeypatch):
    from tests.postgres import find_bindir

    bindir = find_bindir()
    assert bindir is not None  # pg_migrated_url ran: the server binaries are there
    monkeypatch.setenv("PATH", f"{bindir}:{__import__('os').environ.get('PATH', '')}")
    settings, _ = load_settings(None, {"COLLECTIF_DATABASE__URL": pg_migrated_url})
    db = Database.from_url(pg_migrated_url)
    async with db.transaction() as session:
        await session.execute(text("INSERT INTO communities (platform, external_id, name, locale, timezone, "
                                   "active, created_at) VALUES ('slack', 'T1', 'Before', 'fr', "
                                   "'Europe/Paris', true, now())"))
    await db.dispose()
    made = await __import__("asyncio").to_thread(backup.backup, settings, tmp_path)
    assert made.path.parent == tmp_path and made.path.name.endswith(".dump") and made.size > 0
    assert "****" not in made.path.name

    db = Database.from_url(pg_migrated_url)
    try:
        async with db.transaction() as session:
            await session.execute(text("UPDATE communities SET name = 'After'"))
        # A connected bot (its pool keeps a connection open): restore refuses.
        async with db.engine.connect():
            with pytest.raises(backup.BackupError, match="other session"):
                await __import__("asyncio").to_thread(backup.restore, settings, made.path)
    finally:
        await db.dispose()
    await __import__("asyncio").to_thread(backup.restore, settings, made.path)
    db = Database.from_url(pg_migrated_url)
    try:
        async with db.transaction(write=False) as session:
            assert (await session.execute(text("SELECT name FROM communities"))).scalar_one() == "Before"
        assert await is_up_to_date(db.engine)
    finally:
        await db.dispose()


def test_postgresql_without_pg_dump_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    settings, _ = load_settings(None, {"COLLECTIF_DATABASE__URL": "postgresql+asyncpg://u:secret@h/db"})
    with pytest.raises(backup.BackupError, match=r"pg_dump is not installed.*postgresql-client"):
        backup.backup(settings, tmp_path)


# -- the paths an operator types (README "Backups") -------------------------------------------------


async def test_a_folder_written_with_a_trailing_slash_is_created_and_gets_the_backup(tmp_path):
    # argparse's type=Path used to drop the slash: `db backup usb/` wrote a FILE named usb.
    await _migrated(tmp_path)
    done = _cli("db", "backup", "usb/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "usb").is_dir()
    [made] = (tmp_path / "usb").iterdir()
    assert backup.AUTOMATIC_NAME.fullmatch(made.name.removesuffix(".db")) and backup.integrity(made) == "ok"


async def test_a_backup_never_replaces_a_file_that_is_not_a_backup(tmp_path):
    await _migrated(tmp_path)
    notes = tmp_path / "notes"
    notes.write_text("my notes, not a database")
    as_folder = _cli("db", "backup", "notes/", cwd=tmp_path)
    _one_line_failure(as_folder, 1, str(notes), "not a folder")
    as_file = _cli("db", "backup", "notes", cwd=tmp_path)
    _one_line_failure(as_file, 1, str(notes), "not a SQLite database", "not overwritten")
    itself = _cli("db", "backup", "c.db", cwd=tmp_path)
    _one_line_failure(itself, 1, "the database itself")
    assert notes.read_text() == "my notes, not a database"
    assert backup.integrity(tmp_path / "c.db") == "ok"
    # An earlier backup of that name is replaced, as before.
    assert _cli("db", "backup", "today.db", cwd=tmp_path).returncode == 0
    again = _cli("db", "backup", "today.db", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("spelling", ["dotdot", "symlinked-folder", "its-wal"])
async def test_a_backup_never_replaces_the_database_however_its_path_is_spelled(tmp_path, monkeypatch,
                                                                                 spelling):
    """`db backup ../data/c.db` (or through a symlinked folder) was taken for another file: the copy
    was renamed over the live database, and the running bot's every later write failed."""
    data = tmp_path / "data"
    data.mkdir()
    await _migrated(data)
    db_file = data / "c.db"
    named = {"dotdot": f"../{data.name}/c.db", "symlinked-folder": str(tmp_path / "link" / "c.db"),
             "its-wal": "c.db-wal"}[spelling]
    (tmp_path / "link").symlink_to(data, target_is_directory=True)
    monkeypatch.chdir(data)
    inode = db_file.stat().st_ino
    live = sqlite3.connect(db_file)  # the running bot's connection, in WAL mode
    try:
        live.execute("PRAGMA journal_mode=WAL")
        live.execute("CREATE TABLE notes (body TEXT)")
        live.commit()
        with pytest.raises(backup.BackupError, match="is the database itself"):
            backup.backup(_settings(data), named)
        live.execute("INSERT INTO notes VALUES ('written by the bot after the backup')")  # still writable
        live.commit()
    finally:
        live.close()
    assert db_file.stat().st_ino == inode
    assert backup.integrity(db_file) == "ok"


def test_pg_dump_gets_what_asyncpg_reads_from_the_url_query():
    """asyncpg reads password, host, port and user from the query too; pg_dump got none of them (no
    PGPASSWORD: it failed to authenticate, or prompted on a terminal) and no TLS for `ssl=require`."""
    args, env = backup._pg_env("postgresql+asyncpg://collectif@db.example/collectif?password=Tr0ub4dor")
    assert env["PGPASSWORD"] == "Tr0ub4dor"
    assert not any("Tr0ub4dor" in arg for arg in args)  # never on the command line (ps shows it)
    args, env = backup._pg_env("postgresql+asyncpg://u:p@ignored/collectif?host=db.internal&port=6432"
                               "&user=bot&ssl=verify-full")
    assert args == ["--dbname", "collectif", "--host", "db.internal", "--port", "6432", "--username", "bot"]
    assert env["PGPASSWORD"] == "p" and env["PGSSLMODE"] == "verify-full"
    args, _ = backup._pg_env("postgresql+asyncpg://u:p@/collectif?host=a:5432&host=b:5433")
    assert args[2:6] == ["--host", "a,b", "--port", "5432,5433"]
    # As the settings leave a provider's URL (bot/config.py gives sslmode to asyncpg as ssl).
    settings, _ = load_settings(None, {"COLLECTIF_DATABASE__URL":
                                       "postgresql+asyncpg://u:Tr0ub#4dor@db/c?sslmode=require"})
    _, env = backup._pg_env(settings.database.url)
    assert env["PGPASSWORD"] == "Tr0ub#4dor" and env["PGSSLMODE"] == "require"


async def test_a_backup_folder_that_cannot_be_created_is_one_line(tmp_path):
    # A file in the way; for a user other than root, a read-only mount or another user's folder alike.
    await _migrated(tmp_path)
    (tmp_path / "afile").write_text("x")
    done = _cli("db", "backup", "afile/sub/today.db", cwd=tmp_path)
    _one_line_failure(done, 1, "cannot create the backup folder", str(tmp_path / "afile" / "sub"))
    with pytest.raises(backup.BackupError, match="cannot create the backup folder"):
        backup.backup(_settings(tmp_path, COLLECTIF_BACKUP__DIR=str(tmp_path / "afile" / "bk")), None)


async def test_an_upgrade_whose_automatic_backup_cannot_be_made_stops_with_exit_6(tmp_path):
    # Exit 1 would be restarted in a loop by systemd (Restart=on-failure); 6 is not (README "Exit codes").
    await _migrated(tmp_path, "0001")  # an older Collectif's database: a migration is pending
    (tmp_path / "afile").write_text("x")
    done = _cli("db", "upgrade", cwd=tmp_path, COLLECTIF_BACKUP__DIR=str(tmp_path / "afile" / "bk"))
    _one_line_failure(done, 6, "no migration without a backup first", "cannot create the backup folder")
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    try:
        assert await current_heads(db.engine) == ("0001",)  # not migrated
    finally:
        await db.dispose()


@pytest.mark.parametrize("folder", ["c#1", "bot%20data", "why?"])
async def test_a_database_in_a_folder_with_uri_characters_backs_up_and_restores(tmp_path, folder):
    # SQLite files are opened as read-only URIs: '#' cut the path, '%20' became a space, '?' a query.
    home = tmp_path / folder
    home.mkdir()
    relative = {"COLLECTIF_DATABASE__URL": "sqlite+aiosqlite:///c.db"}  # the folder's name not in a URL
    assert _cli("db", "upgrade", cwd=home, **relative).returncode == 0
    done = _cli("db", "backup", cwd=home, **relative)
    assert done.returncode == 0, done.stderr
    [made] = (home / "backups").iterdir()
    assert backup.integrity(made) == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder], "a stray database beside the folder"
    restored = _cli("db", "restore", str(made), cwd=home, **relative)
    assert restored.returncode == 0, restored.stderr


async def test_the_retention_never_deletes_a_file_you_named(tmp_path):
    await _migrated(tmp_path)
    named = tmp_path / "backups" / "collectif-before-my-experiment.db"
    backup.backup(_settings(tmp_path), named)
    __import__("os").utime(named, (1, 1))  # older than the ones to come
    keep_one = _settings(tmp_path, COLLECTIF_BACKUP__KEEP="1")
    first = backup.backup(keep_one, None)
    first.path.rename(first.path.with_name("collectif-20260101-000000.db"))  # an older automatic one
    second = backup.backup(keep_one, None)
    assert second.removed == (first.path.with_name("collectif-20260101-000000.db"),)
    assert named.exists(), "the retention deleted the backup file named on the command line"


# -- restore: a newer version's backup, a PostgreSQL server that does not answer --------------------


async def test_restore_refuses_a_backup_a_newer_collectif_migrated(tmp_path):
    await _migrated(tmp_path)
    newer = backup.backup(_settings(tmp_path), tmp_path / "newer.db").path
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO alembic_version (version_num) VALUES ('0999')")  # a newer version's branch
    conn.commit()
    conn.close()
    before = (tmp_path / "c.db").read_bytes()
    done = _cli("db", "restore", str(newer), cwd=tmp_path)
    _one_line_failure(done, 1, "made by a newer Collectif version", "0999", "not restored")
    assert (tmp_path / "c.db").read_bytes() == before
    assert not list(tmp_path.glob("c.db.before-restore-*"))


def test_restore_on_a_postgresql_server_that_does_not_answer_is_one_line(tmp_path):
    dump = tmp_path / "collectif-2026-12-01.dump"
    dump.write_bytes(b"PGDMP" + b"\0" * 100)
    url = "postgresql+asyncpg://collectif:pw@127.0.0.1:1/collectif"
    done = _cli("db", "restore", str(dump), cwd=tmp_path, COLLECTIF_DATABASE__URL=url)
    # The words of bot/startup.py's database_error, the password masked.
    _one_line_failure(done, 1, "cannot connect to the database at", "check database.url",
                      "the server is running")
    assert ":pw@" not in done.stderr
