"""What each kind of declared setting means to people: reading typed text, showing, exporting, auditing.

`parse` turns what a moderator typed (or a value of an imported file) into the value the kind checks
and stores, or raises `Bad` with a catalog key saying why; `display` shows a value in a language;
`export` is its form in the TOML file (read back by `parse`); `raw` is its form in the audit log.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.settings_registry import (
    Channel,
    Choice,
    Duration,
    Flag,
    Kind,
    Number,
    Offsets,
    Role,
    SettingSpec,
    Text,
    Timezone,
    UserGroup,
    Users,
)
from bot.words import catalog_words, match_word
from cogs.config import _refs
from cogs.config._durations import (
    OffsetError,
    compact,
    format_offset,
    format_offsets,
    parse_duration,
    parse_offsets,
)

if TYPE_CHECKING:
    from cogs.config._context import ConfigContext

CLEAR = {"", "-", "none", "aucun", "aucune", "off"}
FLAG_WORDS = {"on": "config.values.on", "off": "config.values.off"}
_TRUE = {"on", "true", "yes", "1", "oui", "vrai"}
_FALSE = {"off", "false", "no", "0", "non", "faux"}


class Bad(Exception):
    """A value refused by a parser: the catalog key and values of the reason."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


@functools.cache
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def accepts(kind: Kind, raw: Any) -> bool:
    """Whether a value of an imported file has a type this kind reads (a text always does)."""
    if isinstance(raw, dict | float):
        return False
    if isinstance(raw, bool):
        return isinstance(kind, Flag)
    if isinstance(raw, list):
        return isinstance(kind, Offsets | Users)
    return True


async def parse(ctx: ConfigContext, spec: SettingSpec, raw: Any) -> Any:
    """The stored value for `raw`, checked by the spec's kind; Bad when it is not one."""
    value = await _parse(ctx, spec.kind, raw)
    try:
        return spec.kind.check(value)
    except ValueError:  # a parser above let through what its kind refuses: say which values fit
        raise Bad("config.errors.invalid") from None


async def _parse(ctx: ConfigContext, kind: Kind, raw: Any) -> Any:
    if isinstance(kind, Flag):
        return _flag(ctx, raw)
    if isinstance(kind, Number):
        return _number(kind.low, kind.high, raw)
    if isinstance(kind, Duration):
        return _duration(ctx, kind, raw)
    if isinstance(kind, Choice):
        return _choice(ctx, kind, raw)
    if isinstance(kind, Text):
        text = _text(raw)
        if len(text) > kind.max_length or "\n" in text:
            raise Bad("config.errors.text", max=kind.max_length)
        return text
    if isinstance(kind, Timezone):
        found = _zones().get(_text(raw).casefold())
        if found is None:
            raise Bad("config.errors.timezone", value=_text(raw))
        return found
    if isinstance(kind, Offsets):
        if isinstance(raw, list | tuple):
            raw = ", ".join(str(item) for item in raw)
        try:
            return parse_offsets(_text(raw))
        except OffsetError as exc:
            raise Bad(exc.key, **exc.params) from exc
    if isinstance(kind, Users):
        return _users(kind, raw)
    text = _text(raw)
    if text.casefold() in CLEAR:
        return None
    if isinstance(kind, Role):
        found = await _named(ctx.directory.role, text)
        if found is None:
            raise Bad("config.errors.unknown_role", role=text)
        return found
    if isinstance(kind, UserGroup):
        found = await ctx.directory.usergroup(text)
        if found is None:
            raise Bad("config.errors.unknown_usergroup", group=text)
        return found
    if isinstance(kind, Channel):
        found = await _named(ctx.directory.channel, text)
        if found is None:
            raise Bad("config.errors.unknown_channel", channel=text)
        return found
    raise TypeError(f"no parser for {kind!r}")


async def _named(find: Callable[[str], Awaitable[str | None]], text: str) -> str | None:
    """The channel or role `text` names, or None.

    The id an export wrote beside the name when it is one of this community's (two channels may share
    the name), else the name, id or mention as typed.
    """
    name, known = _refs.split_exported(text)
    if known is not None:
        try:
            found = await find(known)
        except Bad:  # not a channel of the kind here: the name says which one is meant
            found = None
        if found is not None:
            return found
    return await find(name)


def _flag(ctx: ConfigContext, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).casefold()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    found = match_word(text, catalog_words(ctx.catalog, FLAG_WORDS))
    if found is None:
        on, off = ctx.t("config.values.on"), ctx.t("config.values.off")
        raise Bad("config.errors.flag", on=on, off=off)
    return found == "on"


def _number(low: int, high: int, raw: Any) -> int:
    if isinstance(raw, bool):
        raise Bad("config.errors.number", low=low, high=high)
    try:
        value = raw if isinstance(raw, int) else int(_text(raw))
    except ValueError:
        raise Bad("config.errors.number", low=low, high=high) from None
    if not low <= value <= high:
        raise Bad("config.errors.number", low=low, high=high)
    return value


def _duration(ctx: ConfigContext, kind: Duration, raw: Any) -> int:
    def bounds() -> dict[str, str]:
        return {
            "low": format_offset(ctx.catalog, ctx.caller.locale, kind.low) if kind.low else "0",
            "high": format_offset(ctx.catalog, ctx.caller.locale, kind.high),
        }

    if isinstance(raw, bool):
        raise Bad("config.errors.duration", **bounds())
    if kind.low == 0 and not isinstance(raw, int) and _off(ctx, _text(raw)):
        return 0  # what `display` shows for 0 ("off", "désactivé") reads back as 0
    try:
        minutes = raw if isinstance(raw, int) else parse_duration(_text(raw))
    except OffsetError as exc:
        raise Bad(exc.key, **exc.params) from exc
    if not kind.low <= minutes <= kind.high:
        raise Bad("config.errors.duration", **bounds())
    return minutes


def _off(ctx: ConfigContext, text: str) -> bool:
    """A word clearing a setting, or the "off" shown for a delay of 0, in any language."""
    off = catalog_words(ctx.catalog, {"off": FLAG_WORDS["off"]})
    return text.casefold() in CLEAR or match_word(text, off) is not None


def _choice(ctx: ConfigContext, kind: Choice, raw: Any) -> str:
    text = _text(raw)
    folded = text.casefold().replace("_", "-")
    for candidate in (folded, folded.split("-")[0]):  # "en-US" is the language "en"
        if candidate in kind.values:
            return candidate
    found = match_word(text, catalog_words(ctx.catalog, {v: f"{kind.labels}.{v}" for v in kind.values}))
    if found is None:
        allowed = ", ".join(ctx.t(f"{kind.labels}.{v}") for v in kind.values)  # what a reader may type
        raise Bad(kind.error, value=text, allowed=allowed)
    return found


def _users(kind: Users, raw: Any) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else _text(raw).replace(",", " ").split()
    users: list[str] = []
    for item in items:
        found = _refs.slack_user_id(str(item))
        if found is None:
            raise Bad("config.errors.unknown_user", user=str(item))
        if found not in users:
            users.append(found)
    if len(users) > kind.max_count:
        raise Bad("config.errors.too_many_users", max=kind.max_count)
    return users


async def display(ctx: ConfigContext, spec: SettingSpec, value: Any, locale: str) -> str:
    """A value as a reader of `locale` sees it: channels and roles as mentions, delays in words."""
    t = functools.partial(ctx.catalog.t, locale)
    kind = spec.kind
    if isinstance(kind, Flag):
        return t("config.values.on" if value else "config.values.off")
    if isinstance(kind, Duration):
        return format_offset(ctx.catalog, locale, value) if value else t("config.values.off")
    if value is None or value == "" or value == []:
        return t("common.none")
    if isinstance(kind, Number):
        return t(kind.unit, count=value) if kind.unit else str(value)
    if isinstance(kind, Choice):
        return t(f"{kind.labels}.{value}")
    if isinstance(kind, Offsets):
        return format_offsets(ctx.catalog, locale, value)
    if isinstance(kind, Users):
        return ", ".join([await ctx.directory.user_label(u) for u in value])
    if isinstance(kind, Role):
        return await ctx.directory.role_label(value)
    if isinstance(kind, UserGroup):
        return str(value)
    if isinstance(kind, Channel):
        return await ctx.directory.channel_label(value)
    return str(value)


async def export(ctx: ConfigContext, spec: SettingSpec, value: Any) -> Any:
    """The value in the TOML file: channels and roles by name where the platform has one (_refs.exported)."""
    kind = spec.kind
    if isinstance(kind, Offsets):
        return [compact(m) for m in value]
    if isinstance(kind, Duration):
        return compact(value)
    if isinstance(kind, Users):
        return list(value)
    if value is None:
        return ""
    if isinstance(kind, Role):
        name = await ctx.directory.role_name(value)
        return _refs.exported(ctx.platform, "@", name, value) if name else value
    if isinstance(kind, Channel) and not isinstance(kind, UserGroup):
        name = await ctx.directory.channel_name(value)
        return _refs.exported(ctx.platform, "#", name, value) if name else value
    return value


def raw(spec: SettingSpec, value: Any) -> str:
    """How a value is written in the audit log."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(spec.kind, Flag):
        return "✓" if value else "✗"
    if isinstance(spec.kind, Duration):
        return compact(value)
    return str(value)


def from_raw(spec: SettingSpec, text: str) -> Any:
    """The value an audit entry wrote with `raw` (None when it no longer reads as one)."""
    kind = spec.kind
    try:
        if isinstance(kind, Flag):
            return text == "✓"
        if isinstance(kind, Duration):
            return parse_duration(text)
        if isinstance(kind, Offsets):
            return [int(m) for m in text.split(",") if m]
        if isinstance(kind, Users):
            return [u for u in text.split(",") if u]
        if isinstance(kind, Number):
            return int(text)
    except (OffsetError, ValueError):
        return None
    return text
