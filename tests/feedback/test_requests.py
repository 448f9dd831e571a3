"""Asking for feedback at the edges: a far-away date, a freed weekly slot."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.context import Caller
from bot.errors import InvalidInput, UserError
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import ask, check_request, publish_request
from cogs.feedback.models import FeedbackRequest
from storage.models import Job
from tests.fakes.notifier import RecordingNotifier
from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request


async def _ask(services: Services, caller: Caller, **changes: object) -> int:
    done = await run(services, caller, ask, good_request(**changes))
    assert done.published is not None and done.published.posted
    return done.request_id


async def _count(services: Services, table: type) -> int:
    async with services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.parametrize("due", ["9999-12-31", "31/12/9999", "2027-11-27"])
async def test_a_date_more_than_a_year_ahead_is_refused_under_its_field(
    services: Services, alice: Caller, due: str
) -> None:
    """31/12/9999 passed as "not in the past", then planning the due-date DM a day after it overflowed:
    "unexpected error". Today is 26 Nov 2026: at most 26 Nov 2027, said in the refusal."""
    for use_case in (check_request, ask):
        with pytest.raises(InvalidInput) as refused:
            await run(services, alice, use_case, good_request(due=due))
        key, params = refused.value.problems["due"]
        assert key == "feedback.problems.due_too_far"
        assert params == {"date": "26 novembre 2027"}
    assert services.t("en", key, date="November 26, 2027") == (
        "The date you want feedback by is at most a year away (November 26, 2027 at the latest)."
    )
    assert await _count(services, FeedbackRequest) == 0
    assert await _count(services, Job) == 0


async def test_a_date_a_year_ahead_is_taken(services: Services, alice: Caller) -> None:
    await _ask(services, alice, due="2027-11-26")
    async with services.db.transaction() as session:
        assert await session.scalar(select(FeedbackRequest.due_on)) == date(2027, 11, 26)


async def test_a_request_removed_because_its_card_failed_frees_its_own_slot(
    services: Services, alice: Caller, notifier: RecordingNotifier
) -> None:
    """Limit 3. Request 1 (slot 1) and request 2 (slot 2) are saved; the channel then refuses request
    1's card, so it is deleted. The next request took slot used+1 = 2, collided with request 2's and
    was refused "3 requests a week" with 1 of 3 used: it takes the free slot 1."""
    first = await _ask(services, alice)
    await _ask(services, alice, title="Deuxième")
    notifier.forbidden.add(FEEDBACK_CHANNEL)
    assert not (await publish_request(services, alice.community_id, first)).posted
    notifier.forbidden.clear()
    await _ask(services, alice, title="Troisième")
    await _ask(services, alice, title="Quatrième")  # 3 of 3
    async with services.db.transaction() as session:
        slots = sorted(await session.scalars(select(FeedbackRequest.week_slot)))
    assert slots == [1, 2, 3]
    with pytest.raises(UserError) as refused:
        await run(services, alice, ask, good_request(title="Cinquième"))
    assert refused.value.key == "feedback.errors.limit"
