"""Interleaving two members' requests, for the race tests (a hostile review's probes, kept).

`Meanwhile.run(work)` runs another member's request to completion while the caller's transaction is
still open. On PostgreSQL (READ COMMITTED) that is where a read-then-write race shows; on SQLite the
caller holds the write lock, so the work cannot finish: after `wait` seconds it is left running and
finishes once the caller commits (`settle`). Either way the test then asserts the outcome, which
must be right on both databases (CI runs the feature suites on PostgreSQL too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


class Meanwhile:
    def __init__(self) -> None:
        self._pending: list[asyncio.Future[Any]] = []

    async def run(self, work: Awaitable[Any], *, wait: float = 1.0) -> Any:
        """The work's result (or exception) if it finished within `wait`, else None (see `settle`)."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=wait)
        if task in done:
            return task.result() if task.exception() is None else task.exception()
        self._pending.append(task)
        return None

    async def settle(self) -> list[Any]:
        """Wait for the work left running; its results (or exceptions)."""
        tasks, self._pending = self._pending, []
        return list(await asyncio.gather(*tasks, return_exceptions=True))
