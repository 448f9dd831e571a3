"""Scalar settings: channels, language, time zone, reminders, limits, moderators, purge delay.

Concurrency policy: every write is a compare-and-set on `community_settings.version`
(`UPDATE … WHERE version = :seen`, then `version + 1`). A single-setting command reads and writes in
one transaction; the Slack settings modal carries the version it showed, so a modal submitted after
another moderator's change is refused (`config.errors.conflict`) instead of overwriting it. Nothing
is ever overwritten silently, and every accepted change is audited with its real old value.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.cards import Card, Field
from bot.config import SUPPORTED_LOCALES
from bot.errors import InvalidInput, UserError
from cogs.config import _refs
from cogs.config._audit import display_value, record
from cogs.config._context import ConfigContext, action
from cogs.config._durations import OffsetError, parse_offsets
from storage.models import Community, CommunitySettings
from storage.settings import get_settings

CHANNELS: dict[str, str] = {
    "intros": "intro_channel_id",
    "missions": "missions_channel_id",
    "afterworks": "afterworks_channel_id",
    "feedback": "feedback_channel_id",
    "pairing": "pairing_channel_id",
    "modlog": "modlog_channel_id",
}
LIMITS: dict[str, tuple[int, int]] = {
    "missions_per_week": (1, 50),
    "feedback_per_week": (1, 50),
    "intro_repost_days": (0, 365),
}
GRACE_DAYS = (1, 365)
MAX_MODERATOR_USERS = 25
_CLEAR = {"", "-", "none", "aucun", "aucune", "off"}


class Bad(Exception):
    """A value refused by a parser: the catalog key and values of the reason."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


Parser = Callable[[ConfigContext, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Spec:
    """A setting: where it is stored, how text becomes its value, and how the value is audited."""

    name: str
    column: str
    parse: Parser
    on_community: bool = False  # stored on `communities` (locale, time zone), still versioned here
    platforms: tuple[str, ...] = ("discord", "slack")


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


async def _channel(ctx: ConfigContext, raw: Any) -> str | None:
    text = _text(raw)
    if text.casefold() in _CLEAR:
        return None
    found = await ctx.directory.channel(text)
    if found is None:
        raise Bad("config.errors.unknown_channel", channel=text)
    return found


async def _locale(ctx: ConfigContext, raw: Any) -> str:
    text = _text(raw).casefold().replace("_", "-").split("-")[0]
    if text not in SUPPORTED_LOCALES:
        raise Bad("config.errors.locale", value=_text(raw), allowed=", ".join(SUPPORTED_LOCALES))
    return text


@functools.cache
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


async def _timezone(ctx: ConfigContext, raw: Any) -> str:
    text = _text(raw)
    found = _zones().get(text.casefold())
    if found is None:
        raise Bad("config.errors.timezone", value=text)
    return found


async def _offsets(ctx: ConfigContext, raw: Any) -> list[int]:
    if isinstance(raw, list | tuple):
        raw = ", ".join(str(item) for item in raw)
    try:
        return parse_offsets(_text(raw))
    except OffsetError as exc:
        raise Bad(exc.key, **exc.params) from exc


def _int_between(low: int, high: int) -> Parser:
    async def parse(ctx: ConfigContext, raw: Any) -> int:
        if isinstance(raw, bool):
            raise Bad("config.errors.number", low=low, high=high)
        try:
            value = int(raw) if isinstance(raw, int) else int(_text(raw))
        except ValueError:
            raise Bad("config.errors.number", low=low, high=high) from None
        if not low <= value <= high:
            raise Bad("config.errors.number", low=low, high=high)
        return value

    return parse


async def _role(ctx: ConfigContext, raw: Any) -> str | None:
    text = _text(raw)
    if text.casefold() in _CLEAR:
        return None
    found = await ctx.directory.role(text)
    if found is None:
        raise Bad("config.errors.unknown_role", role=text)
    return found


async def _users(ctx: ConfigContext, raw: Any) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else _text(raw).replace(",", " ").split()
    users: list[str] = []
    for item in items:
        found = _refs.slack_user_id(str(item))
        if found is None:
            raise Bad("config.errors.unknown_user", user=str(item))
        if found not in users:
            users.append(found)
    if len(users) > MAX_MODERATOR_USERS:
        raise Bad("config.errors.too_many_users", max=MAX_MODERATOR_USERS)
    return users


async def _usergroup(ctx: ConfigContext, raw: Any) -> str | None:
    text = _text(raw)
    if text.casefold() in _CLEAR:
        return None
    found = await ctx.directory.usergroup(text)
    if found is None:
        raise Bad("config.errors.unknown_usergroup", group=text)
    return found


SETTINGS: dict[str, Spec] = {
    **{f"channel.{kind}": Spec(f"channel.{kind}", column, _channel) for kind, column in CHANNELS.items()},
    "locale": Spec("locale", "locale", _locale, on_community=True),
    "timezone": Spec("timezone", "timezone", _timezone, on_community=True),
    "reminders": Spec("reminders", "reminder_offsets_minutes", _offsets),
    **{
        f"limit.{name}": Spec(f"limit.{name}", name, _int_between(*bounds)) for name, bounds in LIMITS.items()
    },
    "moderators.role": Spec("moderators.role", "moderator_role_id", _role, platforms=("discord",)),
    "moderators.users": Spec("moderators.users", "moderator_user_ids", _users, platforms=("slack",)),
    "moderators.usergroup": Spec(
        "moderators.usergroup", "moderator_usergroup_id", _usergroup, platforms=("slack",)
    ),
    "purge_grace_days": Spec("purge_grace_days", "purge_grace_days", _int_between(*GRACE_DAYS)),
}


def settings_for(platform: str) -> list[Spec]:
    return [spec for spec in SETTINGS.values() if platform in spec.platforms]


def raw_value(value: Any) -> str:
    """How a value is stored in the audit log."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


async def parse_all(ctx: ConfigContext, values: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Every value parsed, or one InvalidInput naming every wrong setting (nothing applied)."""
    parsed: dict[str, Any] = {}
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, raw in values.items():
        spec = SETTINGS.get(name)
        if spec is None or ctx.platform not in spec.platforms:
            problems[name] = ("config.errors.unknown_setting", {"key": prefix + name})
            continue
        try:
            parsed[name] = await spec.parse(ctx, raw)
        except Bad as bad:
            label = prefix + name if prefix else ctx.t(f"config.setting.{name}")
            problems[name] = ("config.errors.at_key", {"key": label, "reason": ctx.t(bad.key, **bad.params)})
    if problems:
        raise InvalidInput(problems)
    return parsed


def current(row: CommunitySettings, community: Community, spec: Spec) -> Any:
    return getattr(community if spec.on_community else row, spec.column)


async def apply(
    ctx: ConfigContext, values: Mapping[str, Any], *, expected_version: int | None = None
) -> list[tuple[str, Any, Any]]:
    """Store parsed values with one compare-and-set; audit each real change. Returns (name, old, new)."""
    row = await get_settings(ctx.session, ctx.community_id)
    seen = row.version if expected_version is None else expected_version
    changes = [
        (name, current(row, ctx.community, SETTINGS[name]), value)
        for name, value in values.items()
        if current(row, ctx.community, SETTINGS[name]) != value
    ]
    if not changes:
        return []
    own = {SETTINGS[n].column: new for n, _, new in changes if not SETTINGS[n].on_community}
    if "moderator_usergroup_id" in own:  # the old group's members are moderators no more
        own["moderator_usergroup_user_ids"] = []
    result = await ctx.session.execute(
        update(CommunitySettings)
        .where(CommunitySettings.community_id == ctx.community_id, CommunitySettings.version == seen)
        .values(**own, version=CommunitySettings.version + 1, updated_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("config.errors.conflict")
    for column, value in {**own, "version": seen + 1}.items():
        set_committed_value(row, column, value)
    shared = {SETTINGS[n].column: new for n, _, new in changes if SETTINGS[n].on_community}
    if shared:
        await ctx.session.execute(
            update(Community)
            .where(Community.id == ctx.community_id)
            .values(**shared)
            .execution_options(synchronize_session=False)
        )
        for column, value in shared.items():
            set_committed_value(ctx.community, column, value)
    for name, old, new in changes:
        await record(ctx, name, raw_value(old), raw_value(new))
    return changes


async def changes_card(ctx: ConfigContext, changes: list[tuple[str, Any, Any]]) -> Card:
    if not changes:
        return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.unchanged"))
    locale = ctx.caller.locale
    fields = []
    for name, old, new in changes:
        fields.append(
            Field(
                ctx.t(f"config.setting.{name}"),
                ctx.t(
                    "config.done.change",
                    old=await display_value(ctx, name, raw_value(old), locale),
                    new=await display_value(ctx, name, raw_value(new), locale),
                ),
            )
        )
    return Card(title=ctx.t("config.done.title"), fields=tuple(fields))


@action("set")
async def set_setting(
    ctx: ConfigContext, name: str, raw: Any, *, expected_version: int | None = None
) -> Card:
    """One setting from a command (`/config locale en`, `/collectif config timezone Europe/Paris`)."""
    parsed = await parse_all(ctx, {name: raw})
    return await changes_card(ctx, await apply(ctx, parsed, expected_version=expected_version))


@action("update")
async def update_settings(
    ctx: ConfigContext, values: Mapping[str, Any], *, expected_version: int | None = None
) -> Card:
    """Several settings at once (the Slack settings modal): all valid and applied, or none.

    Values the form sends back unchanged are not parsed again: validating a channel asks the
    platform (one API call each), and the form must be answered within Slack's 3 s.
    """
    row = await get_settings(ctx.session, ctx.community_id)
    values = {
        name: raw
        for name, raw in values.items()
        if not (
            (spec := SETTINGS.get(name)) is not None
            and ctx.platform in spec.platforms
            and raw is not None
            and raw == current(row, ctx.community, spec)
        )
    }
    parsed = await parse_all(ctx, values)
    return await changes_card(ctx, await apply(ctx, parsed, expected_version=expected_version))


async def settings_version(ctx: ConfigContext) -> int:
    return (await get_settings(ctx.session, ctx.community_id)).version


async def set_usergroup_members(
    session: AsyncSession, community_id: int, group_id: str, user_ids: list[str]
) -> bool:
    """Store the Slack moderator group's members (as Slack reports them) if it is still the group."""
    result = await session.execute(
        update(CommunitySettings)
        .where(
            CommunitySettings.community_id == community_id,
            CommunitySettings.moderator_usergroup_id == group_id,
        )
        .values(moderator_usergroup_user_ids=sorted(set(user_ids)))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SettingsForm:
    """What a settings form shows: the current values, and the version they were read at."""

    version: int
    values: dict[str, Any]


@action("form")
async def settings_form(ctx: ConfigContext) -> SettingsForm:
    """The current settings of this platform, for a form submitted later with `expected_version`."""
    row = await get_settings(ctx.session, ctx.community_id)
    values = {spec.name: current(row, ctx.community, spec) for spec in settings_for(ctx.platform)}
    return SettingsForm(row.version, values)
