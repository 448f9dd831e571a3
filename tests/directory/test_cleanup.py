from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.usecase import run as use_case
from cogs.directory._cleanup import KIND, on_start, run
from cogs.directory._filters import Filters
from cogs.directory._search import find_members, turn_page
from cogs.directory.models import DirectoryQuery
from storage.models import Job
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for, make_caller


async def test_daily_job_forgets_searches_unused_for_30_days(services, clock):
    async with services.db.transaction() as s:
        me = await caller_for(s, "me")
        for token, age in (("old", 31), ("recent", 29)):
            when = clock.now() - timedelta(days=age)
            s.add(DirectoryQuery(community_id=me.community_id, token=token, filters={}, created_at=when,
                                 used_at=when))
    await on_start(services)
    await on_start(services)  # a second process / restart: still one job per day
    async with services.db.transaction() as s:
        jobs = (await s.scalars(select(Job).where(Job.kind == KIND))).all()
    assert [j.due_at for j in jobs] == [(clock.now() + timedelta(days=1)).replace(hour=3, minute=0)]

    clock.advance(timedelta(days=1))
    await run(services, None)

    async with services.db.transaction() as s:
        assert (await s.scalars(select(DirectoryQuery.token))).all() == ["recent"]
        assert len((await s.scalars(select(Job).where(Job.kind == KIND))).all()) == 2  # the next day's


async def test_a_search_run_again_is_kept_as_used(services, clock):
    """A stored search was forgotten 30 days after its last page turn: running the same /members again
    found it stored and wrote nothing, so the nightly job deleted it and the Next button of the card
    the member got an hour before said "search again". Run again, it counts as used (at most one
    write a day)."""
    me = await make_caller(services, "ME", name="Moi")
    for i in range(7):
        someone = await make_caller(services, f"U{i}", name=f"Dev {i}")
        async with services.db.transaction() as session:
            await add_profile(session, someone, trades=("Développement",))
    filters = Filters(trade="Développement")
    first, _ = await use_case(services, me, find_members, filters, write=False)
    assert first.has_next
    await use_case(services, me, turn_page, first.token, 2, write=False)

    clock.advance(timedelta(days=30, hours=12))
    again, _ = await use_case(services, me, find_members, filters, write=False)  # the same search, today
    assert again.token == first.token and again.has_next
    updates: list[str] = []

    def spy(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", spy)
    try:
        clock.advance(timedelta(hours=6))
        await use_case(services, me, find_members, filters, write=False)  # again the same day: no write
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", spy)
    assert updates == []
    clock.advance(timedelta(hours=6))
    await run(services, None)  # that night

    page, _ = await use_case(services, me, turn_page, again.token, 2, write=False)  # Next on today's card
    assert page.page == 2
