"""Matching's cases for tests/test_tenant_isolation.py (tests/tenant.py): B's proposals and invitations."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from bot.usecase import run
from cogs.matching._invite import answer_invitation, invite_team
from cogs.matching._match import find_team
from cogs.matching._request import MatchInput
from cogs.matching.models import Invitation
from tests.tenant import Case, World

CASES = [
    Case("matching: Invite button of a proposal token", "b_proposal",
         lambda s, c, i: run(s, c, invite_team, i, "c-general"),
         missing="0123456789abcdef", covers=("matching:invite:0123456789abcdef",)),
    Case("matching: Accept on an invitation", "b_invitation",
         lambda s, c, i: run(s, c, answer_invitation, i, True), covers=("matching:answer:42:accept",)),
    Case("matching: Decline on an invitation", "b_invitation",
         lambda s, c, i: run(s, c, answer_invitation, i, False), covers=("matching:answer:42:decline",)),
]


async def seed(services: Services, world: World) -> None:
    """A proposal of B, and an invited one (intros' seed gave B's first member the Développement trade)."""
    answer = await run(services, world.b_other, find_team, MatchInput(trades="Développement"), write=False)
    assert answer.team.complete
    world.ids.update(b_proposal=answer.token)
    invited = await run(services, world.b_other, find_team, MatchInput(trades="Développement", city="x"),
                        write=False)
    await run(services, world.b_other, invite_team, invited.token, "c-general")
    async with services.db.transaction() as session:
        world.ids.update(b_invitation=await session.scalar(
            select(Invitation.id).where(Invitation.status == "pending")))
