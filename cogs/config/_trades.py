"""Trades and sectors: add, rename, remove (merging whoever uses them), and a trade's own channel.

Two moderators adding at the same moment both succeed: each name is its own row and the
(community, folded name) unique constraint settles duplicates, not a read-then-write. A pack left
without a trade by a removal is removed with it (and said): an empty pack can be neither chosen nor
exported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.cards import Card
from bot.errors import NotFound, UserError
from cogs.config import _merge
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action, invalid
from cogs.config._settings import Bad, parse_channel
from cogs.config.models import Pack, PackTrade
from storage.models import Community, Sector, Trade
from storage.sql import dialect_insert
from storage.text import fold

NAME_MAX = 50
KEY_MAX = 64  # trades.key, sectors.key, packs.key: String(64)
_FORBIDDEN = re.compile(r"[,|\x00-\x1f\x7f]")  # commas and pipes separate names in text commands
# Trades (and sectors) of a community: a Discord select menu offers 25 choices, and the intro and
# mission forms offer every one (Slack's offer 100).
MAX_PER_KIND = 25


@dataclass(frozen=True)
class Kind:
    """Trades or sectors: same rules, different table."""

    name: str  # "trade" | "sector"
    model: type[Trade] | type[Sector]


TRADES = Kind("trade", Trade)
SECTORS = Kind("sector", Sector)
# Moderator configuration pointing at a trade is not "members using it": removing is not blocked by it.
_NOT_USAGE = ("pack_trades",)


def clean_name(raw: str) -> str:
    """A trade, sector or pack name as stored, or Bad saying why not."""
    name = " ".join((raw or "").split())
    if not fold(name):
        raise Bad("config.errors.name_empty")
    if len(name) > NAME_MAX:
        raise Bad("config.errors.name_too_long", max=NAME_MAX, length=len(name))
    if len(fold(name)) > KEY_MAX:  # the folded key is stored too: "Œ" folds to "oe", "ﬃ" to "ffi"
        raise Bad("config.errors.name_folds_too_long")
    if _FORBIDDEN.search(name):
        raise Bad("config.errors.name_chars")
    return name


def _name_or_invalid(ctx: ConfigContext, raw: str) -> str:
    try:
        return clean_name(raw)
    except Bad as bad:
        raise invalid("name", bad.key, **bad.params) from None


async def find(ctx: ConfigContext, kind: Kind, ref: str):  # -> Trade | Sector
    """The trade or sector of this community named `ref` (case and accents ignored), or NotFound."""
    model = kind.model
    row = await ctx.session.scalar(
        select(model).where(model.community_id == ctx.community_id, model.key == fold(ref or ""))
    )
    if row is None:
        raise NotFound(f"config.errors.unknown_{kind.name}", name=(ref or "").strip())
    return row


async def names(ctx: ConfigContext, kind: Kind) -> list[str]:
    model = kind.model
    rows = await ctx.session.scalars(
        select(model.name).where(model.community_id == ctx.community_id).order_by(model.position, model.id)
    )
    return list(rows)


async def hold_count(ctx: ConfigContext) -> None:
    """The community's row held until the transaction ends: adds (and imports) count one after the other.

    Trades or sectors added at once never pass the 25th.
    FOR NO KEY UPDATE on PostgreSQL: the rows referring to the community (an audit entry, a job) are
    still written meanwhile. FOR UPDATE made them wait, and a rename to the name being added (its
    audit entry waiting for the add, the add for the renamed name) was a deadlock.
    """
    await ctx.session.execute(
        select(Community.id).where(Community.id == ctx.community_id).with_for_update(key_share=True)
    )


async def _add(ctx: ConfigContext, kind: Kind, raw: str) -> Card:
    name = _name_or_invalid(ctx, raw)
    model = kind.model
    await hold_count(ctx)
    count = await ctx.session.scalar(
        select(func.count()).select_from(model).where(model.community_id == ctx.community_id)
    )
    if (count or 0) >= MAX_PER_KIND:  # every one must stay a choice of the forms' menus
        raise invalid("name", f"config.errors.too_many_{kind.name}s", max=MAX_PER_KIND)
    position = await ctx.session.scalar(
        select(func.coalesce(func.max(model.position), -1) + 1).where(model.community_id == ctx.community_id)
    )
    inserted = await ctx.session.scalar(
        dialect_insert(ctx.session, model)
        .values(community_id=ctx.community_id, key=fold(name), name=name, position=position)
        .on_conflict_do_nothing()
        .returning(model.id)
    )
    if inserted is None:
        raise invalid("name", "config.errors.duplicate", name=name)
    await record(ctx, f"{kind.name}.add", "", name, target=name)
    return Card(title=ctx.t("config.done.title"), text=ctx.t(f"config.done.{kind.name}_added", name=name))


async def _rename(ctx: ConfigContext, kind: Kind, ref: str, raw: str) -> Card:
    row = await find(ctx, kind, ref)
    name = _name_or_invalid(ctx, raw)
    old = row.name
    if name == old:
        return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.unchanged"))
    model = kind.model
    try:
        async with ctx.session.begin_nested():
            await ctx.session.execute(
                update(model)
                .where(model.id == row.id, model.community_id == ctx.community_id)
                .values(name=name, key=fold(name))
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise invalid("name", "config.errors.duplicate", name=name) from None
    await record(ctx, f"{kind.name}.rename", old, name, target=old)
    await _refresh_cards(ctx, kind, row.id, merged=False)
    return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.renamed", old=old, new=name))


async def _remove(ctx: ConfigContext, kind: Kind, ref: str, merge_into: str | None) -> Card:
    row = await find(ctx, kind, ref)
    model = kind.model
    target = None
    if merge_into:
        target = await find(ctx, kind, merge_into)
        if target.id == row.id:
            raise invalid("merge_into", "config.errors.merge_same", name=row.name)
    # Locked first (FOR UPDATE on PostgreSQL, which a member's save referring to it waits for;
    # SQLite's write lock already is): a save committed before is counted, one after is refused
    # by its foreign key, never stripped of the trade silently by the cascade. A removal or merge
    # sent twice at once (two moderators, a double submit) finds it gone the second time, as it
    # would a moment later: without it, on PostgreSQL a merge added the month's kudos twice.
    # A merge's target is held too (FOR KEY SHARE: its removal at once waits, then finds it used; a removal
    # committed first leaves it gone, said so, not a foreign key error), the lower id first: two merges
    # crossing (A into B, B into A) wait for each other instead of deadlocking.
    order = sorted([row, *([target] if target is not None else [])], key=lambda r: r.id)
    for each in order:
        query = select(model.id).where(model.id == each.id, model.community_id == ctx.community_id)
        source = each is row
        held = await ctx.session.scalar(
            query.with_for_update() if source else query.with_for_update(read=True, key_share=True)
        )
        if held is None:
            raise NotFound(f"config.errors.unknown_{kind.name}", name=each.name)
    if target is None:
        used = await _merge.usage(ctx.session, model.__table__, row.id, ignore=_NOT_USAGE)
        if used:
            others = [n for n in await names(ctx, kind) if n != row.name]
            raise UserError(
                f"config.errors.{kind.name}_in_use", name=row.name, count=used, choices=", ".join(others)
            )
    if target is not None:
        await _merge.merge(ctx.session, model.__table__, row.id, target.id)
        await _refresh_cards(ctx, kind, target.id, merged=True)
    emptied = await delete_row(ctx, kind, row.id, row.name, target.name if target else "")
    if target is not None:
        text = ctx.t("config.done.merged", name=row.name, into=target.name)
    else:
        text = ctx.t(f"config.done.{kind.name}_removed", name=row.name)
    if emptied:
        text += "\n" + ctx.t("config.done.packs_emptied", count=len(emptied), names=", ".join(emptied))
    return Card(title=ctx.t("config.done.title"), text=text)


async def _refresh_cards(ctx: ConfigContext, kind: Kind, row_id: int, *, merged: bool) -> None:
    """The cards showing the row's name (its new one, or the one it was merged into) follow.

    Each feature's card job (`bot.features.ShowsRows`) is queued in this transaction: it runs once the
    change committed, and the moderator never waits for the platform. Without it the cards would keep
    the old name, and after a merge stay in the removed trade's channel, until the object changes.
    """
    now = ctx.clock.now()
    for shows, object_id in await _merge.showing(ctx.session, kind.model.__table__, row_id):
        extra = shows.on_merge if merged else shows.on_rename
        await ctx.scheduler.schedule(ctx.session, kind=shows.kind, due_at=now, community_id=ctx.community_id,
                                     payload={shows.key: object_id, **dict(extra)})


async def delete_row(ctx: ConfigContext, kind: Kind, row_id: int, name: str, into: str = "") -> list[str]:
    """Delete a trade or sector whose uses were merged `into` another (or that nobody uses), audited.

    The stored searches naming it are forgotten; a pack it was the only trade of is removed too (its
    name returned, to be said): a pack without a trade can be neither chosen nor exported.
    """
    model = kind.model
    emptied = await _packs_only_of(ctx, row_id) if kind is TRADES else []
    await _merge.forget(ctx.session, model.__table__, row_id)
    await ctx.session.execute(
        delete(model)
        .where(model.id == row_id, model.community_id == ctx.community_id)
        .execution_options(synchronize_session=False)
    )
    await record(ctx, f"{kind.name}.remove", name, into, target=name)
    for pack_id, pack in emptied:
        await ctx.session.execute(
            delete(Pack).where(Pack.id == pack_id, Pack.community_id == ctx.community_id)
        )
        await record(ctx, "pack.remove", name, "", target=pack)
    return [pack for _, pack in emptied]


async def _packs_only_of(ctx: ConfigContext, trade_id: int) -> list[tuple[int, str]]:
    """(id, name) of the packs whose only trade is `trade_id`."""
    other = aliased(PackTrade)
    rows = await ctx.session.execute(
        select(Pack.id, Pack.name)
        .join(PackTrade, PackTrade.pack_id == Pack.id)
        .where(
            Pack.community_id == ctx.community_id,
            PackTrade.trade_id == trade_id,
            ~exists().where(other.pack_id == Pack.id, other.trade_id != trade_id),
        )
        .order_by(Pack.position, Pack.id)
    )
    return [(pack_id, name) for pack_id, name in rows]


@action("trade_add")
async def add_trade(ctx: ConfigContext, name: str) -> Card:
    return await _add(ctx, TRADES, name)


@action("trade_rename")
async def rename_trade(ctx: ConfigContext, ref: str, new_name: str) -> Card:
    return await _rename(ctx, TRADES, ref, new_name)


@action("trade_remove")
async def remove_trade(ctx: ConfigContext, ref: str, merge_into: str | None = None) -> Card:
    """Remove a trade; when members use it, `merge_into` (another trade) must say where they go."""
    return await _remove(ctx, TRADES, ref, merge_into)


@action("trade_channel")
async def bind_trade(ctx: ConfigContext, ref: str, channel: str | None) -> Card:
    """Bind a trade to its channel (None or "-" unbinds)."""
    row = await find(ctx, TRADES, ref)
    try:
        channel_id = await parse_channel(ctx, channel)
    except Bad as bad:
        raise invalid("channel", bad.key, **bad.params) from None
    if channel_id == row.channel_id:
        return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.unchanged"))
    old = row.channel_id or ""
    await ctx.session.execute(
        update(Trade)
        .where(Trade.id == row.id, Trade.community_id == ctx.community_id)
        .values(channel_id=channel_id)
        .execution_options(synchronize_session=False)
    )
    await record(ctx, "trade.channel", old, channel_id or "", target=row.name)
    label = await ctx.directory.channel_label(channel_id) if channel_id else ctx.t("common.none")
    return Card(
        title=ctx.t("config.done.title"),
        text=ctx.t("config.done.trade_channel", name=row.name, channel=label),
    )


@action("sector_add")
async def add_sector(ctx: ConfigContext, name: str) -> Card:
    return await _add(ctx, SECTORS, name)


@action("sector_rename")
async def rename_sector(ctx: ConfigContext, ref: str, new_name: str) -> Card:
    return await _rename(ctx, SECTORS, ref, new_name)


@action("sector_remove")
async def remove_sector(ctx: ConfigContext, ref: str, merge_into: str | None = None) -> Card:
    return await _remove(ctx, SECTORS, ref, merge_into)
