"""The pairing feature's cases for tests/test_tenant_isolation.py (registry: tests/tenant.py)."""

from __future__ import annotations

from bot.services import Services
from bot.usecase import run
from cogs.pairing._pairing import answer_checkin
from cogs.pairing.models import PairingGroup, PairingMember, PairingRound
from tests.tenant import Case, World

CASES = [
    Case(
        "pairing: check-in answer of a group id",
        "b_pairing_group",
        lambda s, c, i: run(s, c, answer_checkin, i, "met"),
        covers=("pairing:met:42:met", "pairing:met:42:not_yet", "pairing:met:42:cannot"),
    ),
]

WITHOUT_OBJECT_IDS = {
    "pairing:opt:in": "the caller's own opt-in: names no stored object",
    "pairing:opt:out": "the caller's own opt-out: names no stored object",
    "pairing:opt:out:42": "the caller's own opt-out; the group only finds a DM click's community, for a "
                          "member of that group (tests/e2e/test_pairing_discord.py)",
}


async def seed(services: Services, world: World) -> None:
    """A round held in B, grouping B's two members."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        round_ = PairingRound(community_id=world.b.community_id, seq=1, scheduled_for=now, created_at=now)
        session.add(round_)
        await session.flush()
        group = PairingGroup(community_id=world.b.community_id, round_id=round_.id)
        session.add(group)
        await session.flush()
        for caller in (world.b, world.b_other):
            session.add(
                PairingMember(
                    community_id=world.b.community_id,
                    round_id=round_.id,
                    group_id=group.id,
                    member_id=caller.member_id,
                )
            )
    world.ids["b_pairing_group"] = group.id
