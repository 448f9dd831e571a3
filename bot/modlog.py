"""The moderators' log channel: notices the bot posts there for moderators to act on, once each.

A feature that finds something only a moderator can fix (a configured channel gone or refusing the
bot, Discord refusing scheduled events) queues a notice (`queue_notice`) in the transaction that
found it, with a key naming its catalog texts (`<key>.title`, `<key>.text`) and their parameters.
A job posts it in the community's language, once per `once` key however many times it is queued,
and with the jobs' retries when the platform fails. No moderators' log channel set: nothing to post
(the member who met the problem was answered already).

A notice naming members keeps no names: it is queued with `rows` (what to read, e.g. audit entry
ids) and its feature's drawer (`draws`) writes its texts when it is posted, from the rows as they are
then, so that a member who deleted their data meanwhile is not named by a notice posted later.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.i18n import Catalog
from bot.notifier import Notifier
from bot.scheduler import JobRun, Runtime
from storage.models import Community, CommunitySettings

log = logging.getLogger(__name__)
NOTICE = "modlog.notice"
MAX_LATENESS = timedelta(days=7)  # still worth reading after a long outage
_KEY = re.compile(r"[a-z_]+(\.[a-z_]+){1,3}")  # a catalog key prefix, read back from the database


class Services(Runtime, Protocol):
    """What the notices need of bot.services.Services."""

    @property
    def notifiers(self) -> dict[str, Notifier]: ...
    @property
    def catalog(self) -> Catalog: ...


# What a notice's drawer returns: its texts' parameters (beside those queued), None when nothing is left.
Drawer = Callable[["Services", int, dict[str, Any]], Awaitable[dict[str, str] | None]]
_DRAWERS: dict[str, Drawer] = {}


def draws(key: str, drawer: Drawer) -> None:
    """The notices `key` queued with `rows` are written by `drawer` when posted (registered on import)."""
    _DRAWERS[key] = drawer


async def queue_notice(services: Runtime, session: AsyncSession, community_id: int, key: str, *,
                       once: str, rows: dict[str, Any] | None = None, **params: str) -> None:
    """A notice `key` for the community's moderators, posted after the caller's transaction commits.

    `once` names the cause (e.g. the channel's id): the same key and cause is posted only once.
    `rows`: what the drawer registered for `key` (`draws`) reads when the notice is posted.
    """
    payload: dict[str, Any] = {"key": key, "params": params}
    if rows is not None:
        payload["rows"] = rows
    await services.scheduler.schedule(
        session, kind=NOTICE, due_at=services.clock.now(), community_id=community_id,
        payload=payload, dedupe_key=f"{NOTICE}:{community_id}:{key}:{once}",
    )


async def post_notice(services: Services, community_id: int, key: str, params: dict[str, Any]) -> bool:
    """Post the notice now in the moderators' log channel; False when there is none (or no platform here)."""
    if not _KEY.fullmatch(key):
        log.warning("modlog notice with an unexpected key %r: not posted", key)
        return False
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        # Not get_settings: it may insert the default row, a write in this read-only transaction.
        settings = await session.get(CommunitySettings, community_id)
    notifier = services.notifiers.get(community.platform) if community else None
    if community is None or notifier is None or settings is None or not settings.modlog_channel_id:
        return False
    t = services.catalog.t
    texts = {k: str(v) for k, v in params.items()}
    card = Card(title=t(community.locale, f"{key}.title"), text=t(community.locale, f"{key}.text", **texts))
    return await notifier.post(community.external_id, settings.modlog_channel_id, card) is not None


async def _run(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    key, params = str(run.payload.get("key") or ""), dict(run.payload.get("params") or {})
    rows = run.payload.get("rows")
    if rows is not None:  # drawn now (a notice queued by an earlier version holds its texts)
        drawer = _DRAWERS.get(key)
        if drawer is None:  # its feature is not loaded in this process: failed, and said so
            raise RuntimeError(f"no drawer for the modlog notice {key!r} in this process")
        drawn = await drawer(services, run.community_id, dict(rows))
        if drawn is None:
            return
        params.update(drawn)
    await post_notice(services, run.community_id, key, params)


def register_jobs(services: Services) -> None:
    """The notices' job kind (registered when the services are built, before the scheduler starts)."""
    services.scheduler.register(NOTICE, functools.partial(_run, services), max_lateness=MAX_LATENESS)
