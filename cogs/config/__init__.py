"""Per-community settings and moderation: /config, the audit log, trades, sectors, packs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import CommandSpec, Feature, PrivacyHook
from cogs.config._audit import export_member, forget_member
from cogs.config._declared import CORE_SETTINGS
from cogs.config._moderation import REMOVE as REMOVE_POST_JOB  # noqa: F401  (privacy queues it)
from cogs.config._moderation import register_jobs as register_removals
from cogs.config._packs import DEFAULT_PACKS
from cogs.config._usergroup import register_jobs as register_refreshes

if TYPE_CHECKING:
    from bot.services import Services


async def register_jobs(services: Services) -> None:
    """The feature's job kinds: the Slack moderator group's refresh, a removed post's deletion."""
    await register_refreshes(services)
    register_removals(services)


FEATURE = Feature(
    name="config",
    package=__name__,
    commands=(CommandSpec("config", "config", moderator_only=True, slack_usage="[show|history|…]"),),
    discord_extension="cogs.config._discord",
    slack_listeners="cogs.config._slack",
    models="cogs.config.models",
    privacy=PrivacyHook(tables=("audit_entries",), export=export_member, delete=forget_member),
    settings=CORE_SETTINGS,
    on_start=register_jobs,
)


def default_packs(locale: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The packs a community starts with, (name, trade names), before /config pack first creates them."""
    return DEFAULT_PACKS.get(locale, DEFAULT_PACKS["en"])
