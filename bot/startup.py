"""Start-up failures an operator fixes: one line saying what to fix, and an exit code per cause.

A supervisor restarts a crashed process; these failures would fail again at once, so each has its own
exit code to list in systemd's `RestartPreventExitStatus=` (README: "Exit codes").
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.config import mask_url

OK = 0
CRASHED = 1  # an unexpected error, or a platform connection that ended on its own: restart
CONFIG = 2  # settings file, environment variables, missing credentials
DISCORD_TOKEN = 3  # Discord refused DISCORD_TOKEN
SLACK_TOKEN = 4  # Slack refused SLACK_BOT_TOKEN or SLACK_APP_TOKEN
UNREACHABLE = 5  # a platform could not be reached (DNS, refused connection, no answer)
DATABASE = 6  # the database cannot be opened or written


class StartupError(Exception):
    """Start-up cannot go on until the operator fixes something; `str()` says what, in one line."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def unreachable(platform: str, url: str, error: BaseException, setting: str) -> StartupError:
    reason = " ".join(str(error).split()) or type(error).__name__
    return StartupError(
        UNREACHABLE,
        f"cannot reach {platform} at {url} ({reason}): check the network, DNS and proxy, and {setting}",
    )


def database_error(url: str, error: BaseException) -> StartupError | None:
    """The operator's view of a database that cannot be opened or written; None for other errors."""
    from storage.migrate import UnknownRevisionError  # only on a failure: not imported at start

    if isinstance(error, UnknownRevisionError):
        return newer_database(url, error.revisions)
    if isinstance(error, TypeError | ValueError):
        return _refused_by_driver(error)
    if not isinstance(error, SQLAlchemyError | OSError):
        return None
    reason = _first_line(error)
    if url.startswith("sqlite"):
        problem = _sqlite_problem(url)
        if problem is None:
            if not any(word in reason for word in ("unable to open", "readonly", "disk", "permission")):
                return None
            problem = f"cannot use the SQLite database ({reason}): check its file and folder"
        return StartupError(DATABASE, f"{problem}, or change database.url")
    if isinstance(error, OSError) or type(error).__name__ in {"OperationalError", "InterfaceError"}:
        return StartupError(
            DATABASE, f"cannot connect to the database at {mask_url(url)} ({reason}): check database.url "
            "and that the server is running",
        )
    return None


_DRIVERS = (f"{os.sep}sqlalchemy{os.sep}", f"{os.sep}asyncpg{os.sep}", f"{os.sep}aiosqlite{os.sep}")
_URL_PARSER = f"sqlalchemy{os.sep}engine{os.sep}url.py"


def _refused_by_driver(error: TypeError | ValueError) -> StartupError | None:
    """A TypeError or ValueError the driver raised reading database.url: a configuration error.

    asyncpg's connect() raises TypeError for a query option it has no argument for
    (`?application_name=…`, `?connect_timeout=…`: libpq's, not asyncpg's); SQLAlchemy's URL parser
    ValueError for a port that is not a number. Only raised by the library itself (the innermost
    frame), while connecting or parsing the URL: anything else stays an unexpected error.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or not any(driver in frames[-1].filename for driver in _DRIVERS):
        return None
    connecting = any(frame.name == "connect" and any(driver in frame.filename for driver in _DRIVERS)
                     for frame in frames)
    if not (connecting or any(frame.filename.endswith(_URL_PARSER) for frame in frames)):
        return None
    reason = _first_line(error)
    return StartupError(
        CONFIG, f"database.url: the database driver refused it ({reason}): keep only asyncpg's options in "
        "its query (ssl=… for libpq's sslmode=…) and a numeric port",
    )


def newer_database(url: str, revisions: tuple[str, ...]) -> StartupError:
    """A database a newer Collectif migrated: this version can neither migrate nor use it."""
    return StartupError(
        DATABASE, f"the database at {mask_url(url)} was migrated by a newer Collectif version (unknown "
        f"migration revision {', '.join(revisions)}): install that version again, or `collectif db "
        "restore` a backup taken before the upgrade (README: \"Upgrading\")",
    )


def check_database(url: str) -> None:
    """Before opening a SQLite database: its folder exists and is writable (a StartupError if not).

    Checked up front because a failed open leaves aiosqlite's worker thread behind, which then
    prints a traceback at exit.
    """
    if url.startswith("sqlite") and (problem := _sqlite_problem(url)) is not None:
        raise StartupError(DATABASE, f"{problem}, or change database.url")


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _sqlite_problem(url: str) -> str | None:
    try:
        database = make_url(url).database
    except ArgumentError:
        return None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).absolute()
    folder = path.parent
    if not folder.is_dir():
        return f"the database folder {folder} does not exist: create it"
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite writes its journal (-wal, -shm) next to the file: the folder must be writable too.
        return (f"the database folder {folder} is not writable by this user (SQLite writes its journal "
                "beside the file): make it writable")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"the database file {path} is not readable and writable by this user: fix its permissions"
    return None
