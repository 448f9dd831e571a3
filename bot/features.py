"""The feature registry: each cog package declares a `FEATURE`, the runtimes load them from here."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings_registry import SettingSpec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


# The order is the order of /help.
FEATURE_PACKAGES: tuple[str, ...] = (
    "cogs.help", "cogs.intros", "cogs.directory", "cogs.privacy", "cogs.config",
    "cogs.missions",
    "cogs.afterworks",
    "cogs.feedback",
    "cogs.matching",
    "cogs.pairing",
    "cogs.pooling",
)


@dataclass(frozen=True)
class CommandSpec:
    """A user-facing command, the same on both platforms.

    Discord: a slash command (or group) named `name`, localized through the catalog keys
    `<feature>.commands.<name>.name` / `.description`. Slack: `/collectif <name> …`.
    """

    name: str
    feature: str
    moderator_only: bool = False
    slack_usage: str = ""  # arguments shown in the Slack usage hint, e.g. "[member]"

    @property
    def name_key(self) -> str:
        return f"{self.feature}.commands.{self.name}.name"

    @property
    def description_key(self) -> str:
        return f"{self.feature}.commands.{self.name}.description"


@dataclass(frozen=True)
class PrivacyHook:
    """How a feature exports, deletes and purges what it stores about people.

    `tables` names every table of the feature that holds a person's data; a test fails when a
    table with a member column is covered by no feature.
    """

    tables: tuple[str, ...]
    export: Callable[[AsyncSession, int, int], Awaitable[dict[str, Any]]]  # (session, community, member)
    delete: Callable[[AsyncSession, int, int], Awaitable[None]]
    # Optional: ids of this feature's objects that outlive the member (kept for others, e.g. a mission
    # with candidates). Their cards (posts of feature `name`) are detached from the member before the
    # member's posts are removed, so they stay; `delete` then updates the object and its cards.
    keeps_posts: Callable[[AsyncSession, int, int], Awaitable[Iterable[int]]] | None = None
    # Optional: drops what this process keeps in memory from the member's data (community, member),
    # once the deletion committed, so that nothing of it is shown again; member None: everything of
    # the community's, once it is paused or purged (its id may then be given to another community).
    # Called through `forget_in_memory`.
    forget: Callable[[int, int | None], None] | None = None


@dataclass(frozen=True)
class HeldIds:
    """A column holding ids of a trade or sector without a foreign key, which a foreign key walk misses.

    `/config trade|sector remove` finds who uses a row, and merges it into another, by walking the
    foreign keys (cogs.config._merge); ids kept in a JSON list (the trades a candidacy covers), in a
    plain key (a month's kudos per trade) or in an entry of a JSON object (a stored search) are
    declared here, or a merge would leave them naming a row that no longer exists.
    """

    table: str
    column: str
    target: str  # the table whose ids it holds: "trades" or "sectors"
    entry: str = ""  # in a JSON object: the entry holding the id (or list of ids); "" the column itself
    # Counts added together when a merge makes two rows one (a unique constraint): kudos of both trades.
    adds: tuple[str, ...] = ()
    # A remembered search (paging buttons): rows naming the id are forgotten, not merged (their buttons
    # say to search again), and are no use of it.
    forget: bool = False


@dataclass(frozen=True)
class ShowsRows:
    """Cards of a feature showing a trade's or sector's name: refreshed when it is renamed or merged.

    `/config trade|sector rename`, and `remove … merge into`, queue the feature's card job `kind` in
    the change's own transaction (cogs.config._trades), one per object whose `column` names the row
    (after a merge: the row merged into), with the payload {`key`: object id, **`on_rename` or
    `on_merge`}: the platform is called by the jobs once the change committed, never waited for. A
    merge may move the cards (the other trade's channel), so its payload may differ from a rename's
    (which only edits them in place).
    """

    target: str  # the table whose ids `column` holds: "trades" or "sectors"
    column: str  # "table.column" naming the row, e.g. "profile_trades.trade_id"
    object_column: str  # "table.column" of the same table: the object whose cards show it
    kind: str  # the feature's card job
    key: str  # the payload entry holding the object id
    on_rename: tuple[tuple[str, Any], ...] = ()  # more payload entries after a rename
    on_merge: tuple[tuple[str, Any], ...] = ()  # more payload entries after a merge


@dataclass(frozen=True)
class Feature:
    """One cog package, the same feature on every platform.

    `name` is its namespace everywhere: catalog keys (`<name>.…`), action ids of cards, Discord
    router ids and Slack actions/views (`<name>:verb:…`), and its Alembic branch label.
    tests/test_features.py checks the features against each other once loaded together.
    """

    name: str
    package: str
    commands: tuple[CommandSpec, ...] = ()
    discord_extension: str | None = None  # a module with `async def setup(bot)`
    slack_listeners: str | None = None  # a module with `def register(router)` (bot.slack_app.router)
    privacy: PrivacyHook | None = None
    models: str | None = None  # the module holding the feature's tables, if any
    # Its columns holding trade or sector ids without a foreign key (see HeldIds).
    held_ids: tuple[HeldIds, ...] = ()
    # Its cards showing trade or sector names, refreshed when one is renamed or merged (see ShowsRows).
    shows: tuple[ShowsRows, ...] = ()
    # Per-community settings (bot.settings_registry): /config, export/import and the audit log read them.
    settings: tuple[SettingSpec, ...] = ()
    # Called in the transaction of an accepted settings change (/config, the Slack form, an import), with
    # (session, bot.services.Services, community id, the changed keys): what was planned from the old
    # values follows the new ones.
    on_settings_changed: Callable[..., Awaitable[None]] | None = None
    # Called once at start, before the scheduler starts (e.g. to register job kinds).
    on_start: Callable[..., Awaitable[None]] | None = None  # called with bot.services.Services
    # Called once the platforms are connected and the scheduler runs: one-off CPU work that would
    # otherwise fall on the first member's request (loading language data), kept out of the time to
    # READY. Synchronous, with bot.services.Services.
    warm_up: Callable[..., None] | None = None
    # Discord permissions the feature needs beyond the runtime's own (bot/discord_bot/invite.py), as
    # (discord.Permissions flag, why). The invite link asks for the union over the installed features,
    # and the README lists them with these reasons. (Slack scopes: router.need_scope in the Slack part.)
    discord_permissions: tuple[tuple[str, str], ...] = ()
    # Gateway intents beyond `guilds` (bot/discord_bot/client.py), as (discord.Intents flag, why).
    discord_intents: tuple[tuple[str, str], ...] = ()

    @property
    def locales(self) -> Path:
        module = importlib.import_module(self.package)
        assert module.__file__ is not None
        return Path(module.__file__).with_name("locales")


def load_features(packages: Iterable[str] = FEATURE_PACKAGES) -> list[Feature]:
    """The `FEATURE` of each package, in order."""
    return [importlib.import_module(p).FEATURE for p in packages]


def all_commands(features: Iterable[Feature]) -> list[CommandSpec]:
    """Every command of these features, in feature order (the order of /help)."""
    return [c for f in features for c in f.commands]


def forget_in_memory(features: Iterable[Feature], community_id: int, member_id: int | None = None) -> None:
    """Every feature's `PrivacyHook.forget`: one member's data, or (member None) the whole community's."""
    for feature in features:
        if feature.privacy is not None and feature.privacy.forget is not None:
            feature.privacy.forget(community_id, member_id)


def locale_folders(features: Iterable[Feature]) -> list[Path]:
    return [Path(__file__).with_name("locales"), *(f.locales for f in features)]
