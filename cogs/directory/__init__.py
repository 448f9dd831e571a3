"""Directory: /members searches the listed profiles by trade, skill, sector, city and availability."""

from typing import Any

from bot.features import CommandSpec, Feature, HeldIds, PrivacyHook
from cogs.directory._cleanup import on_start
from cogs.directory._values import VALUES


async def _nothing_stored(*_args: Any) -> dict[str, Any]:
    return {}  # the directory stores nothing about a person: searches hold filters, not members


async def _nothing_to_delete(*_args: Any) -> None:
    return None


FEATURE = Feature(
    name="directory",
    package=__name__,
    commands=(CommandSpec("members", "directory", slack_usage="[trade:…] [skill:…] [city:…]"),),
    discord_extension="cogs.directory._discord",
    slack_listeners="cogs.directory._slack",
    models="cogs.directory.models",
    held_ids=(
        HeldIds("directory_queries", "filters", "trades", entry="trade_id", forget=True),
        HeldIds("directory_queries", "filters", "sectors", entry="sector_id", forget=True),
    ),
    on_start=on_start,
    # Its suggestions (cities, skills) are read from the profiles and kept in memory: dropped at once
    # when a member's data is deleted, or the community paused or purged.
    privacy=PrivacyHook(tables=(), export=_nothing_stored, delete=_nothing_to_delete, forget=VALUES.drop),
)
