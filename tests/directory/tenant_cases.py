"""The directory's cases for tests/test_tenant_isolation.py (registry: tests/tenant.py): B's searches."""

from __future__ import annotations

from bot.errors import InvalidInput
from bot.services import Services
from cogs.directory._filters import Filters
from cogs.directory._search import search_members, search_page
from storage.communities import trades
from tests.tenant import Case, World, in_session, today

CASES = [
    Case("directory: paging button of a search token", "b_token",
         lambda s, c, i: in_session(s, lambda db: search_page(db, c, i, 2, today=today(s, c))),
         missing="0123456789abcdef", covers=("directory:page:2:0123456789abcdef",)),
    Case("directory: /members trade option with a trade id", "b_trade",
         lambda s, c, i: in_session(s, lambda db: search_members(db, c, Filters(trade=str(i)),
                                                                  today=today(s, c))),
         error=InvalidInput),
]


async def seed(services: Services, world: World) -> None:
    """A search of B with a next page (intros' seed gave B two listed profiles)."""
    async with services.db.transaction() as session:
        found = await search_members(session, world.b, Filters(skills=("figma",)), page_size=1,
                                     today=today(services, world.b))
        world.ids.update(b_token=found.token, b_trade=(await trades(session, world.b.community_id))[0].id)
