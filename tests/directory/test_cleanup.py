from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cogs.directory._cleanup import KIND, on_start, run
from cogs.directory.models import DirectoryQuery
from storage.models import Job
from tests.fakes.callers import caller_for


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
