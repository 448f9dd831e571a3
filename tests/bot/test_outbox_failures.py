"""The outbox when its own bookkeeping fails: nothing sent twice, no text kept unseen, no bug hidden.

Found by a hostile review of the outbox (each test failed on its first version)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot import outbox
from bot.cards import Card
from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.privacy._privacy import delete_member_data, export_member_data
from storage.models import Community, Job
from tests.bot.outbox_support import community_of, kept, retry_for
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier, RecordingNotifier

CARD = Card(title="Apéro annulé", text="Le jeudi, chez Bob")


# -- 1. a DM delivered, then the "delivered" bookkeeping fails once: sent again ---------------------


async def test_delivered_dm_is_not_sent_again_when_recording_it_fails_once(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """deliver() DMs, then strips the card in a second write transaction; if that write fails (SQLite
    'database is locked' behind another process, a PG failover) the handler raises, the scheduler retries
    and the member gets the same DM again."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    flaky.failing_dms.clear()

    real = services.db.transaction
    state = {"armed": False, "done": False}
    original_dm = flaky.dm

    async def dm(*args: Any, **kwargs: Any) -> Any:
        ref = await original_dm(*args, **kwargs)
        if not state["done"]:  # the platform took it: the next write meets a lock, once
            state["armed"] = state["done"] = True
        return ref

    @asynccontextmanager
    async def transaction(*, write: bool = True) -> AsyncIterator[Any]:
        if write and state["armed"]:
            state["armed"] = False
            raise OperationalError("UPDATE jobs", {}, sqlite3.OperationalError("database is locked"))
        async with real(write=write) as session:
            yield session

    flaky.dm = dm  # type: ignore[method-assign]
    services.db.transaction = transaction  # type: ignore[method-assign]
    await retry_for(services, clock)
    assert [d.user_id for d in flaky.dms] == ["U2"], f"DMs: {[d.user_id for d in flaky.dms]}"


async def test_delivered_dm_is_not_sent_again_when_cancelled_while_recording_it(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """stop() cancels a handler in flight after stop_timeout: deliver() cancelled after the platform took
    the DM but while its strip waits for the write lock gives the row back (`_release`), card included:
    the next run DMs the member again."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    [job] = await kept(services)
    flaky.failing_dms.clear()
    clock.advance(timedelta(minutes=2))

    real = services.db.transaction
    sent = asyncio.Event()
    blocked = {"on": False}
    original_dm = flaky.dm

    async def dm(*args: Any, **kwargs: Any) -> Any:
        ref = await original_dm(*args, **kwargs)
        blocked["on"] = True
        sent.set()
        return ref

    @asynccontextmanager
    async def transaction(*, write: bool = True) -> AsyncIterator[Any]:
        if write and blocked["on"]:
            blocked["on"] = False
            await asyncio.sleep(3600)  # waiting for the write lock (another process holds it)
        async with real(write=write) as session:
            yield session

    flaky.dm = dm  # type: ignore[method-assign]
    services.db.transaction = transaction  # type: ignore[method-assign]
    task = asyncio.create_task(services.scheduler.run_job(job.id))
    await asyncio.wait_for(sent.wait(), 2)
    await asyncio.sleep(0.01)
    task.cancel()  # what Scheduler.stop() does to a handler past stop_timeout
    with pytest.raises(asyncio.CancelledError):
        await task
    services.db.transaction = real  # type: ignore[method-assign]
    await retry_for(services, clock)  # the restart
    assert [d.user_id for d in flaky.dms] == ["U2"], f"DMs: {[d.user_id for d in flaky.dms]}"


# -- 2. a kept DM that was never delivered keeps its text, out of the member's export --------------


async def test_a_kept_dm_given_up_is_still_in_the_export_or_forgotten(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """After max_attempts the row is `failed` and still holds the card's text, but `pending()` lists
    only `pending` rows: the member's export omits personal data the database still holds."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    await retry_for(services, clock, hours=6)
    [job] = await kept(services)
    assert job.state == "failed"
    exported = await run(services, bob, export_member_data)
    holds_text = "card" in job.payload
    assert not holds_text or [m["title"] for m in exported.data["outbox"]] == [CARD.title], (
        f"job {job.state} keeps {job.payload.get('card', {}).get('text')!r}, "
        f"export: {exported.data['outbox']}"
    )


async def test_a_kept_dm_waits_while_the_community_removed_the_bot_and_is_in_the_export(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """Before, deliver() returned early for a paused community and the row ended `done` with its text,
    out of the export. Now the job waits while the community is paused (the scheduler), in the
    member's export, and goes out once if the bot is back within the day."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    async with services.db.transaction() as session:
        await session.execute(update(Community).values(active=False))
    flaky.failing_dms.clear()
    for _ in range(3):
        clock.advance(timedelta(minutes=20))
        await services.scheduler.run_due()
    [job] = await kept(services)
    assert flaky.dms == [] and job.state == "pending" and job.attempts == 0
    exported = await run(services, bob, export_member_data)
    assert [m["title"] for m in exported.data["outbox"]] == [CARD.title]
    async with services.db.transaction() as session:
        await session.execute(update(Community).values(active=True))
    await retry_for(services, clock)
    [job] = await kept(services)
    assert [d.user_id for d in flaky.dms] == ["U2"] and "card" not in job.payload


async def test_a_kept_dm_is_dropped_when_the_bot_comes_back_days_later(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """Each hourly look while the bot was away moved the job's due time on, so outbox.MAX_LATENESS (a
    day) counted from the last look: the notice went out five days late when the bot was back."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    async with services.db.transaction() as session:
        await session.execute(update(Community).values(active=False))
    flaky.failing_dms.clear()
    for _ in range(5 * 24):  # five days of sweeps while the bot is away
        clock.advance(timedelta(hours=1))
        await services.scheduler.run_due()
    async with services.db.transaction() as session:
        await session.execute(update(Community).values(active=True))
    await retry_for(services, clock)
    [job] = await kept(services)
    assert flaky.dms == [] and job.state == "skipped"  # stale news: dropped, not sent


# -- 3. a DM kept for a member deleted meanwhile: the next member with that id gets it in their export


async def test_a_dm_kept_after_its_member_was_deleted_does_not_reach_the_next_member_with_that_id(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """A loop of DMs (afterworks `tell`) read its recipients, then Bob deleted his data while it sent:
    send_dm keeps Bob's DM without checking he still exists. SQLite reuses the highest rowid, so the
    next newcomer gets Bob's member id: that newcomer's export lists Bob's DM, and deliver() (which
    checks only the member id) DMs Bob, who deleted his data."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    community = await community_of(services, bob.community_id)
    await delete_member_data(services, bob, bob.member_id)  # Bob leaves while the loop runs
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, community, bob.member_id, "U2", CARD, about=())  # the loop reaches Bob
    flaky.failing_dms.clear()
    carol = await make_caller(services, "U3", name="Carol")
    assert alice.member_id != carol.member_id
    exported = await run(services, carol, export_member_data)
    await retry_for(services, clock)
    problems = []
    if carol.member_id == bob.member_id and exported.data["outbox"]:  # the id was reused (SQLite)
        problems.append(f"Carol's export lists Bob's DM: {exported.data['outbox']}")
    if any(d.user_id == "U2" for d in flaky.dms):
        problems.append("Bob, deleted, was DMed")
    if any("card" in j.payload for j in await kept(services)):
        problems.append("a deleted member's DM text is still stored")
    assert not problems, problems


# -- 4. delivered and stripped, but the scheduler's "done" write fails: the row comes back without card


async def test_a_delivered_dm_whose_done_write_failed_does_not_break_the_members_export(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """deliver() strips the card and returns; the scheduler's `_finish(DONE)` (another write) fails once,
    so the row stays `running` and is claimed again after stale_after. deliver() then reads
    payload["card"] -> KeyError, the row goes back to `pending` without a card, and
    outbox.pending() (payload["card"]["title"]) makes the member's whole export fail."""
    bob = await make_caller(services, "U2", name="Bob")
    flaky.failing_dms.add("U2")
    await outbox.send_dm(services, await community_of(services, bob.community_id), bob.member_id, "U2", CARD,
                         about=())
    flaky.failing_dms.clear()

    real = services.db.transaction
    writes_after_dm = {"n": -1}
    original_dm = flaky.dm

    async def dm(*args: Any, **kwargs: Any) -> Any:
        ref = await original_dm(*args, **kwargs)
        if writes_after_dm["n"] == -1:
            writes_after_dm["n"] = 0
        return ref

    @asynccontextmanager
    async def transaction(*, write: bool = True) -> AsyncIterator[Any]:
        if write and writes_after_dm["n"] >= 0:
            writes_after_dm["n"] += 1
            if writes_after_dm["n"] == 2:  # 1: deliver's strip, 2: the scheduler's finish
                raise OperationalError("UPDATE jobs", {}, sqlite3.OperationalError("database is locked"))
        async with real(write=write) as session:
            yield session

    flaky.dm = dm  # type: ignore[method-assign]
    services.db.transaction = transaction  # type: ignore[method-assign]
    clock.advance(timedelta(minutes=2))
    with pytest.raises(OperationalError):
        await services.scheduler.run_due()  # the finish fails: the row stays running
    services.db.transaction = real  # type: ignore[method-assign]
    clock.advance(services.scheduler.stale_after + timedelta(minutes=1))
    await services.scheduler.run_due()  # claimed again as stale
    [job] = await kept(services)
    exported = await run(services, bob, export_member_data)  # KeyError: 'card'
    assert exported.data["outbox"] == [] and job.state in ("done", "pending"), job.last_error


# -- a programming error is raised, not kept ------------------------------------------------------


class BuggyNotifier(RecordingNotifier):
    async def dm(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("dm", args[1]))
        raise TypeError("render() got an unexpected keyword argument 'embeds'")  # a bug, not a 5xx


async def test_a_programming_error_is_not_hidden_as_a_kept_dm(services: Services,
                                                                    clock: FrozenClock) -> None:
    """`except Exception` in send_dm keeps a TypeError like a 5xx: the caller counts the member as told
    (True), nothing is raised, and the same bug is retried max_attempts times, 1+2+4+8 minutes apart."""
    buggy = BuggyNotifier()
    services.notifiers["discord"] = buggy
    bob = await make_caller(services, "U2", name="Bob")
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, bob.community_id)
    told: Any = None
    with pytest.raises(TypeError):
        told = await outbox.send_dm(services, community, bob.member_id, "U2", CARD, about=())
    async with services.db.transaction(write=False) as session:
        kept = (await session.scalars(select(Job).where(Job.kind == outbox.OUTBOX))).all()
    assert told is None and kept == []
