"""The intro form's trades and sectors: one statement, in the community's order, never another's."""

from __future__ import annotations

from sqlalchemy import update

from cogs.intros._form import trade_and_sector_choices
from storage.communities import ensure_community, sectors, trades
from storage.engine import Database
from storage.models import Trade


async def test_trades_then_sectors_in_their_order_and_only_the_community_s(db: Database) -> None:
    async with db.transaction() as session:
        ours = (await ensure_community(session, "discord", "1")).id
        theirs = (await ensure_community(session, "discord", "2", locale="en")).id
        # Reordered: the last trade first, so the order comes from the positions, not the ids.
        last = max(t.id for t in await trades(session, ours))
        await session.execute(update(Trade).where(Trade.id == last).values(position=-1))
    async with db.transaction(write=False) as session:
        for community in (ours, theirs):
            found = await trade_and_sector_choices(session, community)
            expected = ([(str(t.id), t.name) for t in await trades(session, community)],
                        [(str(s.id), s.name) for s in await sectors(session, community)])
            assert found == expected
            assert found[0] and found[1]
        assert (await trade_and_sector_choices(session, ours))[0][0][0] == str(last)
        assert not {v for v, _ in (await trade_and_sector_choices(session, ours))[0]} & {
            str(t.id) for t in await trades(session, theirs)}
