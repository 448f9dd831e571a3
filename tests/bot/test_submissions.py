"""bot.submissions: a form's key claimed once per community, forgotten by the nightly job after a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import nightly, submissions
from bot.usecase import Context, run
from storage.models import FormSubmission, Job
from tests.fakes.callers import make_caller


async def _claim(ctx: Context, key: str | None, object_id: int) -> None:
    await submissions.claim(ctx, key, "test.thing", object_id)


async def test_a_key_is_claimed_once_per_community_and_forgotten_after_a_day(services, clock) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    elsewhere = await make_caller(services, "U1", name="Alice", guild="G2")
    await run(services, alice, _claim, "V1", 1)
    with pytest.raises(submissions.AlreadySubmitted):
        await run(services, alice, _claim, "V1", 2)
    await run(services, elsewhere, _claim, "V1", 3)  # another community's key space
    await run(services, alice, _claim, None, 4)  # no key (a slash command): nothing claimed
    await run(services, alice, _claim, None, 5)

    await submissions.on_start(services)
    async with services.db.transaction() as session:
        [_job] = (await session.scalars(select(Job).where(Job.kind == submissions.KIND))).all()
    clock.advance(timedelta(hours=23))
    await run(services, alice, _claim, "V2", 6)
    clock.advance(timedelta(hours=2))
    await nightly.run(services, submissions.KIND, submissions.forget)
    async with services.db.transaction() as session:
        kept = (await session.execute(select(FormSubmission.key, FormSubmission.object_id))).all()
    assert [tuple(row) for row in kept] == [("V2", 6)]
    await run(services, alice, _claim, "V1", 7)  # forgotten: a key seen again a day later is new
