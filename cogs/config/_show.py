"""/config show: every setting of the community on one card."""

from __future__ import annotations

from bot.cards import Card, Field
from cogs.config._context import ConfigContext, action
from cogs.config._durations import format_offsets
from cogs.config._packs import packs
from cogs.config._settings import CHANNELS, LIMITS
from storage.communities import sectors, trades
from storage.settings import get_settings


async def _channel(ctx: ConfigContext, channel_id: str | None) -> str:
    return await ctx.directory.channel_label(channel_id) if channel_id else ctx.t("common.none")


@action("show")
async def show(ctx: ConfigContext) -> Card:
    row = await get_settings(ctx.session, ctx.community_id)
    community = ctx.community
    none = ctx.t("common.none")

    def line(setting: str, value: object) -> str:
        return ctx.t("config.show.line", label=ctx.t(f"config.setting.{setting}"), value=value)

    channels = [
        line(f"channel.{kind}", await _channel(ctx, getattr(row, column)))
        for kind, column in CHANNELS.items()
    ]
    limits = [line(f"limit.{name}", getattr(row, name)) for name in LIMITS]
    if ctx.platform == "discord":
        role = await ctx.directory.role_label(row.moderator_role_id) if row.moderator_role_id else none
        moderators = [ctx.t("config.show.platform_admins_discord"), line("moderators.role", role)]
    else:
        users = ", ".join([await ctx.directory.user_label(u) for u in row.moderator_user_ids]) or none
        moderators = [
            ctx.t("config.show.platform_admins_slack"),
            line("moderators.users", users),
            line("moderators.usergroup", row.moderator_usergroup_id or none),
        ]
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
        Field(ctx.t("config.show.channels"), "\n".join(channels)),
        Field(ctx.t("config.setting.locale"), ctx.t(f"config.language.{community.locale}"), inline=True),
        Field(ctx.t("config.setting.timezone"), community.timezone, inline=True),
        Field(
            ctx.t("config.setting.reminders"),
            format_offsets(ctx.catalog, ctx.caller.locale, row.reminder_offsets_minutes),
            inline=True,
        ),
        Field(ctx.t("config.show.limits"), "\n".join(limits)),
        Field(ctx.t("config.show.moderators"), "\n".join(moderators)),
        Field(ctx.t("config.show.trades", count=len(trade_lines)), "\n".join(trade_lines) or none),
        Field(ctx.t("config.show.sectors", count=len(sector_names)), ", ".join(sector_names) or none),
        Field(ctx.t("config.show.packs"), "\n".join(pack_lines) or none),
        Field(
            ctx.t("config.setting.purge_grace_days"), ctx.t("config.show.purge", days=row.purge_grace_days)
        ),
    )
    return Card(
        title=ctx.t("config.show.title", community=community.name or community.external_id),
        fields=fields,
        footer=ctx.t("config.show.footer", version=row.version),
    )
