"""A moderation-log notice kept for a retry keeps no names: its lines are written when it is posted.

Who made each change and whom it was about are read from the audit log then, so that a member who
deleted their data meanwhile is not named by the notice posted after her deletion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import modlog
from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from cogs.config import register_jobs
from cogs.config._context import run
from cogs.config._moderation import remove_post
from cogs.config._settings import set_setting
from cogs.privacy._privacy import delete_member_data
from storage.models import Job, Post
from tests.config.conftest import INTROS, MODLOG, make_caller
from tests.fakes.notifier import RecordingNotifier

MESSAGE = "200000000000000001"


async def _removed_while_the_modlog_fails(services: Services, clock: FrozenClock, notifier: RecordingNotifier
                                          ) -> tuple[Caller, Caller]:
    clock.set(datetime.now(UTC))  # the privacy hooks queue their jobs on the wall clock
    await register_jobs(services)
    mod = await make_caller(services, "mod-a", name="Modo Martin")
    zoe = await make_caller(services, "zoe", moderator=False, name="Zoé Quintard")
    async with services.db.transaction() as session:
        session.add(Post(community_id=zoe.community_id, member_id=zoe.member_id, feature="intros",
                         object_id=7, channel_id=INTROS, message_id=MESSAGE, posted_at=clock.now()))
    await run(services, mod, set_setting, "channel.modlog", MODLOG)
    notifier.failing.add(MODLOG)
    await run(services, mod, remove_post, INTROS, MESSAGE, "spam")
    return mod, zoe


async def _notices(services: Services) -> list[dict]:
    async with services.db.transaction(write=False) as session:
        return list(await session.scalars(select(Job.payload).where(Job.kind == modlog.NOTICE)))


async def _platform_back(services: Services, clock: FrozenClock, notifier: RecordingNotifier) -> list[str]:
    notifier.failing.clear()
    for _ in range(8):
        clock.advance(timedelta(minutes=15))
        await services.scheduler.run_due()
    return [card.text for card in notifier.in_channel(MODLOG) if "spam" in card.text]  # the removal's


async def test_the_kept_notice_holds_no_name_and_does_not_post_a_deleted_authors(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    _, zoe = await _removed_while_the_modlog_fails(services, clock, notifier)
    [notice] = await _notices(services)
    assert "Zoé Quintard" not in str(notice) and "Modo Martin" not in str(notice)

    await delete_member_data(services, zoe, zoe.member_id)

    [posted] = await _platform_back(services, clock, notifier)
    assert "Zoé Quintard" not in posted
    assert "Modo Martin" in posted and "spam" in posted and "intros #7" in posted  # the change still logged


async def test_the_kept_notice_names_them_as_the_log_does_when_nobody_deleted_anything(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    await _removed_while_the_modlog_fails(services, clock, notifier)
    [posted] = await _platform_back(services, clock, notifier)
    assert "Modo Martin" in posted and "(Zoé Quintard)" in posted and "spam" in posted


async def test_a_moderator_who_deleted_their_data_is_someone_in_the_kept_notice(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    mod, _ = await _removed_while_the_modlog_fails(services, clock, notifier)
    await delete_member_data(services, mod, mod.member_id)
    [posted] = await _platform_back(services, clock, notifier)
    assert "Modo Martin" not in posted and "(Zoé Quintard)" in posted


async def test_a_notice_kept_by_an_earlier_version_is_still_posted_as_written(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    await register_jobs(services)
    mod = await make_caller(services, "mod-a")
    await run(services, mod, set_setting, "channel.modlog", MODLOG)
    async with services.db.transaction() as session:
        await services.scheduler.schedule(
            session, kind=modlog.NOTICE, due_at=clock.now(), community_id=mod.community_id,
            payload={"key": "config.modlog",
                     "params": {"lines": "Une ligne d’avant", "when": "2026-11-26 11:00"}},
            dedupe_key=f"{modlog.NOTICE}:{mod.community_id}:config.modlog:audit-old",
        )
    await services.scheduler.run_due()
    assert any("Une ligne d’avant" in card.text for card in notifier.in_channel(MODLOG))
