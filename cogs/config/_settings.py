"""Every declared setting (config's own and features'): parsed, compared, stored, audited — one way.

The declarations are `bot.settings_registry.SettingSpec`s (config's in `_declared`, a feature's in its
`Feature(settings=…)`); each kind's parsing, display and export are in `_values`.

Concurrency policy: every write is a compare-and-set on `community_settings.version`
(`UPDATE … WHERE version = :seen`, then `version + 1`). A single-setting command reads and writes in
one transaction; the Slack settings modal carries the version it showed, so a modal submitted after
another moderator's change is refused (`config.errors.conflict`) instead of overwriting it. Nothing
is ever overwritten silently, and every accepted change is audited with its real old value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.cards import Card, Field
from bot.errors import InvalidInput, UserError
from bot.settings_registry import SettingSpec, declared_settings, read_settings
from bot.words import catalog_words, match_word
from cogs.config import _values
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action
from cogs.config._declared import CHANNELS, LIMITS, MAX_MODERATOR_USERS
from cogs.config._values import CLEAR, Bad
from storage.models import Community, CommunitySettings
from storage.settings import get_settings, write_feature_values

__all__ = ["CHANNELS", "CLEAR", "LIMITS", "MAX_MODERATOR_USERS", "Bad", "SettingSpec"]


def declared(ctx: ConfigContext) -> dict[str, SettingSpec]:
    """Every setting the loaded features declare, config's first."""
    return declared_settings(ctx.services.features)


def settings_for(ctx: ConfigContext) -> list[SettingSpec]:
    """The settings moderators of this platform see and change, in order."""
    return [spec for spec in declared(ctx).values() if ctx.platform in spec.platforms]


def find(ctx: ConfigContext, name: str) -> SettingSpec | None:
    """A setting of this platform by its key, or by its name in either language (folded)."""
    specs = {spec.key: spec for spec in settings_for(ctx)}
    if name in specs:
        return specs[name]
    found = match_word(name, catalog_words(ctx.catalog, {key: s.label_key for key, s in specs.items()}))
    return specs.get(found) if found else None


async def parse_channel(ctx: ConfigContext, raw: Any) -> str | None:
    """A channel typed by a moderator (a trade's channel), or None to clear."""
    return await _values.parse(ctx, CHANNELS["intros"], raw)


async def parse_all(ctx: ConfigContext, values: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Every value parsed, or one InvalidInput naming every wrong setting (nothing applied)."""
    specs = {spec.key: spec for spec in settings_for(ctx)}
    parsed: dict[str, Any] = {}
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, raw in values.items():
        spec = specs.get(name)
        if spec is None:
            problems[name] = ("config.errors.unknown_setting", {"key": prefix + name})
            continue
        try:
            parsed[name] = await _values.parse(ctx, spec, raw)
        except Bad as bad:
            label = prefix + name if prefix else ctx.t(spec.label_key)
            problems[name] = ("config.errors.at_key", {"key": label, "reason": ctx.t(bad.key, **bad.params)})
    if problems:
        raise InvalidInput(problems)
    return parsed


async def current_values(ctx: ConfigContext, specs: list[SettingSpec]) -> dict[str, Any]:
    """The current value of each setting: its column, or its checked feature_settings row."""
    row = await get_settings(ctx.session, ctx.community_id)
    rows = await read_settings(ctx.session, ctx.community_id, specs)
    return {
        spec.key: rows[spec.key]
        if spec.column is None
        else getattr(await ctx.community() if spec.on_community else row, spec.column)
        for spec in specs
    }


async def apply(
    ctx: ConfigContext, values: Mapping[str, Any], *, expected_version: int | None = None
) -> list[tuple[str, Any, Any]]:
    """Store parsed values with one compare-and-set; audit each real change. Returns (name, old, new).

    Every change bumps `community_settings.version`, a feature's setting too: a form showing an
    older version is refused whatever it changes.
    """
    specs = declared(ctx)
    if any(specs[name].on_community for name in values):
        # The community's row before the settings' row, the order an import takes (hold_count, then
        # this): a time zone change while an import ran was a deadlock on PostgreSQL. It waits instead.
        await ctx.session.execute(
            select(Community.id).where(Community.id == ctx.community_id).with_for_update(key_share=True)
        )
    row = await get_settings(ctx.session, ctx.community_id)
    seen = row.version if expected_version is None else expected_version
    old = await current_values(ctx, [specs[name] for name in values])
    changes = [(name, old[name], value) for name, value in values.items() if old[name] != value]
    if not changes:
        return []
    own = {specs[n].column: new for n, _, new in changes if specs[n].column and not specs[n].on_community}
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
    shared = {specs[n].column: new for n, _, new in changes if specs[n].on_community}
    if shared:
        await ctx.session.execute(
            update(Community)
            .where(Community.id == ctx.community_id)
            .values(**shared)
            .execution_options(synchronize_session=False)
        )
        for column, value in shared.items():
            set_committed_value(await ctx.community(), column, value)
    rows = {n: new for n, _, new in changes if specs[n].stored_as_row}
    await write_feature_values(ctx.session, ctx.community_id, rows)
    for name, before, after in changes:
        await record(ctx, name, _values.raw(specs[name], before), _values.raw(specs[name], after))
    keys = frozenset(name for name, _, _ in changes)
    for feature in ctx.services.features:  # e.g. a rota turn planned at the old time zone's hour
        if feature.on_settings_changed is not None:
            await feature.on_settings_changed(ctx.session, ctx.services, ctx.community_id, keys)
    return changes


async def changes_card(ctx: ConfigContext, changes: list[tuple[str, Any, Any]]) -> Card:
    if not changes:
        return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.unchanged"))
    specs = declared(ctx)
    locale = ctx.caller.locale
    fields = []
    for name, old, new in changes:
        spec = specs[name]
        fields.append(
            Field(
                ctx.t(spec.label_key),
                ctx.t(
                    "config.done.change",
                    old=await _values.display(ctx, spec, old, locale),
                    new=await _values.display(ctx, spec, new, locale),
                ),
            )
        )
    return Card(title=ctx.t("config.done.title"), fields=tuple(fields))


@action("set")
async def set_setting(
    ctx: ConfigContext, name: str, raw: Any, *, expected_version: int | None = None
) -> Card:
    """One setting from a command (`/config setting`, `/config locale en`, `/collectif config set …`).

    `name` is the setting's key, or its name in either language.
    """
    spec = find(ctx, name)
    parsed = await parse_all(ctx, {spec.key if spec else name: raw})
    return await changes_card(ctx, await apply(ctx, parsed, expected_version=expected_version))


@action("update")
async def update_settings(
    ctx: ConfigContext, values: Mapping[str, Any], *, expected_version: int | None = None
) -> Card:
    """Several settings at once (the Slack settings modal): all valid and applied, or none.

    Values the form sends back unchanged are not parsed again: validating a channel asks the
    platform (one API call each), and the form must be answered within Slack's 3 s.
    """
    parsed = await parse_all(ctx, await _changed(ctx, values))
    return await changes_card(ctx, await apply(ctx, parsed, expected_version=expected_version))


@action("update_check")
async def check_update(
    ctx: ConfigContext, values: Mapping[str, Any], *, expected_version: int | None = None
) -> None:
    """Read-only: what `update_settings` would refuse, before the form closes.

    A problem by field (InvalidInput), or a form older than the stored settings.
    """
    stored = await get_settings(ctx.session, ctx.community_id)
    if expected_version is not None and stored.version != expected_version:
        raise UserError("config.errors.conflict")
    await parse_all(ctx, await _changed(ctx, values))


async def _changed(ctx: ConfigContext, values: Mapping[str, Any]) -> dict[str, Any]:
    specs = {spec.key: spec for spec in settings_for(ctx)}
    now = await current_values(ctx, [specs[n] for n in values if n in specs])
    return {name: raw for name, raw in values.items()
            if not (name in now and raw is not None and raw == now[name])}


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
    specs: tuple[SettingSpec, ...] = ()


@action("form")
async def settings_form(ctx: ConfigContext) -> SettingsForm:
    """The current settings of this platform, for a form submitted later with `expected_version`."""
    row = await get_settings(ctx.session, ctx.community_id)
    specs = settings_for(ctx)
    return SettingsForm(row.version, await current_values(ctx, specs), tuple(specs))
