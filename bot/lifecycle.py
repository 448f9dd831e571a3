"""Install lifecycle: removed -> paused with a purge scheduled after the grace period; back -> restored.

The one place that pauses and restores communities: the Discord bot (guild removed / joined), the
Slack app (`app_uninstalled`, `tokens_revoked`) and first contact (`bot.context`) all come here.

Removal signals (Discord guild remove; Slack `app_uninstalled`, `tokens_revoked` for the bot token)
may come twice, in any order, and be retried: pausing is a conditional UPDATE and the purge job has a
dedupe key, so every repeat is a no-op. The key carries the pause time (`purge:<id>:<paused at>`):
the scheduler keeps a cancelled job's key, so a community removed, restored and removed again needs
a fresh one. The purge deletes the community row (every table cascades from it) only if it is still
paused since that same time, so a stale job never purges a community that came back.

The pause and the purge drop what this process keeps in memory of the community: its callers and
the features' copies (`PrivacyHook.forget`, e.g. the directory's suggestions). Once purged, its id
may be given to the next community (SQLite), which must not be shown any of it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features import Feature, forget_in_memory
from bot.scheduler import PENDING, JobRun, Runtime, Scheduler
from storage.models import Community, Job
from storage.settings import get_settings


class _Callers(Protocol):
    def forget(self, community_id: int, member_id: int | None = None) -> None: ...


class Services(Runtime, Protocol):
    """What the lifecycle needs of bot.services.Services."""

    @property
    def callers(self) -> _Callers: ...
    @property
    def features(self) -> Sequence[Feature]: ...

log = logging.getLogger(__name__)
PURGE_KIND = "community.purge"


def _forget(services: Services, community_id: int) -> None:
    """Everything this process keeps in memory of the community: its callers, the features' copies."""
    services.callers.forget(community_id)
    forget_in_memory(services.features, community_id)


def purge_key(community_id: int, paused_at: datetime) -> str:
    return f"purge:{community_id}:{paused_at.strftime('%Y%m%dT%H%M%S%f')}"


async def schedule_purge(
    session: AsyncSession, scheduler: Scheduler, community_id: int, paused_at: datetime
) -> int:
    grace = (await get_settings(session, community_id)).purge_grace_days
    return await scheduler.schedule(
        session,
        kind=PURGE_KIND,
        due_at=paused_at + timedelta(days=grace),
        payload={"paused_at": paused_at.isoformat()},
        community_id=community_id,
        dedupe_key=purge_key(community_id, paused_at),
    )


async def deactivate(services: Services, platform: str, external_id: str) -> bool:
    """The bot left the community: pause it and schedule its purge, in one transaction.

    True when it is (now) paused; repeats (retried or doubled signals) change nothing.
    """
    now = services.clock.now()
    async with services.db.transaction() as session:
        await session.execute(
            update(Community)
            .where(
                Community.platform == platform,
                Community.external_id == external_id,
                Community.active.is_(True),
            )
            .values(active=False, deactivated_at=now)
            .execution_options(synchronize_session=False)
        )
        row = (
            await session.execute(
                select(Community.id, Community.active, Community.deactivated_at).where(
                    Community.platform == platform, Community.external_id == external_id
                )
            )
        ).first()
        if row is None or row.active:
            return False
        await schedule_purge(session, services.scheduler, row.id, row.deactivated_at or now)
    _forget(services, row.id)  # its next request must find it paused, and restore it
    log.info("community %s:%s paused; purge after the grace period", platform, external_id)
    return True


async def restore(session: AsyncSession, scheduler: Scheduler, community_id: int) -> bool:
    """Inside the caller's transaction: make the community active and cancel its pending purge.

    True when a purge was cancelled.
    """
    await session.execute(
        update(Community)
        .where(Community.id == community_id, Community.active.is_(False))
        .values(active=True, deactivated_at=None)
        .execution_options(synchronize_session=False)
    )
    pending = await session.scalars(
        select(Job.id).where(Job.community_id == community_id, Job.kind == PURGE_KIND, Job.state == PENDING)
    )
    cancelled = False
    for job_id in pending.all():
        cancelled |= await scheduler.cancel(session, job_id=job_id, community_id=community_id)
    return cancelled


async def reactivate(services: Services, platform: str, external_id: str) -> bool:
    """The bot is back (guild join, Slack install or request): restore and cancel any pending purge."""
    async with services.db.transaction() as session:
        community_id = await session.scalar(
            select(Community.id).where(Community.platform == platform, Community.external_id == external_id)
        )
        if community_id is None:
            return False
        cancelled = await restore(session, services.scheduler, community_id)
    if cancelled:
        log.info("community %s:%s is back; purge cancelled", platform, external_id)
    return cancelled


async def purge(services: Services, run: JobRun) -> None:
    """The grace period is over: delete the community and, by cascade, everything it holds."""
    paused_at = datetime.fromisoformat(run.payload["paused_at"])
    async with services.db.transaction() as session:
        result = await session.execute(
            delete(Community)
            .where(
                Community.id == run.community_id,
                Community.active.is_(False),
                Community.deactivated_at <= paused_at,
            )
            .execution_options(synchronize_session=False)
        )
    if result.rowcount and run.community_id is not None:  # type: ignore[attr-defined]
        _forget(services, run.community_id)
        log.info("community %s purged", run.community_id)
    else:
        log.info("community %s not purged: it came back", run.community_id)


def is_removal(event: Mapping[str, Any]) -> bool:
    """`app_uninstalled`, or `tokens_revoked` of the bot token (revoked user tokens leave the bot working)."""
    kind = event.get("type")
    if kind == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
        return False
    return kind in ("app_uninstalled", "tokens_revoked")


async def on_slack_event(services: Services, team_id: str, event: Mapping[str, Any]) -> bool:
    """`app_uninstalled`, or `tokens_revoked` of the bot token: pause the workspace's community."""
    if not is_removal(event) or not team_id:
        return False
    return await deactivate(services, "slack", team_id)


def register_jobs(services: Services) -> None:
    """The purge job kind (registered when the services are built, before the scheduler starts)."""
    services.scheduler.register(PURGE_KIND, functools.partial(purge, services), max_lateness=None,
                                while_paused=True)
