"""Reading a community's settings; a community without a settings row gets the defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import READ_ONLY
from storage.models import CommunitySettings, FeatureSetting
from storage.sql import dialect_insert, insert_ignore


async def get_settings(session: AsyncSession, community_id: int) -> CommunitySettings:
    """The settings row of a community, created with defaults on first use.

    In a read-only transaction (`Database.transaction(write=False)`) a missing row is not created: the
    defaults are returned unsaved, since an INSERT there would wait on SQLite's write lock.
    """
    row = await session.get(CommunitySettings, community_id)
    if row is None and session.info.get(READ_ONLY):
        return _defaults(community_id)
    if row is None:
        await insert_ignore(session, CommunitySettings.__table__, [{"community_id": community_id}])
        row = await session.get(CommunitySettings, community_id)
        assert row is not None
    return row


def _defaults(community_id: int) -> CommunitySettings:
    """A settings row as first use would store it, not added to any session."""
    values: dict[str, Any] = {}
    for column in CommunitySettings.__table__.columns:
        default = column.default
        if default is not None and column.key != "community_id":
            values[column.key] = default.arg(None) if default.is_callable else default.arg
    return CommunitySettings(community_id=community_id, **values)


async def feature_values(session: AsyncSession, community_id: int, keys: Iterable[str]) -> dict[str, Any]:
    """The stored values of these feature settings (absent keys: never set), unchecked.

    bot.settings_registry is the only reader: it checks each value against its spec.
    """
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await session.execute(
        select(FeatureSetting.key, FeatureSetting.value).where(
            FeatureSetting.community_id == community_id, FeatureSetting.key.in_(wanted)
        )
    )
    return {key: value for key, value in rows.all()}  # noqa: C416  (rows, not pairs, to a type checker)


async def write_feature_values(session: AsyncSession, community_id: int, values: Mapping[str, Any]) -> None:
    """Insert or replace feature settings (values already checked by their specs)."""
    for key, value in values.items():
        insert = dialect_insert(session, FeatureSetting).values(
            community_id=community_id, key=key, value=value
        )
        await session.execute(
            insert.on_conflict_do_update(index_elements=["community_id", "key"], set_={"value": value})
        )
