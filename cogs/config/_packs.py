"""Collaboration packs: a name and the trades a team needs ("Site vitrine" = writing + design + SEO + dev)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.errors import InvalidInput, NotFound
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action, invalid
from cogs.config._settings import Bad
from cogs.config._trades import clean_name
from cogs.config.models import Pack, PackTrade
from storage.models import CommunitySettings, Trade
from storage.settings import get_settings
from storage.sql import insert_ignore
from storage.text import fold

MAX_TRADES = 10
MAX_PACKS = 25

DEFAULT_PACKS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "fr": (
        ("Site vitrine", ("Rédaction web", "Design graphique", "SEO / SEA", "Développement")),
        ("Identité visuelle", ("Design graphique", "Rédaction web", "Photographie")),
    ),
    "en": (
        ("Showcase website", ("Web writing", "Graphic design", "SEO / SEA", "Development")),
        ("Visual identity", ("Graphic design", "Web writing", "Photography")),
    ),
}


async def ensure_default_packs(session: AsyncSession, community_id: int, locale: str) -> None:
    """Create the default packs once per community (a removed default pack does not come back)."""
    settings = await get_settings(session, community_id)
    if settings.packs_seeded:
        return
    claimed = await session.execute(
        update(CommunitySettings)
        .where(CommunitySettings.community_id == community_id, CommunitySettings.packs_seeded.is_(False))
        .values(packs_seeded=True)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return  # another transaction seeds them
    trades = {
        row.key: row.id
        for row in (
            await session.execute(select(Trade.key, Trade.id).where(Trade.community_id == community_id))
        )
    }
    for position, (name, trade_names) in enumerate(DEFAULT_PACKS.get(locale, DEFAULT_PACKS["en"])):
        ids = [trades[fold(t)] for t in trade_names if fold(t) in trades]
        if ids:
            await _write_pack(session, community_id, name, ids, position)


async def _write_pack(
    session: AsyncSession, community_id: int, name: str, trade_ids: Sequence[int], position: int
) -> int:
    await insert_ignore(
        session,
        Pack.__table__,
        [{"community_id": community_id, "key": fold(name), "name": name, "position": position}],
    )
    pack_id = await session.scalar(
        select(Pack.id).where(Pack.community_id == community_id, Pack.key == fold(name))
    )
    assert pack_id is not None
    await session.execute(
        update(Pack).where(Pack.id == pack_id).values(name=name).execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(PackTrade).where(PackTrade.pack_id == pack_id, PackTrade.community_id == community_id)
    )
    await insert_ignore(
        session,
        PackTrade.__table__,
        [
            {"community_id": community_id, "pack_id": pack_id, "trade_id": t, "position": i}
            for i, t in enumerate(trade_ids)
        ],
    )
    return pack_id


async def packs(
    session: AsyncSession, community_id: int, locale: str | None = None
) -> list[tuple[str, list[str]]]:
    """The community's packs and their trade names, in order (for /config show and matching).

    With `locale` (the community's), the default packs are created first if they never were.
    """
    if locale is not None:
        await ensure_default_packs(session, community_id, locale)
    rows = await session.execute(
        select(Pack.id, Pack.name, Trade.name)
        .join(PackTrade, PackTrade.pack_id == Pack.id, isouter=True)
        .join(Trade, Trade.id == PackTrade.trade_id, isouter=True)
        .where(Pack.community_id == community_id)
        .order_by(Pack.position, Pack.id, PackTrade.position)
    )
    result: dict[int, tuple[str, list[str]]] = {}
    for pack_id, pack_name, trade_name in rows:
        entry = result.setdefault(pack_id, (pack_name, []))
        if trade_name:
            entry[1].append(trade_name)
    return list(result.values())


def split_trades(raw: str | Sequence[str]) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


async def resolve_trades(
    ctx: ConfigContext,
    raw: str | Sequence[str],
    known: dict[str, int] | None = None,
) -> list[int]:
    """Trade ids for the names given, or InvalidInput naming every unknown trade."""
    wanted = split_trades(raw)
    if not wanted:
        raise invalid("trades", "config.errors.pack_empty")
    if len(wanted) > MAX_TRADES:
        raise invalid("trades", "config.errors.pack_too_many", max=MAX_TRADES)
    if known is None:
        known = {
            row.key: row.id
            for row in await ctx.session.execute(
                select(Trade.key, Trade.id).where(Trade.community_id == ctx.community_id)
            )
        }
    ids: list[int] = []
    problems = {}
    for index, name in enumerate(wanted):
        trade_id = known.get(fold(name))
        if trade_id is None:
            problems[f"trades.{index}"] = ("config.errors.pack_unknown_trade", {"trade": name})
        elif trade_id not in ids:
            ids.append(trade_id)
    if problems:
        raise InvalidInput(problems)
    return ids


@action("pack_set")
async def set_pack(ctx: ConfigContext, name: str, trades: str | Sequence[str]) -> Card:
    """Create a pack or replace its trades; every trade must exist in the community."""
    try:
        name = clean_name(name)
    except Bad as bad:
        raise invalid("name", bad.key, **bad.params) from None
    await ensure_default_packs(ctx.session, ctx.community_id, (await ctx.community()).locale)
    ids = await resolve_trades(ctx, trades)
    existing = await ctx.session.scalar(
        select(Pack.id).where(Pack.community_id == ctx.community_id, Pack.key == fold(name))
    )
    before = dict(await packs(ctx.session, ctx.community_id))
    old = ""
    if existing is None:
        count = len(before)
        if count >= MAX_PACKS:
            raise invalid("name", "config.errors.too_many_packs", max=MAX_PACKS)
        position = count
    else:
        position = await ctx.session.scalar(select(Pack.position).where(Pack.id == existing)) or 0
        old_name = await ctx.session.scalar(select(Pack.name).where(Pack.id == existing))
        old = ", ".join(before.get(old_name or "", []))
    await _write_pack(ctx.session, ctx.community_id, name, ids, position)
    trade_names = dict(
        (await ctx.session.execute(select(Trade.id, Trade.name).where(Trade.id.in_(ids)))).all()
    )
    new = ", ".join(trade_names[i] for i in ids)
    await record(ctx, "pack.set", old, new, target=name)
    return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.pack_set", name=name, trades=new))


@action("pack_remove")
async def remove_pack(ctx: ConfigContext, ref: str) -> Card:
    await ensure_default_packs(ctx.session, ctx.community_id, (await ctx.community()).locale)
    row = await ctx.session.scalar(
        select(Pack).where(Pack.community_id == ctx.community_id, Pack.key == fold(ref or ""))
    )
    if row is None:
        raise NotFound("config.errors.unknown_pack", name=(ref or "").strip())
    before = dict(await packs(ctx.session, ctx.community_id))
    await ctx.session.execute(delete(Pack).where(Pack.id == row.id, Pack.community_id == ctx.community_id))
    await record(ctx, "pack.remove", ", ".join(before.get(row.name, [])), "", target=row.name)
    return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.pack_removed", name=row.name))
