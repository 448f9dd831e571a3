"""Matching's cases for tests/test_tenant_isolation.py (registry: tests/tenant.py): B's proposals."""

from __future__ import annotations

from bot.services import Services
from bot.usecase import run
from cogs.matching._match import find_team, invite_team
from cogs.matching._request import MatchInput
from tests.tenant import Case, World

CASES = [
    Case("matching: Invite button of a proposal token", "b_proposal",
         lambda s, c, i: run(s, c, invite_team, i, "c-general"),
         missing="0123456789abcdef", covers=("matching:invite:0123456789abcdef",)),
]


async def seed(services: Services, world: World) -> None:
    """A proposal of B (intros' seed gave B's first member the Développement trade)."""
    answer = await run(services, world.b_other, find_team, MatchInput(trades="Développement"), write=False)
    assert answer.team.complete
    world.ids.update(b_proposal=answer.token)
