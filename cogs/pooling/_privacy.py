"""Pooling's privacy hook: group purchases and the rota.

Group purchases organized, joined and payments ticked; the rota's volunteering, turns held or declined,
tasks defined, turn reminders DM'd.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cogs.pooling import _pools, _rota

TABLES = ("pools", "pool_members", "pool_deliveries", "rota_tasks", "rota_volunteers", "rota_turns",
          "rota_deliveries")


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    return {**await _pools.export_member(session, community_id, member_id),
            "rota": await _rota.export_member(session, community_id, member_id)}


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    from bot.clock import SystemClock

    await _pools.delete_member(session, community_id, member_id)
    await _rota.delete_member(session, community_id, member_id, SystemClock().now())
