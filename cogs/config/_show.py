"""/config show: every declared setting of the community on one card, with trades, sectors and packs."""

from __future__ import annotations

from itertools import groupby

from bot.cards import Card, Field, fields_for
from cogs.config import _values
from cogs.config._context import ConfigContext, action
from cogs.config._declared import MODERATORS
from cogs.config._packs import packs
from cogs.config._settings import current_values, settings_for
from storage.communities import sectors, trades
from storage.settings import get_settings

# A line above a section's settings, per platform: who moderates without being listed.
NOTES = {
    MODERATORS: {
        "discord": "config.show.platform_admins_discord",
        "slack": "config.show.platform_admins_slack",
    }
}
FEATURES = "config.show.features"  # the field of feature settings that name no section


async def _channel(ctx: ConfigContext, channel_id: str | None) -> str:
    return await ctx.directory.channel_label(channel_id) if channel_id else ctx.t("common.none")


async def setting_fields(ctx: ConfigContext) -> tuple[list[Field], list[Field]]:
    """(config's own settings, the features' settings) as fields: one per section, or per setting."""
    specs = settings_for(ctx)
    values = await current_values(ctx, specs)
    locale = ctx.caller.locale
    core: list[Field] = []
    features: list[Field] = []
    for section, group in groupby(specs, key=lambda s: s.section or (FEATURES if s.stored_as_row else None)):
        items = list(group)
        shown = [(ctx.t(s.label_key), await _values.display(ctx, s, values[s.key], locale)) for s in items]
        target = features if items[0].stored_as_row else core
        if section is None:
            target.extend(Field(label, value, inline=True) for label, value in shown)
            continue
        lines = [ctx.t("config.show.line", label=label, value=value) for label, value in shown]
        note = NOTES.get(section, {}).get(ctx.platform)
        target.append(Field(ctx.t(section), "\n".join(([ctx.t(note)] if note else []) + lines)))
    return core, features


@action("show")
async def show(ctx: ConfigContext) -> Card:
    row = await get_settings(ctx.session, ctx.community_id)
    community = await ctx.community()
    none = ctx.t("common.none")
    core, features = await setting_fields(ctx)
    trade_lines = [
        f"{t.name} → {await _channel(ctx, t.channel_id)}" if t.channel_id else t.name
        for t in await trades(ctx.session, ctx.community_id)
    ]
    sector_names = [s.name for s in await sectors(ctx.session, ctx.community_id)]
    pack_lines = [
        ctx.t("config.show.line", label=name, value=" + ".join(members) or none)
        for name, members in await packs(ctx.session, ctx.community_id, community.locale)
    ]
    fields = (
        *core,
        *fields_for(ctx.t("config.show.trades", count=len(trade_lines)), trade_lines or [none]),
        *fields_for(ctx.t("config.show.sectors", count=len(sector_names)), sector_names or [none], ", "),
        *fields_for(ctx.t("config.show.packs"), pack_lines or [none]),
        *features,
    )
    return Card(
        title=ctx.t("config.show.title", community=community.name or community.external_id),
        fields=fields,
        footer=ctx.t("config.show.footer", version=row.version),
    )
