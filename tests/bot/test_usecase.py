"""The use-case runner: one transaction, the answer, then the effects; refusals before any write."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import event, func, select

from bot.errors import Forbidden, InvalidInput
from bot.services import Services
from bot.settings_registry import Number, SettingSpec
from bot.usecase import Context, moderator_only, run
from storage.models import Trade
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    fake = RecordingNotifier()
    services.notifiers["discord"] = fake
    return fake


async def add_trade(ctx: Context, name: str, *, fail: bool = False) -> str:
    ctx.session.add(Trade(community_id=ctx.community_id, key=name.casefold(), name=name))
    ctx.after_commit(lambda notifier: notifier.post(ctx.caller.community_external_id, "C1", _card(name)))
    if fail:
        raise InvalidInput({"name": ("errors.generic", {})})
    return name


def _card(name: str):
    from bot.cards import Card

    return Card(title=name)


@moderator_only
async def moderators_only(ctx: Context) -> None:
    ctx.session.add(Trade(community_id=ctx.community_id, key="secret", name="Secret"))


async def trade_count(services: Services) -> int:
    async with services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Trade).where(Trade.key == "x"))


async def test_the_answer_comes_after_the_commit_and_before_the_effects(
    services: Services, notifier: RecordingNotifier
) -> None:
    caller = await make_caller(services, "U1")
    seen: list[tuple[int, int]] = []

    async def respond(result: str) -> None:
        seen.append((await trade_count(services), len(notifier.posts)))

    assert await run(services, caller, add_trade, "X", respond=respond) == "X"
    assert seen == [(1, 0)]  # stored, not yet posted
    assert [p.card.title for p in notifier.posts] == ["X"]


async def test_a_refused_use_case_stores_nothing_and_runs_no_effect(
    services: Services, notifier: RecordingNotifier
) -> None:
    caller = await make_caller(services, "U1")
    with pytest.raises(InvalidInput):
        await run(services, caller, add_trade, "X", fail=True)
    assert await trade_count(services) == 0
    assert notifier.posts == []


async def test_a_failing_effect_keeps_the_change_and_the_other_effects(
    services: Services, notifier: RecordingNotifier
) -> None:
    caller = await make_caller(services, "U1")

    async def broken(notifier: object) -> None:
        raise RuntimeError("platform down")

    async def use_case(ctx: Context) -> tuple[object, object]:
        first = ctx.after_commit(broken)
        second = ctx.after_commit(lambda n: n.post(ctx.caller.community_external_id, "C1", _card("after")))
        return first, second

    first, second = await run(services, caller, use_case)
    assert (first.done, first.value) == (False, None)
    assert second.done and second.value is not None  # the PostRef the effect returned
    assert [p.card.title for p in notifier.posts] == ["after"]


async def test_moderator_only_refuses_before_any_transaction(services: Services) -> None:
    member = await make_caller(services, "U2")
    begun: list[object] = []
    event.listen(services.db.engine.sync_engine, "begin", begun.append)
    with pytest.raises(Forbidden):
        await run(services, member, moderators_only)
    assert begun == []


async def test_read_only_use_cases_take_no_write_lock(services: Services) -> None:
    if not services.db.is_sqlite:
        pytest.skip("SQLite's write lock")
    caller = await make_caller(services, "U1")

    async def read(ctx: Context) -> int:
        return int(await ctx.session.scalar(select(func.count()).select_from(Trade)))

    holder = sqlite3.connect(str(services.db.engine.url.database), timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer holds the write lock
    try:
        assert await asyncio.wait_for(run(services, caller, read, write=False), 2) > 0
        with pytest.raises(TimeoutError):  # the same use case in a write transaction waits for the lock
            await asyncio.wait_for(run(services, caller, read), 0.3)
    finally:
        holder.rollback()
        holder.close()


async def test_a_declared_setting_reads_through_the_context(services: Services) -> None:
    caller = await make_caller(services, "U1")
    spec = SettingSpec("probe.size", Number(1, 9), default=4)

    async def read(ctx: Context) -> int:
        return await ctx.setting(spec)

    assert await run(services, caller, read, write=False) == 4  # never set: the default


async def test_the_community_row_is_read_in_the_use_case_not_after_the_commit(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Read in an effect, the row would begin a new transaction on the closed session (config's
    modlog once waited on the write lock that way): it is refused with a clear error instead."""
    caller = await make_caller(services, "U1")
    seen: list[str] = []

    async def read_community_late(ctx: Context) -> str:
        async def late(_notifier: object) -> None:
            seen.append((await ctx.community()).external_id)

        ctx.after_commit(late)
        return (await ctx.community()).locale  # in the transaction: read once, kept

    assert await run(services, caller, read_community_late) == "fr"
    assert seen == [caller.community_external_id]  # the effect got the row read in the transaction

    async def only_late(ctx: Context) -> None:
        async def late(_notifier: object) -> None:
            seen.append((await ctx.community()).external_id)

        ctx.after_commit(late)

    await run(services, caller, only_late)  # the effect fails (logged); the change stays
    assert seen == [caller.community_external_id]
