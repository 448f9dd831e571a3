"""/config export and /config import: the community's setup as a TOML file, to copy it between servers.

An import is validated as a whole before anything is written: a bad file changes nothing and every
problem is named by its key. Keys left out of the file are left unchanged. Trades and sectors follow
the file (created, renamed by case, re-ordered, bound); those missing from it are removed unless
members use them (then they are kept and listed: removing those needs a merge decision), and the
file's plus the kept ones must fit the forms' menus (`MAX_PER_KIND`). Packs follow the file exactly;
an empty pack is never written. Every change is audited as the single command making it would be.
Channels and roles are written by name ("#intros", "@Modos") when the platform knows it, so the file
works in another server; on Discord, where two may share a name, their id rides beside it and wins
in the server it belongs to (`_values.export`). Ids are accepted too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tomli_w
from sqlalchemy import delete, select, update

from bot.cards import Card
from bot.errors import InvalidInput
from bot.i18n import expand_commands
from bot.text import refuse_control_characters
from cogs.config import _merge, _values
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action, invalid
from cogs.config._packs import MAX_PACKS, MAX_TRADES, _write_pack, ensure_default_packs, packs
from cogs.config._settings import CHANNELS, Bad, apply, current_values, parse_channel, settings_for
from cogs.config._trades import (
    _NOT_USAGE,
    MAX_PER_KIND,
    SECTORS,
    TRADES,
    Kind,
    _refresh_cards,
    clean_name,
    delete_row,
    hold_count,
)
from cogs.config.models import Pack
from storage.communities import sectors, trades
from storage.sql import dialect_insert
from storage.text import fold

FORMAT = 1
MAX_BYTES = 64_000
MAX_ITEMS = 100
_LISTS = ("format", "trades", "sectors", "packs")  # the file's own keys, beside the settings


@dataclass(frozen=True)
class Export:
    card: Card
    filename: str
    content: bytes


def _place(data: dict[str, Any], path: str, value: Any) -> None:
    *tables, leaf = path.split(".")
    for table in tables:
        data = data.setdefault(table, {})
    data[leaf] = value


@action("export")
async def export_settings(ctx: ConfigContext) -> Export:
    community = await ctx.community()
    data: dict[str, Any] = {"format": FORMAT}
    specs = settings_for(ctx)
    values = await current_values(ctx, specs)
    for spec in specs:
        _place(data, spec.toml, await _values.export(ctx, spec, values[spec.key]))
    data["sectors"] = [s.name for s in await sectors(ctx.session, ctx.community_id)]
    data["trades"] = []
    for trade in await trades(ctx.session, ctx.community_id):
        entry = {"name": trade.name}
        if trade.channel_id:
            entry["channel"] = await _values.export(ctx, CHANNELS["intros"], trade.channel_id)
        data["trades"].append(entry)
    data["packs"] = [
        {"name": name, "trades": members}
        for name, members in await packs(ctx.session, ctx.community_id, community.locale)
        if members  # a pack emptied before packs went with their last trade: an import refuses it
    ]
    header = expand_commands(ctx.t("config.export.header"), ctx.platform)  # a file: no renderer
    content = (header + "\n" + tomli_w.dumps(data)).encode()
    slug = "".join(c if c.isalnum() else "-" for c in fold(community.name or community.external_id))[:40]
    return Export(
        card=Card(title=ctx.t("config.export.title"), text=ctx.t("config.export.text")),
        filename=f"collectif-{slug or 'settings'}.toml",
        content=content,
    )


class _Problems:
    """Problems keyed by their place in the file, each saying what is wrong in the moderator's language."""

    def __init__(self, ctx: ConfigContext) -> None:
        self.ctx = ctx
        self.found: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(self, where: str, key: str, /, **params: Any) -> None:
        self.found.setdefault(
            where, ("config.errors.at_key", {"key": where, "reason": self.ctx.t(key, **params)})
        )


def _names(
    problems: _Problems, where: str, items: Any, *, item: Callable[[Any], Any] = lambda x: x,
    most: int = MAX_ITEMS,
) -> list[str] | None:
    """Names of a list (of strings, or of tables via `item`), cleaned and unique, or None when wrong."""
    if not isinstance(items, list):
        problems.add(where, "config.errors.import_type_list")
        return None
    if len(items) > most:
        problems.add(where, "config.errors.import_too_many", max=most)
        return None
    names: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(items):
        raw = item(entry)
        place = f"{where}[{index}]"
        if not isinstance(raw, str):
            problems.add(place, "config.errors.import_type_string")
            continue
        try:
            name = clean_name(raw)
        except Bad as bad:
            problems.add(place, bad.key, **bad.params)
            continue
        if fold(name) in seen:
            problems.add(place, "config.errors.duplicate", name=name)
            continue
        seen.add(fold(name))
        names.append(name)
    return names


async def _scalars(ctx: ConfigContext, data: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    """The declared settings of this platform found in the file, parsed; the rest are problems."""
    specs = {spec.toml: spec for spec in settings_for(ctx)}
    tables = {place.rpartition(".")[0] for place in specs} - {""}
    parsed: dict[str, Any] = {}

    async def walk(table: dict[str, Any], prefix: str) -> None:
        for key, raw in table.items():
            place = f"{prefix}{key}"
            if not prefix and key in _LISTS:
                continue
            spec = specs.get(place)
            if spec is not None:
                if not _values.accepts(spec.kind, raw):
                    problems.add(place, "config.errors.import_type_string")
                    continue
                try:
                    parsed[spec.key] = await _values.parse(ctx, spec, raw)
                except Bad as bad:
                    problems.add(place, bad.key, **bad.params)
            elif any(t == place or t.startswith(place + ".") for t in tables):
                if isinstance(raw, dict):
                    await walk(raw, place + ".")
                else:
                    problems.add(place, "config.errors.import_type_table")
            else:
                problems.add(place, "config.errors.import_unknown_key")

    await walk(data, "")
    return parsed


async def _trades(
    ctx: ConfigContext, data: dict[str, Any], problems: _Problems
) -> list[tuple[str, str | None]] | None:
    if "trades" not in data:
        return None
    items = data["trades"]
    names = _names(problems, "trades", items, item=lambda e: e.get("name") if isinstance(e, dict) else None,
                   most=MAX_PER_KIND)
    if names is None:
        return None
    result: list[tuple[str, str | None]] = []
    for index, entry in enumerate(items):
        if not isinstance(entry, dict):
            continue
        extra = set(entry) - {"name", "channel"}
        if extra:
            problems.add(f"trades[{index}].{sorted(extra)[0]}", "config.errors.import_unknown_key")
        channel = None
        if entry.get("channel"):
            try:
                channel = await parse_channel(ctx, entry["channel"])
            except Bad as bad:
                problems.add(f"trades[{index}].channel", bad.key, **bad.params)
        if isinstance(entry.get("name"), str):
            result.append((" ".join(entry["name"].split()), channel))
    return result


@dataclass(frozen=True)
class _Row:
    """A trade or sector of the community, as the import finds it."""

    id: int
    name: str
    channel_id: str | None
    used: bool  # left out of the file, yet used by members: kept


async def _used(ctx: ConfigContext, kind: Kind, keep: set[str]) -> dict[str, _Row]:
    """Existing rows by folded name; whether members use them is counted for those not in `keep`."""
    model = kind.model
    rows = await ctx.session.scalars(select(model).where(model.community_id == ctx.community_id))
    result = {}
    for row in rows.all():
        used = row.key not in keep and bool(
            await _merge.usage(ctx.session, model.__table__, row.id, ignore=_NOT_USAGE)
        )
        result[row.key] = _Row(row.id, row.name, getattr(row, "channel_id", None), used)
    return result


def _fits(problems: _Problems, kind: Kind, count: int | None, existing: dict[str, _Row]) -> None:
    """The file's trades (or sectors) and those kept because members use them fit the forms' menus."""
    kept = [row.name for row in existing.values() if row.used]
    if count is not None and count + len(kept) > MAX_PER_KIND:
        problems.add(f"{kind.name}s", f"config.errors.import_kept_{kind.name}s", count=count,
                     names=", ".join(kept), max=MAX_PER_KIND)


def _packs(
    data: dict[str, Any], problems: _Problems, trade_keys: set[str]
) -> list[tuple[str, list[str]]] | None:
    if "packs" not in data:
        return None
    items = data["packs"]
    names = _names(problems, "packs", items, item=lambda e: e.get("name") if isinstance(e, dict) else None)
    if names is None:
        return None
    if len(names) > MAX_PACKS:
        problems.add("packs", "config.errors.too_many_packs", max=MAX_PACKS)
    result: list[tuple[str, list[str]]] = []
    for index, entry in enumerate(items):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        extra = set(entry) - {"name", "trades"}
        if extra:
            problems.add(f"packs[{index}].{sorted(extra)[0]}", "config.errors.import_unknown_key")
        members = entry.get("trades")
        if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
            problems.add(f"packs[{index}].trades", "config.errors.pack_empty")
            continue
        if len(members) > MAX_TRADES:
            problems.add(f"packs[{index}].trades", "config.errors.pack_too_many", max=MAX_TRADES)
        for position, member in enumerate(members):
            if fold(member) not in trade_keys:
                problems.add(
                    f"packs[{index}].trades[{position}]", "config.errors.pack_unknown_trade", trade=member
                )
        result.append((" ".join(entry["name"].split()), members))
    return result


@dataclass(frozen=True)
class _File:
    """An import file read and checked, before anything is applied."""

    scalars: dict[str, Any]
    trades: list[tuple[str, str | None]] | None
    sectors: list[str] | None
    existing_trades: dict[str, _Row]
    existing_sectors: dict[str, _Row]
    packs: list[tuple[str, list[str]]] | None


@action("import_check")
async def check_import(ctx: ConfigContext, text: str) -> None:
    """Read-only: what `import_settings` would refuse (InvalidInput), before a form closes."""
    await _read(ctx, text)


async def _read(ctx: ConfigContext, text: str) -> _File:
    # A byte order mark (Windows editors save "UTF-8 with BOM") is no TOML: the file is the same without.
    text = (text or "").removeprefix("\ufeff")
    if len(text.encode()) > MAX_BYTES:
        raise invalid("file", "config.errors.import_too_big", max_kb=MAX_BYTES // 1000)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise invalid("file", "config.errors.import_toml", error=str(exc)) from None
    refuse_control_characters({"file": data})  # TOML escapes ("\u0000") reach text the platforms let by
    problems = _Problems(ctx)
    if data.get("format", FORMAT) != FORMAT:
        problems.add("format", "config.errors.import_format", expected=FORMAT)
    scalars = await _scalars(ctx, data, problems)
    file_trades = await _trades(ctx, data, problems)
    file_sectors = (_names(problems, "sectors", data["sectors"], most=MAX_PER_KIND) if "sectors" in data
                    else None)
    existing_trades = await _used(ctx, TRADES, {fold(n) for n, _ in file_trades or []})
    existing_sectors = (
        {} if file_sectors is None else await _used(ctx, SECTORS, {fold(n) for n in file_sectors})
    )
    _fits(problems, TRADES, None if file_trades is None else len(file_trades), existing_trades)
    _fits(problems, SECTORS, None if file_sectors is None else len(file_sectors), existing_sectors)
    if file_trades is None:
        trade_keys = set(existing_trades)
    else:
        trade_keys = {fold(n) for n, _ in file_trades} | {k for k, row in existing_trades.items() if row.used}
    file_packs = _packs(data, problems, trade_keys)
    if problems.found:
        raise InvalidInput(problems.found)
    return _File(scalars, file_trades, file_sectors, existing_trades, existing_sectors, file_packs)


@action("import")
async def import_settings(ctx: ConfigContext, text: str) -> Card:
    """Apply a TOML file made by /config export (or by hand): all of it, or nothing.

    The count held before the file is read, as an add holds it: a trade added meanwhile is counted.
    """
    await hold_count(ctx)
    read = await _read(ctx, text)
    changed = await apply(ctx, read.scalars)
    summary = [ctx.t("config.import.settings", count=len(changed))]
    if read.trades is not None:
        summary.append(await _apply_list(ctx, TRADES, read.trades, read.existing_trades))
    if read.sectors is not None:
        summary.append(
            await _apply_list(ctx, SECTORS, [(n, None) for n in read.sectors], read.existing_sectors)
        )
    if read.packs is not None:
        await _apply_packs(ctx, read.packs)
        summary.append(ctx.t("config.import.packs", count=len(read.packs)))
    await record(ctx, "import", "", " · ".join(summary))
    return Card(title=ctx.t("config.import.title"), text="\n".join(summary))


async def _apply_list(
    ctx: ConfigContext,
    kind: Kind,
    wanted: list[tuple[str, str | None]],
    existing: dict[str, _Row],
) -> str:
    """Trades or sectors as the file lists them; each addition, renaming, channel and removal audited."""
    added = 0
    for position, (name, channel) in enumerate(wanted):
        row = existing.get(fold(name))
        if row is None:
            await _insert(ctx, kind, name, position, channel)
            added += 1
        else:
            await _update(ctx, kind, row, name, position, channel)
    keys = {fold(n) for n, _ in wanted}
    removed, kept, emptied = 0, [], []
    for key, row in existing.items():
        if key in keys:
            continue
        if row.used:
            kept.append(row.name)
            continue
        emptied += await delete_row(ctx, kind, row.id, row.name)
        removed += 1
    text = ctx.t(f"config.import.{kind.name}s", count=len(wanted), added=added, removed=removed)
    if kept:
        text += " " + ctx.t("config.import.kept", names=", ".join(kept))
    if emptied:
        text += " " + ctx.t("config.done.packs_emptied", count=len(emptied), names=", ".join(emptied))
    return text


async def _insert(ctx: ConfigContext, kind: Kind, name: str, position: int, channel: str | None) -> None:
    values: dict[str, Any] = {"community_id": ctx.community_id, "key": fold(name), "name": name,
                              "position": position}
    if kind is TRADES:
        values["channel_id"] = channel
    await ctx.session.execute(dialect_insert(ctx.session, kind.model).values(**values))
    await record(ctx, f"{kind.name}.add", "", name, target=name)
    if channel:
        await record(ctx, "trade.channel", "", channel, target=name)


async def _update(
    ctx: ConfigContext, kind: Kind, row: _Row, name: str, position: int, channel: str | None
) -> None:
    model = kind.model
    values: dict[str, Any] = {"name": name, "position": position}
    if kind is TRADES:
        values["channel_id"] = channel
    await ctx.session.execute(
        update(model)
        .where(model.id == row.id, model.community_id == ctx.community_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if name != row.name:
        await record(ctx, f"{kind.name}.rename", row.name, name, target=row.name)
    rebound = kind is TRADES and channel != row.channel_id
    if rebound:
        await record(ctx, "trade.channel", row.channel_id or "", channel or "", target=name)
    if name != row.name or rebound:  # the cards follow, as after a rename (a merge's job: they may move)
        await _refresh_cards(ctx, kind, row.id, merged=rebound)


async def _apply_packs(ctx: ConfigContext, wanted: list[tuple[str, list[str]]]) -> None:
    """The file's packs replace the community's (the default ones too); each change is audited."""
    await ensure_default_packs(ctx.session, ctx.community_id, (await ctx.community()).locale)
    before = {fold(name): (name, members) for name, members in await packs(ctx.session, ctx.community_id)}
    await ctx.session.execute(delete(Pack).where(Pack.community_id == ctx.community_id))
    known = {
        row.key: row.id
        for row in await ctx.session.execute(
            select(TRADES.model.key, TRADES.model.id).where(TRADES.model.community_id == ctx.community_id)
        )
    }
    for position, (name, members) in enumerate(wanted):
        ids = list(dict.fromkeys(known[fold(m)] for m in members))
        await _write_pack(ctx.session, ctx.community_id, name, ids, position)
    after = {fold(name): (name, members) for name, members in await packs(ctx.session, ctx.community_id)}
    for key, (name, members) in after.items():
        old_name, old = before.get(key, ("", []))
        if (old_name, old) != (name, members):
            await record(ctx, "pack.set", ", ".join(old), ", ".join(members), target=name)
    for key, (name, members) in before.items():
        if key not in after:
            await record(ctx, "pack.remove", ", ".join(members), "", target=name)
