"""Settings that features declare: one `SettingSpec` per setting, read and checked through its kind.

A feature lists its settings in its `Feature(settings=…)`; `/config` on both platforms, `/config show`,
export / import, the audit log and validation all read these declarations:

    EXPIRY_WARNING = SettingSpec("missions.expiry_warning_days", Number(0, 14), default=2)
    FEATURE = Feature(name="missions", …, settings=(EXPIRY_WARNING,))
    …
    days = await read_setting(ctx.session, ctx.community_id, EXPIRY_WARNING)   # an int, 0..14

Names: the setting is called `config.setting.<key>` in the catalogs (the audit log and /config history
name a change that way), so a feature's catalog defines that key in French and English; the optional
help line is `config.setting_help.<key>`. A key starts with its feature's name (`missions.…`); the
settings config itself declares keep their historical names (`locale`, `channel.intros`, …).

Storage: the settings config declares are typed columns (`column=`, on `community_settings`, or on
`communities` for locale and time zone). A feature's settings are rows of `feature_settings`
(community, key, JSON value), written only through `check()` of their kind and checked again on
every read: a value that no longer fits (a bound tightened by a release, a choice removed) reads as
the default. This keeps the typing of columns without a core migration per feature setting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from storage.settings import feature_values

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


log = logging.getLogger(__name__)


# -- kinds: what a value is, and the check every stored value passes ------------------------------


@dataclass(frozen=True)
class Kind:
    """The type of a setting; `check` returns the value in its stored form or raises ValueError."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Flag(Kind):
    """On / off."""

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"not a bool: {value!r}")
        return value


@dataclass(frozen=True)
class Number(Kind):
    """A whole number between `low` and `high`; `unit` is a plural catalog key (`{count}`) to show it."""

    low: int
    high: int
    unit: str | None = None

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise ValueError(f"not a whole number in [{self.low}, {self.high}]: {value!r}")
        return value


@dataclass(frozen=True)
class Choice(Kind):
    """One of `values`; each is shown as the catalog message `<labels>.<value>`."""

    values: tuple[str, ...]
    labels: str
    error: str = "config.errors.choice"  # the refusal, with {value} and {allowed}

    def check(self, value: Any) -> str:
        if value not in self.values:
            raise ValueError(f"not one of {self.values}: {value!r}")
        return str(value)


@dataclass(frozen=True)
class Duration(Kind):
    """A delay in minutes between `low` and `high` (typed as "48h", "2 j", "1h30"); 0 may mean off."""

    low: int
    high: int

    def check(self, value: Any) -> int:
        return Number(self.low, self.high).check(value)


@dataclass(frozen=True)
class Text(Kind):
    """A short text (one line), empty allowed."""

    max_length: int = 200

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.max_length or "\n" in value:
            raise ValueError(f"not a one-line text of at most {self.max_length}: {value!r}")
        return value


@dataclass(frozen=True)
class Channel(Kind):
    """A channel of the community (its platform id), or none."""

    def check(self, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not value or len(value) > 64):
            raise ValueError(f"not a channel id: {value!r}")
        return value


# The kinds only config's own settings use (they are columns; their parsing needs config's catalog).
@dataclass(frozen=True)
class Timezone(Kind):
    def check(self, value: Any) -> str:
        return Text(64).check(value)


@dataclass(frozen=True)
class Offsets(Kind):
    """Reminder delays in minutes, largest first."""

    def check(self, value: Any) -> list[int]:
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise ValueError(f"not a list of minutes: {value!r}")
        return value


@dataclass(frozen=True)
class Role(Channel):
    """A Discord role id, or none."""


@dataclass(frozen=True)
class UserGroup(Channel):
    """A Slack user group id, or none."""


@dataclass(frozen=True)
class Users(Kind):
    """Slack member ids."""

    max_count: int = 25

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list) or len(value) > self.max_count:
            raise ValueError(f"not a list of at most {self.max_count} ids: {value!r}")
        return [str(v) for v in value]


# -- the declaration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    """One per-community setting (see the module docstring).

    `section`: a catalog key titling the /config show field that groups it (None: its own field).
    `toml`: its dotted place in the export file (default: the key). `column` / `on_community`:
    only for the settings config declares (typed columns); every other setting is a feature_settings row.
    """

    key: str
    kind: Kind
    default: Any = None
    platforms: tuple[str, ...] = ("discord", "slack")
    section: str | None = None
    toml: str = ""
    column: str | None = None
    on_community: bool = False
    label_key: str = field(default="", compare=False)
    help_key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "toml", self.toml or self.key)
        object.__setattr__(self, "label_key", self.label_key or f"config.setting.{self.key}")
        object.__setattr__(self, "help_key", self.help_key or f"config.setting_help.{self.key}")
        if self.column is None:
            self.kind.check(self.default)  # a default that its own kind refuses is a bug: fail at import

    @property
    def stored_as_row(self) -> bool:
        """Stored in feature_settings (not a typed column)."""
        return self.column is None

    def read(self, stored: Any) -> Any:
        """A stored value, checked again: one that no longer fits reads as the default."""
        try:
            return self.kind.check(stored)
        except ValueError:
            log.warning("setting %s: stored value %r no longer fits, using the default", self.key, stored)
            return self.default


class _Declares(Protocol):
    """A feature (bot.features.Feature), as far as settings go."""

    @property
    def name(self) -> str: ...
    @property
    def settings(self) -> tuple[SettingSpec, ...]: ...


def declared_settings(features: Iterable[_Declares]) -> dict[str, SettingSpec]:
    """Every declared setting by key, in feature order (config's first: it is the core's settings).

    Two features declaring one key, or one place in the export file, is an error.
    """
    found: dict[str, SettingSpec] = {}
    places: dict[str, str] = {}
    ordered = sorted(features, key=lambda f: f.name != "config")
    for feature in ordered:
        for spec in feature.settings:
            if spec.key in found:
                raise ValueError(f"setting {spec.key!r} declared twice")
            if spec.toml in places:
                raise ValueError(f"settings {places[spec.toml]!r} and {spec.key!r} share {spec.toml!r}")
            found[spec.key] = spec
            places[spec.toml] = spec.key
    return found


async def read_settings(
    session: AsyncSession, community_id: int, specs: Iterable[SettingSpec]
) -> dict[str, Any]:
    """The values of feature settings (rows) of a community, each checked by its spec; defaults filled."""
    wanted = [spec for spec in specs if spec.stored_as_row]
    stored: Mapping[str, Any] = await feature_values(session, community_id, [s.key for s in wanted])
    return {spec.key: spec.read(stored[spec.key]) if spec.key in stored else spec.default for spec in wanted}


async def read_setting(session: AsyncSession, community_id: int, spec: SettingSpec) -> Any:
    """One feature setting of a community, typed and checked by its spec."""
    return (await read_settings(session, community_id, [spec]))[spec.key]
