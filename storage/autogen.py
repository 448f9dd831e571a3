"""Developer tool: writes a migration from the models.

`python -m storage.autogen "message" REV [HEAD] [BRANCH_LABEL]`: a feature's first migration starts a
branch from 0001 (HEAD=0001, BRANCH_LABEL=<feature>); later ones extend it (HEAD=<feature>@head).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade


async def main(message: str, rev_id: str, head: str = "head", branch: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'autogen.db'}")
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda c: command.revision(
                    alembic_config(c), message=message, autogenerate=True, rev_id=rev_id, head=head,
                    branch_label=branch,
                )
            )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
