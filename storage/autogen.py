"""Developer tool: writes a new migration from the models (`python -m storage.autogen "message" REV`)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade


async def main(message: str, rev_id: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'autogen.db'}")
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda c: command.revision(alembic_config(c), message=message, autogenerate=True, rev_id=rev_id)
            )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
