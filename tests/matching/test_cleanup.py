"""The nightly job forgetting the /match proposals never invited, once out of the rotation window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.matching import FEATURE, _cleanup
from cogs.matching._match import find_team
from cogs.matching._request import MatchInput
from cogs.matching.models import Invitation, Proposal, ProposedMember
from storage.models import Job
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller


async def _proposal(services: Services, alice: Caller, note: str) -> str:
    answer = await run(services, alice, find_team, MatchInput(trades="Développement", note=note), write=False)
    return answer.token


async def _rows(services: Services, model: Any, tokens: dict[str, str]) -> dict[str, int]:
    async with services.db.transaction() as session:
        if model is Proposal:
            found = (await session.scalars(select(Proposal.token))).all()
            return {name: int(token in found) for name, token in tokens.items()}
        counts = dict((await session.execute(
            select(Proposal.token, func.count()).join(model, model.proposal_id == Proposal.id)
            .group_by(Proposal.token))).all())
        left = (await session.scalar(select(func.count()).select_from(model))) or 0
        assert left == sum(counts.values())  # no row outlives its proposal
        return {name: counts.get(token, 0) for name, token in tokens.items()}


async def test_proposals_never_invited_are_forgotten_after_the_rotation_window(
        services: Services, alice: Caller, clock: Any) -> None:
    for user, name in (("V1", "Vic"), ("V2", "Val")):
        caller = await make_caller(services, user, name=name)
        async with services.db.transaction() as session:
            await add_profile(session, caller, trades=("Développement",))
    tokens = {"old": await _proposal(services, alice, "a"), "invited": await _proposal(services, alice, "b")}
    async with services.db.transaction() as session:
        await session.execute(update(Proposal).where(Proposal.token == tokens["invited"])
                              .values(invited_at=clock.now()))
    clock.advance(timedelta(days=2))
    tokens["recent"] = await _proposal(services, alice, "c")
    assert await _rows(services, Invitation, tokens) == {"old": 2, "invited": 2, "recent": 2}  # + a reserve

    await _cleanup.on_start(services)
    await _cleanup.on_start(services)  # a second process / restart: still one job per day
    async with services.db.transaction() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == _cleanup.KIND))).all()
    assert [j.due_at for j in jobs] == [(clock.now() + timedelta(days=1)).replace(hour=3, minute=0)]

    clock.advance(timedelta(days=29))  # "old" and "invited" are 31 days old, "recent" 29
    await _cleanup.run(services, None)

    assert await _rows(services, Proposal, tokens) == {"old": 0, "invited": 1, "recent": 1}
    assert await _rows(services, ProposedMember, tokens) == {"old": 0, "invited": 1, "recent": 1}
    assert await _rows(services, Invitation, tokens) == {"old": 0, "invited": 2, "recent": 2}
    async with services.db.transaction() as session:
        assert len((await session.scalars(select(Job).where(Job.kind == _cleanup.KIND))).all()) == 2


async def test_the_feature_starts_the_nightly_job(services: Services) -> None:
    assert FEATURE.on_start is not None
    await FEATURE.on_start(services)  # as `collectif run` does
    async with services.db.transaction() as session:
        kinds = set((await session.scalars(select(Job.kind))).all())
    assert _cleanup.KIND in kinds
