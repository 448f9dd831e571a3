"""The settings config itself declares: the core's typed columns, on the same declarations as features'."""

from __future__ import annotations

from bot.config import SUPPORTED_LOCALES
from bot.settings_registry import (
    Channel,
    Choice,
    Number,
    Offsets,
    Role,
    SettingSpec,
    Timezone,
    UserGroup,
    Users,
)

MAX_MODERATOR_USERS = 25
_CHANNELS = "config.show.channels"
_LIMITS = "config.show.limits"
MODERATORS = "config.show.moderators"


def _channel(kind: str, column: str) -> SettingSpec:
    return SettingSpec(
        f"channel.{kind}", Channel(), section=_CHANNELS, toml=f"channels.{kind}", column=column
    )


def _limit(name: str, low: int, high: int, default: int) -> SettingSpec:
    return SettingSpec(
        f"limit.{name}", Number(low, high), default, section=_LIMITS, toml=f"limits.{name}", column=name
    )


# The order is the order of /config show, of the Slack settings form and of the export file.
CORE_SETTINGS: tuple[SettingSpec, ...] = (
    _channel("intros", "intro_channel_id"),
    _channel("missions", "missions_channel_id"),
    _channel("afterworks", "afterworks_channel_id"),
    _channel("feedback", "feedback_channel_id"),
    _channel("pairing", "pairing_channel_id"),
    _channel("modlog", "modlog_channel_id"),
    SettingSpec(
        "locale",
        Choice(SUPPORTED_LOCALES, labels="config.language", error="config.errors.locale"),
        "fr",
        column="locale",
        on_community=True,
    ),
    SettingSpec("timezone", Timezone(), "Europe/Paris", column="timezone", on_community=True),
    SettingSpec("reminders", Offsets(), [1440, 60], column="reminder_offsets_minutes"),
    _limit("missions_per_week", 1, 50, 3),
    _limit("feedback_per_week", 1, 50, 3),
    _limit("intro_repost_days", 0, 365, 7),
    SettingSpec(
        "moderators.role", Role(), section=MODERATORS, platforms=("discord",), column="moderator_role_id"
    ),
    SettingSpec(
        "moderators.users",
        Users(MAX_MODERATOR_USERS),
        [],
        section=MODERATORS,
        platforms=("slack",),
        column="moderator_user_ids",
    ),
    SettingSpec(
        "moderators.usergroup",
        UserGroup(),
        section=MODERATORS,
        platforms=("slack",),
        column="moderator_usergroup_id",
    ),
    SettingSpec(
        "purge_grace_days", Number(1, 365, unit="config.units.day_count"), 30, column="purge_grace_days"
    ),
)

# The kinds of channel and of limit, as the bindings name them (`/config channel which:`, `limit`).
CHANNELS: dict[str, SettingSpec] = {
    s.key.removeprefix("channel."): s for s in CORE_SETTINGS if s.key.startswith("channel.")
}
# What `/config channel` sets, by kind: config's channels and the channel settings features declare
# (tests/config/test_declared_settings.py checks each key is a declared channel setting).
CHANNEL_KINDS: dict[str, str] = {
    **{kind: s.key for kind, s in CHANNELS.items()},
    "pooling": "pooling.channel",
}
LIMITS: dict[str, SettingSpec] = {
    s.key.removeprefix("limit."): s for s in CORE_SETTINGS if s.key.startswith("limit.")
}
