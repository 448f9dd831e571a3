"""The Slack moderator group's members, copied again by a job when Slack could not tell at once.

The copy (`set_usergroup_members`) is refreshed when the group is chosen and on each
`subteam_members_changed` event. When Slack fails then (an error, an outage), the moderator check
would go on with an outdated list (a member removed from the group still a moderator): a job asks
Slack again a little later, then 5, 10, 20, 40 minutes later (the jobs' backoff, up to
`scheduler.max_attempts`), then a fresh job does the same an hour later, and so on until Slack answers:
an outage of hours is outlived. An error lasting over a day is
no outage (the group deleted, the scope withdrawn): given up, logged; the next change of the group
asks again. Imports nothing of slack_sdk: the job kind is registered in every process, and only one
running Slack ever queues it.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.errors import BUGS
from bot.scheduler import PENDING, JobRun
from cogs.config._settings import set_usergroup_members
from storage.models import Community, Job
from storage.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

log = logging.getLogger(__name__)
REFRESH = "usergroup.refresh"  # the job kind (config has no other)
RETRY_AFTER = timedelta(minutes=2)
RETRY_DELAY = timedelta(minutes=5)  # the job's first retry; twice as long after each new failure
AGAIN_AFTER = timedelta(hours=1)  # the fresh job after the last attempt failed
GIVE_UP_AFTER = timedelta(days=1)  # since Slack first failed: no outage lasts that long


async def queue_refresh(services: Services, community_id: int) -> None:
    """Ask Slack again for the moderator group's members a little later (once per minute at most)."""
    async with services.db.transaction() as session:
        await _schedule(session, services, community_id, RETRY_AFTER, since=services.clock.now())


async def _schedule(
    session: AsyncSession, services: Services, community_id: int, after: timedelta, *, since: datetime
) -> None:
    """The refresh job, `after` from now; `since` (when Slack first failed) bounds how long it goes on."""
    now = services.clock.now()
    await services.scheduler.schedule(
        session, kind=REFRESH, due_at=now + after, community_id=community_id,
        payload={"since": since.isoformat()},
        dedupe_key=f"{REFRESH}:{community_id}:{int(now.timestamp()) // 60}",
    )


async def _group(session: AsyncSession, community_id: int) -> tuple[str, str | None] | None:
    external_id = await session.scalar(
        select(Community.external_id).where(Community.id == community_id, Community.platform == "slack"))
    if external_id is None:
        return None
    return external_id, (await get_settings(session, community_id)).moderator_usergroup_id


async def refresh_job(services: Services, run: JobRun) -> None:
    """Copy the group's members now; a Slack failure raises, so the scheduler asks again later.

    The job's attempts spent (the last one failed), a fresh job goes on asking: see `_ask_again`.
    """
    assert run.community_id is not None
    async with services.db.transaction() as session:
        found = await _group(session, run.community_id)
    notifier = services.notifiers.get("slack")
    external_id, group = found if found is not None else ("", None)
    if group is None or notifier is None:
        return  # not Slack, no group any more, or no Slack in this process: nothing to copy
    try:
        users = await notifier.usergroup_members(external_id, group)  # type: ignore[attr-defined]
    except BUGS:
        raise  # a bug: asking again would not mend it
    except Exception:
        if run.attempt >= services.scheduler.max_attempts:
            await _ask_again(services, run)
        raise
    if users is None:  # the workspace is gone
        return
    async with services.db.transaction() as session:
        await set_usergroup_members(session, run.community_id, group, list(users))
    services.callers.forget(run.community_id)


async def _ask_again(services: Services, run: JobRun) -> None:
    """A fresh job an hour later, unless Slack has failed for a day or another refresh waits already.

    So at most one chain of refreshes per community goes on, however often the group changed while
    Slack failed: the others end with their last attempt.
    """
    assert run.community_id is not None
    since = datetime.fromisoformat(run.payload["since"]) if "since" in run.payload else run.due_at
    if services.clock.now() - since >= GIVE_UP_AFTER:
        log.warning("moderator group of community %s: Slack has failed since %s; not asked again until "
                    "the group changes", run.community_id, since.isoformat())
        return
    async with services.db.transaction() as session:
        waiting = await session.scalar(select(Job.id).where(
            Job.kind == REFRESH, Job.community_id == run.community_id, Job.state == PENDING, Job.id != run.id,
        ).limit(1))
        if waiting is None:
            await _schedule(session, services, run.community_id, AGAIN_AFTER, since=since)


async def register_jobs(services: Services) -> None:
    # Slack outages last minutes to hours: the retries are spaced out (5, 10, 20, 40 minutes), not
    # spent within a quarter of an hour as with the default minute.
    services.scheduler.register(REFRESH, functools.partial(refresh_job, services), retry_delay=RETRY_DELAY)
