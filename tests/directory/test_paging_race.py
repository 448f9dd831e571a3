"""Next clicked the moment the first page shows: the search, still being stored, is found in this process."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.services import Services
from bot.usecase import run
from cogs.directory._filters import Filters
from cogs.directory._search import SearchPage, find_members, turn_page
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for


async def test_next_before_the_search_is_stored_gets_page_two(services: Services) -> None:
    async with services.db.transaction() as session:
        me = await caller_for(session, "me")
        for i in range(7):
            member = await caller_for(session, f"m{i}")
            await add_profile(session, member, skills=("Figma",), city="Lyon")

    clicks: list[asyncio.Task[tuple[SearchPage, date]]] = []

    async def click_next(token: str) -> tuple[SearchPage, date]:
        return await run(services, me, turn_page, token, 2, write=False)

    async def respond(found: tuple[SearchPage, date]) -> None:
        # The member sees page 1 and clicks Next at once, while the search is not stored yet.
        clicks.append(asyncio.ensure_future(click_next(found[0].token)))
        await asyncio.sleep(0)

    first, _ = await run(services, me, find_members, Filters(skills=("figma",)), write=False,
                         respond=respond)
    second, _ = await clicks[0]

    assert first.total == 7 and len(first.hits) == 5
    assert second.page == 2 and len(second.hits) == 2
    assert {h.member_id for h in first.hits}.isdisjoint(h.member_id for h in second.hits)
