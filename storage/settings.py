"""Reading a community's settings; a community without a settings row gets the defaults."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CommunitySettings
from storage.sql import insert_ignore


async def get_settings(session: AsyncSession, community_id: int) -> CommunitySettings:
    """The settings row of a community, created with defaults on first use."""
    row = await session.get(CommunitySettings, community_id)
    if row is None:
        await insert_ignore(session, CommunitySettings.__table__, [{"community_id": community_id}])
        row = await session.get(CommunitySettings, community_id)
        assert row is not None
    return row
