"""The intros feature's cases for tests/test_tenant_isolation.py (registry: tests/tenant.py): B's profiles."""

from __future__ import annotations

from bot.services import Services
from bot.usecase import run
from cogs.intros._profile import own_profile, view_profile
from cogs.intros._publish import update_availability
from tests.directory.factory import add_profile
from tests.tenant import Case, World, in_session

CASES = [
    Case("intros: /profile of a member id", "b_member",
         lambda s, c, i: in_session(s, lambda db: view_profile(db, c, i))),
    Case("intros: Edit button of a profile id", "b_profile",
         lambda s, c, i: in_session(s, lambda db: own_profile(db, c, i)), covers=("intros:edit:42",)),
    Case("intros: availability button of a profile id", "b_profile",
         lambda s, c, i: run(s, c, update_availability, "busy", None, profile_id=i),
         covers=("intros:avail:42:busy", "intros:avail:42:available")),
]

# The Discord form's steps: the groups name a field or a page of the caller's own draft.
WITHOUT_OBJECT_IDS = {
    **{f"intros:pick:{name}": "a field of the caller's own draft"
       for name in ("trades", "sectors", "work_mode", "availability", "languages", "opt_ins")},
    "intros:step:1": "a page of the caller's own form",
    "intros:step:2": "a page of the caller's own form",
}


async def seed(services: Services, world: World) -> None:
    """Listed profiles for everyone (the directory searches them); B's first member has a trade."""
    async with services.db.transaction() as session:
        for caller in (world.a, world.a_other, world.b_other):
            await add_profile(session, caller, skills=("figma",))
        profile = await add_profile(session, world.b, trades=("Développement",), skills=("figma",))
    world.ids.update(b_profile=profile.id)
