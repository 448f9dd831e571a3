"""`collectif db backup` / `restore`, the automatic backup before a migration, and the run lock.

SQLite: the backup goes through SQLite's online backup API (a consistent snapshot while the bot
writes: WAL readers do not block writers), into a temporary file checked with `PRAGMA
integrity_check` and then renamed, so a backup file is always whole. `restore` refuses while a
`collectif run` holds the database (each run holds a shared `flock` on `<database>.lock`; restore
needs it exclusively), keeps the current file as `<database>.before-restore-<time>`, then copies
the backup in through the same API and checks the result.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists`, when the client tools
are installed (the password goes through PGPASSWORD, never the command line); `restore` refuses
while another session is connected to the database (a running bot keeps its pool's connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import startup
from bot.config import Settings, mask_url

log = logging.getLogger(__name__)
PREFIX = "collectif-"
SQLITE_SUFFIX, PG_SUFFIX = ".db", ".dump"
# The names `target()` gives (collectif-YYYYMMDD-HHMMSS, then an optional label): only these are pruned.
AUTOMATIC_NAME = re.compile(rf"{PREFIX}\d{{8}}-\d{{6}}(-[a-z-]+)?")
# The first bytes of what a backup file may replace: a SQLite database, a pg_dump custom archive.
MAGIC = {SQLITE_SUFFIX: b"SQLite format 3\x00", PG_SUFFIX: b"PGDMP"}


class BackupError(Exception):
    """What stopped a backup or a restore, in one line saying what to do."""


@dataclass(frozen=True)
class Made:
    path: Path
    size: int
    removed: tuple[Path, ...] = ()  # older backups deleted by the retention


def sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names (None for PostgreSQL, in-memory or URI databases)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).absolute()


def backup_dir(settings: Settings) -> Path:
    """backup.dir, else a `backups` folder beside the SQLite file (or the working directory)."""
    if settings.backup.dir:
        return Path(settings.backup.dir).absolute()
    db_file = sqlite_file(settings.database.url)
    return (db_file.parent if db_file else Path.cwd()) / "backups"


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def target(settings: Settings, path: str | Path | None, *, label: str = "") -> tuple[Path, bool]:
    """Where a backup goes, and whether it goes into a managed folder (retention applies there).

    No path: backup.dir. A folder, or a path written with a trailing slash (a folder to create): a
    timestamped file inside it. Anything else: that file, which may only replace an earlier backup.
    The path is taken as typed (a str): `Path()` would drop the trailing slash.
    """
    suffix = SQLITE_SUFFIX if settings.database.url.startswith("sqlite") else PG_SUFFIX
    name = f"{PREFIX}{stamp()}{label}{suffix}"
    if path is None:
        return backup_dir(settings) / name, True
    folder = isinstance(path, str) and path.endswith(("/", os.sep))
    path = Path(path).absolute()
    if folder or path.is_dir():
        if path.exists() and not path.is_dir():
            raise BackupError(f"{path} is a file, not a folder: not backed up")
        return path / name, True
    if _is_the_database(path, sqlite_file(settings.database.url)):
        raise BackupError(f"{path} is the database itself: give another file or a folder")
    if path.is_file() and path.stat().st_size and not _starts_with(path, MAGIC[suffix]):
        kind = "a SQLite database" if suffix == SQLITE_SUFFIX else "a pg_dump archive"
        raise BackupError(f"{path} exists and is not {kind}: not overwritten, give another name")
    return path, False


def _is_the_database(path: Path, db_file: Path | None) -> bool:
    """Whether `path` is the SQLite file or its journal, however spelled (`..`, a symlinked folder).

    Renaming a backup over the live file would leave the running bot writing to the old, unlinked one
    (every later write then fails); over its -wal or -shm, it would damage the database.
    """
    if db_file is None:
        return False
    resolved = path.resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        journal = db_file.with_name(db_file.name + suffix)
        if resolved == journal.resolve():
            return True
        with contextlib.suppress(OSError):  # a hard link, a bind mount: the same file by another path
            if os.path.samefile(path, journal):
                return True
    return False


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return False


def prune(folder: Path, keep: int, suffix: str) -> tuple[Path, ...]:
    """Delete all but the `keep` newest automatic backups of the folder; returns those deleted.

    Only the names `target()` gives count (`collectif-YYYYMMDD-HHMMSS[-label]`): a file named on the
    command line (`collectif-before-my-experiment.db`) is never deleted.
    """
    found = sorted((p for p in folder.glob(f"{PREFIX}*{suffix}")
                    if AUTOMATIC_NAME.fullmatch(p.name.removesuffix(suffix))),
                   key=lambda p: (p.stat().st_mtime, p.name))
    old = tuple(found[:-keep]) if len(found) > keep else ()
    for path in old:
        path.unlink(missing_ok=True)
    return old


def _read_only_uri(path: Path) -> str:
    # as_uri() percent-encodes the path: a raw '#', '?' or '%' would cut or change it in a URI.
    return f"{path.absolute().as_uri()}?mode=ro"


def _make_folder(folder: Path, *, what: str = "backup folder", fix: str = "backup.dir") -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the {what} {folder} ({exc.strerror or exc}): give a writable "
                          f"folder ({fix})") from None


def integrity(path: Path) -> str:
    """'ok', or what SQLite's integrity check found, on a file opened read-only."""
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        return f"not a readable SQLite database ({exc})"
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"not a readable SQLite database ({exc})"
    finally:
        conn.close()
    result = "; ".join(str(r[0]) for r in rows[:5])
    if result == "ok" and "alembic_version" not in tables:
        return "not a Collectif database (no alembic_version table)"
    return result


def _copy_sqlite(source: Path, dest: Path, *, single_file: bool = False) -> None:
    src = sqlite3.connect(_read_only_uri(source), uri=True, timeout=30)
    try:
        dst = sqlite3.connect(dest, timeout=30)
        try:
            src.backup(dst)
            if single_file:  # a backup is one self-contained file, not a WAL database with -wal/-shm
                dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _remove_with_journal(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def backup_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database, written whole or not at all."""
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    _make_folder(dest.parent)
    partial = dest.with_name(dest.name + ".partial")
    _remove_with_journal(partial)
    try:
        _copy_sqlite(source, partial, single_file=True)
        check = integrity(partial)
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check ({check}); {source} may be damaged")
        os.chmod(partial, 0o600)  # members' data
        partial.replace(dest)
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BackupError(f"cannot back up {source} to {dest} ({reason})") from None
    finally:
        _remove_with_journal(partial)


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    """The libpq arguments (password in the environment) for a postgresql+asyncpg URL.

    asyncpg also reads user, password, host, port and database from the URL's query (SQLAlchemy passes
    them on): so does this, the query winning as it does for asyncpg. Its `ssl` (libpq's sslmode
    values, bot/config.py) becomes PGSSLMODE.
    """
    parsed = make_url(url)

    def query(name: str) -> str | None:
        value = parsed.query.get(name)
        return (value[-1] if value else None) if isinstance(value, tuple) else value or None

    host, port = _pg_hosts(parsed.query.get("host"), query("port"))
    host = host or parsed.host
    port = port or (str(parsed.port) if parsed.port else None)
    user = query("user") or parsed.username
    password = query("password") or parsed.password
    args = ["--dbname", query("database") or parsed.database or "postgres"]
    if host:
        args += ["--host", host]
    if port:
        args += ["--port", port]
    if user:
        args += ["--username", user]
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    sslmode = query("ssl") or query("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return args, env


def _pg_hosts(hosts: str | tuple[str, ...] | None, port: str | None) -> tuple[str | None, str | None]:
    """The --host and --port of libpq from the query's host(s).

    `host=h1,h2&port=p1,p2` (libpq's own form) or `host=h1:p1&host=h2:p2` (SQLAlchemy's other form).
    """
    if not hosts:
        return None, port
    if isinstance(hosts, str):
        if port is None and hosts.count(":") == 1:
            name, _, number = hosts.partition(":")
            return name, number or None
        return hosts, port
    pairs = [item.partition(":") for item in hosts]
    numbers = [number for _, _, number in pairs]
    return ",".join(name for name, _, _ in pairs), ",".join(numbers) if all(numbers) else port


def _one_line(output: str) -> str:
    return " ".join(output.split())[:500]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client tools (Debian: postgresql-client), or "
            f"run it where the database runs (compose: `docker compose exec db {name} -U collectif …`)")
    return found


def backup(settings: Settings, path: str | Path | None, *, label: str = "") -> Made:
    url = settings.database.url
    dest, managed = target(settings, path, label=label)
    db_file = sqlite_file(url)
    if url.startswith("sqlite"):
        if db_file is None:
            raise BackupError("an in-memory SQLite database cannot be backed up")
        backup_sqlite(db_file, dest)
    else:
        args, env = _pg_env(url)
        _make_folder(dest.parent)
        partial = dest.with_name(dest.name + ".partial")
        done = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args],
            env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed for {mask_url(url)}: {_one_line(done.stderr)}")
        try:
            os.chmod(partial, 0o600)
            partial.replace(dest)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"cannot write {dest} ({exc.strerror or exc})") from None
    removed = prune(dest.parent, settings.backup.keep, dest.suffix) if managed else ()
    return Made(dest, dest.stat().st_size, removed)


async def before_upgrade(settings: Settings, engine: AsyncEngine) -> Made | None:
    """SQLite with a migration pending on existing data: a backup first (backup.before_migrate)."""
    from storage.migrate import current_heads, is_up_to_date

    db_file = sqlite_file(settings.database.url)
    if not settings.backup.before_migrate or db_file is None or not db_file.is_file():
        return None
    if await is_up_to_date(engine) or not await current_heads(engine):
        return None  # nothing to migrate, or a brand-new database: nothing to lose
    made = await asyncio.to_thread(backup, settings, None, label="-before-upgrade")
    log.info("backed up the database to %s before migrating it", made.path)
    return made


# -- the run lock ---------------------------------------------------------------------------------


def lock_file(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".lock")


@contextlib.contextmanager
def running(url: str) -> Iterator[None]:
    """Held by `collectif run` for its lifetime (SQLite): a restore refuses while any run holds it."""
    db_file = sqlite_file(url)
    if db_file is None:
        yield
        return
    try:
        handle: IO[str] = open(lock_file(db_file), "a", encoding="ascii")  # noqa: SIM115
    except OSError as exc:
        raise startup.StartupError(startup.DATABASE, f"cannot create {lock_file(db_file)} ({exc.strerror})"
                                   ", or change database.url") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise startup.StartupError(
                startup.DATABASE, f"a restore of {db_file} is in progress (`collectif db restore`): "
                "start again when it ends") from None
        yield
    finally:
        handle.close()


@contextlib.contextmanager
def exclusive(db_file: Path) -> Iterator[None]:
    try:
        handle: IO[str] = open(lock_file(db_file), "a", encoding="ascii")  # noqa: SIM115
    except OSError as exc:
        raise BackupError(f"cannot create {lock_file(db_file)} ({exc.strerror or exc}): is the "
                          "database's folder writable by this user?") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"a Collectif process is running on {db_file}: stop it first "
                              "(systemctl stop collectif, docker compose stop collectif)") from None
        yield
    finally:
        handle.close()


# -- restore --------------------------------------------------------------------------------------


def restore(settings: Settings, source: Path) -> Path | None:
    """Replace the database with a backup; returns where the previous SQLite file was kept."""
    url = settings.database.url
    source = source.absolute()
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if url.startswith("sqlite"):
        db_file = sqlite_file(url)
        if db_file is None:
            raise BackupError("an in-memory SQLite database cannot be restored")
        check = integrity(source)
        if check != "ok":
            raise BackupError(f"{source} failed its integrity check ({check}): not restored")
        _refuse_newer(source)
        _make_folder(db_file.parent, what="database folder", fix="database.url")
        with exclusive(db_file):
            kept = None
            if db_file.exists():
                kept = db_file.with_name(f"{db_file.name}.before-restore-{stamp()}")
                if integrity(db_file) == "ok":
                    backup_sqlite(db_file, kept)
                else:  # keep even a damaged file as it is
                    try:
                        shutil.copy2(db_file, kept)
                    except OSError as exc:
                        raise BackupError(f"cannot keep {db_file} as {kept} ({exc.strerror or exc}): "
                                          "not restored") from None
            try:
                _copy_sqlite(source, db_file)
            except sqlite3.Error as exc:
                raise BackupError(
                    f"cannot write {db_file} ({exc}); the previous database is in {kept}") from None
            check = integrity(db_file)
            if check != "ok":
                raise BackupError(f"the restored database failed its integrity check ({check}); "
                                  f"the previous one is in {kept}")
            return kept
    args, env = _pg_env(url)
    _refuse_connected(url)
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from the settings
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
         str(source)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed for {mask_url(url)}: {_one_line(done.stderr)}")
    return None


def _refuse_newer(source: Path) -> None:
    """A backup taken after a newer Collectif migrated the database: this version cannot run on it."""
    from storage.migrate import unknown_revisions

    conn = sqlite3.connect(_read_only_uri(source), uri=True)
    try:
        revisions = [str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version")]
    finally:
        conn.close()
    if unknown := unknown_revisions(revisions):
        raise BackupError(
            f"{source} was made by a newer Collectif version (unknown migration revision "
            f"{', '.join(sorted(unknown))}): not restored; restore it with that version, or choose a backup "
            "taken before the upgrade")


def _refuse_connected(url: str) -> None:
    """PostgreSQL: refuse while other sessions use the database (a running bot keeps connections)."""
    from sqlalchemy import text

    from storage.engine import Database

    async def others() -> int:
        db = Database.from_url(url)
        try:
            async with db.engine.connect() as conn:
                count = await conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"))
                return int(count or 0)
        finally:
            await db.dispose()

    try:
        count = asyncio.run(others())
    except Exception as exc:
        failure = startup.database_error(url, exc)
        if failure is None:
            raise
        raise BackupError(str(failure)) from None
    if count:
        raise BackupError(f"{count} other session(s) are connected to the database: stop every "
                          "Collectif process first (docker compose stop collectif)")
