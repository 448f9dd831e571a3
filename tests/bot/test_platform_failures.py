"""Platform failures and the scheduler: a 5xx is never taken for "done"; reads take no write lock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.cards import Card
from bot.discord_bot.notifier import DiscordNotifier
from bot.notifier import PostRef
from bot.posting import PostOwner, sync_card
from bot.scheduler import JobRun
from bot.services import Services
from storage.models import Job
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

# -- 1. a Discord outage on a DM is not "DMs closed" --------------------------------------------------


class _User:
    id = 42

    async def send(self, **_kwargs: Any) -> Any:
        response = SimpleNamespace(status=503, reason="Service Unavailable")
        raise discord.DiscordServerError(response, {"message": "upstream unavailable", "code": 0})


class _Bot:
    def get_user(self, _user_id: int) -> _User:
        return _User()


async def test_a_discord_5xx_on_a_dm_is_raised_not_taken_for_closed_dms() -> None:
    """Standard 1: a platform failure is retried or reported, never silently lost.

    Callers (the afterwork reminder job, cogs/afterworks/_publish.py) rely on `dm` raising on a
    platform failure to release their per-member claim and retry; None means "DMs closed: done".
    The Slack notifier re-raises anything that is not a "gone" error code; the Discord one does not.
    """
    notifier = DiscordNotifier(_Bot())  # type: ignore[arg-type]
    with pytest.raises(discord.DiscordServerError):
        await notifier.dm("1", "42", Card(title="Rappel : apéro demain"))


# -- 2. one channel failing while editing must not stop the others ------------------------------------


class _EditFails(RecordingNotifier):
    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        if ref.channel_id in self.failing:
            self.calls.append(("edit", ref.channel_id))
            raise RuntimeError(f"503 Service Unavailable editing in {ref.channel_id}")
        return await super().edit(community_external_id, ref, card)


async def test_sync_card_goes_on_when_editing_one_channel_fails(services: Services) -> None:
    """bot/posting.py sync_card's docstring: "A platform failure on one channel never stops the others".

    The post path catches the failure per channel (SyncResult.retrying); the edit path does not: a 5xx
    editing the first channel's card aborts the sync, the second copy keeps the old card and the newly
    wanted channel never gets one.
    """
    notifier = _EditFails()
    services.notifiers["discord"] = notifier
    caller = await make_caller(services, "U1")
    owner = PostOwner(caller.community_id, "probe", 7, caller.member_id)
    first = await sync_card(services, owner, Card(title="v1"), ["C1", "C2"])
    assert sorted(first.posted) == ["C1", "C2"]

    notifier.failing.add("C1")
    result = await sync_card(services, owner, Card(title="v2"), ["C1", "C2", "C3"])

    assert result.edited == ["C2"]
    assert result.posted == ["C3"]
    assert "C1" in result.retrying


# -- 3. the scheduler's reads must not take SQLite's write lock ----------------------------------------


@contextmanager
def another_writer(services: Services) -> Iterator[None]:
    """Another process holds SQLite's write lock until the block ends."""
    holder = sqlite3.connect(str(services.db.engine.url.database), timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_timer_for_a_job_gone_elsewhere_only_reads(services: Services) -> None:
    """Standard 3: reads never take SQLite's write lock.

    `run_job` (every timer that fires), `run_due`'s selects and `_pending_rows` (start, every sweep's
    top-up) open `db.sessionmaker()` sessions, which begin with BEGIN IMMEDIATE (storage/engine.py:
    WRITE_OPTION defaults to True). A timer for a row another process already ran (or a row that is
    gone) only needs to read it, yet it queues behind any writer, up to the 10 s busy timeout.
    """
    if not services.db.is_sqlite:
        pytest.skip("SQLite's write lock")
    with another_writer(services):
        async with services.db.transaction(write=False) as session:  # control: a read-only transaction
            await asyncio.wait_for(session.execute(select(Job.id).limit(1)), 2)  # does not wait
        ran = await asyncio.wait_for(services.scheduler.run_job(123456), 2)
    assert ran is False


async def test_scheduler_start_reads_pending_rows_without_the_write_lock(services: Services) -> None:
    """Same defect at start: arming the window's rows is a read, but waits behind another writer."""
    if not services.db.is_sqlite:
        pytest.skip("SQLite's write lock")
    scheduler = services.scheduler

    async def handler(run: JobRun) -> None:
        return None

    scheduler.register("probe.noop", handler)
    async with services.db.transaction() as session:
        await scheduler.schedule(session, kind="probe.noop",
                                 due_at=services.clock.now() + timedelta(minutes=5))
    try:
        with another_writer(services):
            await asyncio.wait_for(scheduler._pending_rows(
                after=services.clock.now(), before=services.clock.now() + timedelta(hours=1),
                kinds=["probe.noop"]), 2)
    finally:
        await scheduler.stop()


# -- 4. retries back off ----------------------------------------------------------------------------


async def test_a_failing_job_is_retried_with_growing_delays(services: Services) -> None:
    """Standard 2: a job is retried *with backoff*. `_failed` puts the row back `retry_delay` later on
    every attempt (bot/scheduler.py `_failed`): with the defaults (1 minute, 5 attempts) a platform
    outage of about four minutes fails every job due during it for good (state `failed`, never sent).
    """
    scheduler = services.scheduler
    attempts: list[int] = []

    async def handler(run: JobRun) -> None:
        attempts.append(run.attempt)
        raise RuntimeError("503 Service Unavailable")

    scheduler.register("probe.flaky", handler)
    async with services.db.transaction() as session:
        job_id = await scheduler.schedule(session, kind="probe.flaky", due_at=services.clock.now())

    delays: list[timedelta] = []
    for _ in range(3):
        failed_at = services.clock.now()
        assert await scheduler.run_job(job_id)
        async with services.db.transaction(write=False) as session:
            due = await session.scalar(select(Job.due_at).where(Job.id == job_id))
        delays.append(due - failed_at)
        services.clock.advance(due - failed_at)
    assert attempts == [1, 2, 3]
    assert delays[1] > delays[0] and delays[2] > delays[1], f"no backoff: {delays}"
