"""The Slack moderator group's members, copied again by a job when Slack could not tell at once.

The copy (`set_usergroup_members`) is refreshed when the group is chosen and on each
`subteam_members_changed` event. When Slack fails then (an error, an outage), the moderator check
would go on with an outdated list (a member removed from the group still a moderator): a job asks
Slack again a little later, with the jobs' backoff, until it answers. Imports nothing of slack_sdk:
the job kind is registered in every process, and only one running Slack ever queues it.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.scheduler import JobRun
from cogs.config._settings import set_usergroup_members
from storage.models import Community
from storage.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

REFRESH = "usergroup.refresh"  # the job kind (config has no other)
RETRY_AFTER = timedelta(minutes=2)


async def queue_refresh(services: Services, community_id: int) -> None:
    """Ask Slack again for the moderator group's members a little later (once per minute at most)."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        await services.scheduler.schedule(
            session, kind=REFRESH, due_at=now + RETRY_AFTER, community_id=community_id,
            dedupe_key=f"{REFRESH}:{community_id}:{int(now.timestamp()) // 60}",
        )


async def _group(session: AsyncSession, community_id: int) -> tuple[str, str | None] | None:
    external_id = await session.scalar(
        select(Community.external_id).where(Community.id == community_id, Community.platform == "slack"))
    if external_id is None:
        return None
    return external_id, (await get_settings(session, community_id)).moderator_usergroup_id


async def refresh_job(services: Services, run: JobRun) -> None:
    """Copy the group's members now; a Slack failure raises, so the scheduler asks again later."""
    assert run.community_id is not None
    async with services.db.transaction() as session:
        found = await _group(session, run.community_id)
    notifier = services.notifiers.get("slack")
    external_id, group = found if found is not None else ("", None)
    if group is None or notifier is None:
        return  # not Slack, no group any more, or no Slack in this process: nothing to copy
    users = await notifier.usergroup_members(external_id, group)  # type: ignore[attr-defined]
    if users is None:  # the workspace is gone
        return
    async with services.db.transaction() as session:
        await set_usergroup_members(session, run.community_id, group, list(users))
    services.callers.forget(run.community_id)


async def register_jobs(services: Services) -> None:
    services.scheduler.register(REFRESH, functools.partial(refresh_job, services))
