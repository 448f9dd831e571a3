"""DMs kept in another member's outbox (bot/outbox.py) that name a member are deleted with her data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.privacy._privacy import delete_member_data
from storage.models import Job
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier


async def _jobs_holding(services: Services, text: str) -> list[str]:
    async with services.db.transaction(write=False) as session:
        rows = (await session.execute(select(Job.kind, Job.payload))).all()
    return [kind for kind, payload in rows if text in str(payload)]


async def test_the_answered_dm_kept_for_the_requester_goes_with_the_answerers_data(
    services: Services, clock: FrozenClock
) -> None:
    """Alice's DMs fail (503) while Zoé answers her request: "Zoé Quintard a répondu…" is kept for
    Alice. Zoé deletes her data before Discord is back: the kept DM goes with it, Alice never gets it."""
    from cogs.feedback._feedback import ask, on_start, submit_answer
    from cogs.feedback._validation import AnswerForm
    from storage.settings import get_settings
    from tests.feedback.conftest import good_request

    clock.set(datetime.now(UTC))  # the privacy hooks queue their jobs on the wall clock
    flaky = FlakyNotifier()
    services.notifiers["discord"] = flaky
    await on_start(services)
    alice = await make_caller(services, "U1", name="Alice")
    zoe = await make_caller(services, "U2", name="Zoé Quintard")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).feedback_channel_id = "C-FEEDBACK"
    asked = await run(services, alice, ask, good_request())
    flaky.failing_dms.add("U1")
    await run(services, zoe, submit_answer, asked.request_id, False, AnswerForm(text="Trop fine en petit"))
    assert await _jobs_holding(services, "Zoé Quintard") == ["outbox.dm"]

    await delete_member_data(services, zoe, zoe.member_id)

    assert await _jobs_holding(services, "Zoé Quintard") == []
    flaky.failing_dms.clear()
    for _ in range(8):
        clock.advance(timedelta(minutes=15))
        await services.scheduler.run_due()
    assert [d.card for d in flaky.dms if d.user_id == "U1" and "Zoé" in str(d.card)] == []


async def test_an_anonymous_answers_kept_dm_names_nobody_and_still_goes(
    services: Services, clock: FrozenClock
) -> None:
    """An anonymous answer's DM says "a peer": nothing of the answerer's, it is kept and sent."""
    from cogs.feedback._feedback import ask, on_start, submit_answer
    from cogs.feedback._validation import AnswerForm
    from storage.settings import get_settings
    from tests.feedback.conftest import good_request

    flaky = FlakyNotifier()
    services.notifiers["discord"] = flaky
    await on_start(services)
    alice = await make_caller(services, "U1", name="Alice")
    zoe = await make_caller(services, "U2", name="Zoé Quintard")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).feedback_channel_id = "C-FEEDBACK"
    asked = await run(services, alice, ask, good_request())
    flaky.failing_dms.add("U1")
    await run(services, zoe, submit_answer, asked.request_id, True, AnswerForm(text="Trop fine en petit"))
    async with services.db.transaction(write=False) as session:
        [payload] = (await session.scalars(select(Job.payload).where(Job.kind == "outbox.dm"))).all()
    assert "about" not in payload and "Zoé" not in str(payload)
