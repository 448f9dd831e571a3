"""The config feature's cases for tests/test_tenant_isolation.py: B's trade, sector, pack and post.

The registry and its fields: tests/tenant.py.

(A message link naming another server is refused the same way: tests/config/test_moderation.py.)

The caller is A's member made a moderator, so that the refusal tested is "not in this community",
not "not a moderator".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller
from bot.services import Services
from cogs.config._context import run
from cogs.config._moderation import remove_post
from cogs.config._packs import _write_pack, ensure_default_packs, remove_pack
from cogs.config._trades import bind_trade, remove_sector, remove_trade, rename_trade
from storage.models import Post, Sector, Trade
from tests.tenant import Case, World

B_CHANNEL = "100000000000000077"


def _as_moderator(caller: Caller) -> Caller:
    return dataclasses.replace(caller, is_moderator=True)


async def seed(services: Services, world: World) -> None:
    async with services.db.transaction() as session:
        world.ids.update(await _seed_b(session, world.b))


async def _seed_b(session: AsyncSession, b: Caller) -> dict[str, Any]:
    session.add(Trade(community_id=b.community_id, key="only in b", name="Only in B", position=99))
    session.add(Sector(community_id=b.community_id, key="b sector", name="B sector", position=99))
    session.add(Post(community_id=b.community_id, member_id=b.member_id, feature="intros", object_id=1,
                     channel_id=B_CHANNEL, message_id="200000000000000077"))
    await ensure_default_packs(session, b.community_id, "fr")
    await session.flush()
    trade_id = await session.scalar(select(Trade.id).where(Trade.community_id == b.community_id))
    await _write_pack(session, b.community_id, "Pack of B", [trade_id], 9)
    return {
        "b_trade_name": "Only in B",
        "b_sector_name": "B sector",
        "b_pack_name": "Pack of B",
        "b_post": (B_CHANNEL, "200000000000000077"),
    }


def _call(use_case: Any, *extra: Any) -> Callable[[Services, Caller, Any], Awaitable[object]]:
    def call(services: Services, caller: Caller, target: Any) -> Awaitable[object]:
        args = target if isinstance(target, tuple) else (target,)
        return run(services, _as_moderator(caller), use_case, *args, *extra)

    return call


CASES = [
    Case("config: rename a trade by name", "b_trade_name", _call(rename_trade, "Mine"), "Nowhere"),
    Case("config: remove a trade by name", "b_trade_name", _call(remove_trade), "Nowhere"),
    Case("config: bind a trade by name", "b_trade_name", _call(bind_trade, "-"), "Nowhere"),
    Case("config: remove a sector by name", "b_sector_name", _call(remove_sector), "Nowhere"),
    Case("config: remove a pack by name", "b_pack_name", _call(remove_pack), "Nowhere"),
    Case("config: remove a post by channel and message id", "b_post", _call(remove_post, "spam"),
         (B_CHANNEL, "200000000000000099"),
         covers=(f"config:removepost:{B_CHANNEL}:200000000000000077",  # Discord: channel, message ids
                 "config:removepost:C0B:1700000000.000100")),  # Slack: channel id, message ts
]
