"""Database files for the tests that start the bot in a process of its own."""

from __future__ import annotations

from pathlib import Path

from storage.engine import Database
from storage.migrate import upgrade


async def migrated_sqlite(path: Path) -> str:
    """A SQLite file at `path` with every migration applied; its URL."""
    url = f"sqlite+aiosqlite:///{path}"
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()
    return url
