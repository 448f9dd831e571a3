"""The audit log: every change (who, when, what, old -> new), shown by /config history and the modlog.

An action's changes reach the moderation log as a `bot.modlog` notice ("config.modlog"): posted at
once after the commit, and when the platform fails then, queued as the notice job, which posts it
with the jobs' retries. A moderator's change made during an outage is thus logged late, not never.
The queued notice keeps no names: its entries' ids, their values as shown; who made each change and
whom it was about are read from the log when it is posted (`_draw_kept`), blanked by then should they
have deleted their data.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import modlog
from bot.cards import Card, Field, truncate
from bot.errors import BUGS
from bot.i18n import Catalog
from bot.notifier import CannotPost, Notifier
from bot.settings_registry import declared_settings
from cogs.config import _values
from cogs.config._context import ConfigContext, action
from cogs.config.models import AuditEntry
from storage.models import CommunitySettings

log = logging.getLogger(__name__)
MODLOG = "config.modlog"  # the notice's catalog texts: config.modlog.title, config.modlog.text
HISTORY_SIZE = 15
MODLOG_LINES = 20
VALUE_MAX = 200


async def record(
    ctx: ConfigContext,
    setting: str,
    old: str,
    new: str,
    *,
    target: str = "",
    subject_member_id: int | None = None,
) -> AuditEntry:
    """Store one change made by the caller; `run` posts it to the moderation log after the commit."""
    entry = AuditEntry(
        community_id=ctx.community_id,
        actor_member_id=ctx.caller.member_id,
        actor_name=ctx.caller.display_name[:200],
        subject_member_id=subject_member_id,
        setting=setting,
        target=target[:100],
        old_value=old,
        new_value=new,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(entry)
    if not ctx.recorded:  # one modlog message per action, listing all its changes, once committed
        await ctx.community()  # read now: the message is built after the commit, in its language
        ctx.after_commit(partial(_post_modlog, ctx, await ctx.settings()))
    ctx.recorded.append(entry)
    return entry


async def _post_modlog(ctx: ConfigContext, settings: CommunitySettings, _notifier: Notifier | None) -> None:
    """The action's changes in the moderation log now; kept as a notice job when the platform fails.

    The settings row as committed: an action that sets the modlog channel logs itself in the new one.
    """
    if not settings.modlog_channel_id:
        return
    services, community_id = ctx.services, ctx.community_id
    kept = await _kept(ctx, ctx.recorded)
    params = await modlog_notice(ctx, ctx.recorded, kept)
    try:
        await modlog.post_notice(services, community_id, MODLOG, params)
    except CannotPost as refused:  # the channel refuses the bot: retrying would not change that
        log.info("modlog of community %s refused (%s)", community_id, refused.reason)
    except BUGS:
        raise
    except Exception:
        log.warning("modlog of community %s failed; posted again by its job", community_id, exc_info=True)
        async with services.db.transaction() as session:
            await modlog.queue_notice(services, session, community_id, MODLOG,
                                      once=f"audit-{ctx.recorded[0].id}", rows=kept, when=params["when"])


async def display_value(ctx: ConfigContext, setting: str, raw: str, locale: str) -> str:
    """A stored value as a reader sees it; the rest (names, reasons) as written.

    Declared settings show through their kind: channels and roles as labels, delays in words,
    choices by their label.
    """
    if not raw:
        return ctx.catalog.t(locale, "common.none")
    spec = declared_settings(ctx.services.features).get(setting)
    if spec is not None and (value := _values.from_raw(spec, raw)) is not None:
        return truncate(await _values.display(ctx, spec, value, locale), VALUE_MAX)
    if setting == "trade.channel":
        return await ctx.directory.channel_label(raw)
    return truncate(raw, VALUE_MAX)


async def _shown(ctx: ConfigContext, entry: AuditEntry, locale: str) -> tuple[str, str, str]:
    """The setting's name, the old and the new value as a reader sees them: nothing naming a member."""
    old = await display_value(ctx, entry.setting, entry.old_value, locale)
    new = await display_value(ctx, entry.setting, entry.new_value, locale)
    return ctx.catalog.t(locale, f"config.setting.{entry.setting}"), old, new


def _written(catalog: Catalog, locale: str, entry: AuditEntry, setting: str, old: str, new: str) -> str:
    """One change's line, with who made it and its target as the log holds them (blanked after a deletion)."""
    name = f"{setting} ({entry.target})" if entry.target else setting
    who = entry.actor_name or catalog.t(locale, "config.history.someone")
    return catalog.t(locale, "config.history.line", who=who, setting=name, old=old, new=new)


async def _line(ctx: ConfigContext, entry: AuditEntry, locale: str) -> str:
    return _written(ctx.catalog, locale, entry, *await _shown(ctx, entry, locale))


async def _kept(ctx: ConfigContext, entries: list[AuditEntry]) -> dict[str, Any]:
    """The notice's changes without their names: each entry's id, setting and values as shown (JSON)."""
    locale = (await ctx.community()).locale
    shown = [[entry.id, *await _shown(ctx, entry, locale)] for entry in entries[:MODLOG_LINES]]
    return {"locale": locale, "entries": shown, "more": max(0, len(entries) - MODLOG_LINES)}


def _lines(catalog: Catalog, kept: dict[str, Any], found: dict[int, AuditEntry]) -> list[str]:
    """The notice's lines: `kept` (`_kept`) with who and whom from `found`, the entries by id.

    An entry not found (gone) loses its line.
    """
    locale = str(kept.get("locale") or "en")
    lines = [
        _written(catalog, locale, found[int(line[0])], *(str(part) for part in line[1:]))
        for line in kept.get("entries") or []
        if isinstance(line, list) and len(line) == 4 and int(line[0]) in found
    ]
    if lines and (more := int(kept.get("more") or 0)):
        lines.append(catalog.t(locale, "config.modlog.more", count=more))
    return lines


async def _draw_kept(services: modlog.Services, community_id: int, kept: dict[str, Any]
                     ) -> dict[str, str] | None:
    """A kept notice's lines, written when it is posted, from the log's entries as they are now.

    Who made a change and whom it was about are blanked should they have deleted their data since.
    None (nothing posted) when none of its entries is left.
    """
    ids = [int(line[0]) for line in kept.get("entries") or [] if isinstance(line, list) and line]
    async with services.db.transaction(write=False) as session:
        found = {entry.id: entry for entry in await session.scalars(
            select(AuditEntry).where(AuditEntry.community_id == community_id, AuditEntry.id.in_(ids)))}
    lines = _lines(services.catalog, kept, found)
    return {"lines": "\n".join(lines)} if lines else None


modlog.draws(MODLOG, _draw_kept)


async def modlog_notice(ctx: ConfigContext, entries: list[AuditEntry], kept: dict[str, Any] | None = None
                        ) -> dict[str, str]:
    """The moderation log notice's texts for the changes of one action, in the community's language.

    `lines` (one per change) and `when` (the action's time in the community's zone): the notice is
    written at once; posted later when the platform failed, its lines are written again then
    (`_draw_kept`). `kept`: the entries as `_kept` gives them, when the caller has them already.
    """
    community = await ctx.community()
    kept = kept if kept is not None else await _kept(ctx, entries)
    lines = _lines(ctx.catalog, kept, {entry.id: entry for entry in entries})
    return {"lines": "\n".join(lines), "when": _when(entries[0], community.timezone)}


def _when(entry: AuditEntry, timezone: str) -> str:
    return entry.created_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


@action("history")
async def history(ctx: ConfigContext, limit: int = HISTORY_SIZE) -> Card:
    """/config history: the last changes, newest first."""
    entries = (
        await ctx.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.community_id == ctx.community_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    ).all()
    locale = ctx.caller.locale
    if not entries:
        return Card(title=ctx.t("config.history.title"), text=ctx.t("config.history.empty"))
    timezone = (await ctx.community()).timezone
    fields = [Field(_when(entry, timezone), await _line(ctx, entry, locale)) for entry in entries]
    return Card(title=ctx.t("config.history.title"), fields=tuple(fields))


# -- privacy: a moderator's data ------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """The audit entries a member made or was the subject of."""
    rows = (
        await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.community_id == community_id,
                (AuditEntry.actor_member_id == member_id) | (AuditEntry.subject_member_id == member_id),
            )
            .order_by(AuditEntry.id)
        )
    ).all()
    return {
        "audit_entries": [
            {
                "when": row.created_at.isoformat(),
                "role": "actor" if row.actor_member_id == member_id else "subject",
                "setting": row.setting,
                "target": row.target,
                "old": row.old_value,
                "new": row.new_value,
            }
            for row in rows
        ]
    }


async def forget_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Keep the community's log but without the person: unlink and blank the name."""
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.community_id == community_id, AuditEntry.actor_member_id == member_id)
        .values(actor_member_id=None, actor_name="")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.community_id == community_id, AuditEntry.subject_member_id == member_id)
        .values(subject_member_id=None, target="")  # the target of a subject entry is their name
        .execution_options(synchronize_session=False)
    )
