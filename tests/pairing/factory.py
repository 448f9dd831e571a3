"""Pairing test helpers: opted-in members with trades, and the community's pairing settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from bot.context import Caller
from bot.services import Services
from cogs.intros.models import Profile
from storage.settings import get_settings, write_feature_values
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller

PAIRING_CHANNEL = "C-PAIRING"


async def configure(
    services: Services, community_id: int, channel: str | None = PAIRING_CHANNEL, **values: Any
) -> None:
    settings = {
        "pairing.enabled": True,
        "pairing.cadence": "weekly",
        "pairing.day": "mon",
        "pairing.hour": 19,
        **{f"pairing.{k}": v for k, v in values.items()},
    }
    async with services.db.transaction() as session:
        (await get_settings(session, community_id)).pairing_channel_id = channel
        await write_feature_values(session, community_id, settings)


async def member(
    services: Services,
    user: str,
    trade: str | None = "Design graphique",
    *,
    opted: bool = True,
    guild: str = "g1",
    platform: str = "discord",
    moderator: bool = False,
) -> Caller:
    caller = await make_caller(
        services, user, name=f"Name {user}", guild=guild, platform=platform, moderator=moderator
    )
    async with services.db.transaction() as session:
        profile = await add_profile(session, caller, trades=(trade,) if trade else (), bio=f"Bio {user}")
        await session.execute(update(Profile).where(Profile.id == profile.id).values(opt_pairing=opted))
    return caller
