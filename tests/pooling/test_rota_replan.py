"""A coming rota turn follows the time zone and the hour its due time was planned with.

A turn is due "at the tasks hour in the community's time zone" (README); it is planned once, with its
REMIND and ROLL jobs. A change of time zone, of `pooling.tasks_hour` or of the reminder's lead time
moves it at once (the settings change's hook), and the jobs check again when they run (a change the
hook missed: a turn planned at the same moment). NOW (tests/conftest.py) is Thursday 2026-11-26 10:00
UTC, 11:00 in Paris; the first turn is due Monday 30 Nov 09:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.scheduler import PENDING
from bot.services import Services
from bot.usecase import run
from cogs.config._context import run as run_config
from cogs.config._settings import set_setting
from cogs.pooling._rota import add_task, remove_task, volunteer
from cogs.pooling._rota_time import same_day_at
from storage.models import Job
from storage.settings import write_feature_values
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.pooling.test_rota import MONDAY, form, notifier, turns  # noqa: F401  (fixture)

SATURDAY = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # the reminder, two days before, 09:00 in Paris


async def _rota(services: Services):
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    assert (turn.due_at, turn.remind_at) == (MONDAY, SATURDAY)
    await run(services, ana, volunteer, turn.task_id)
    return mod, turn


async def _pending_jobs(services: Services) -> list[tuple[str, datetime]]:
    async with services.db.transaction(write=False) as session:
        return [(k, d) for k, d in await session.execute(
            select(Job.kind, Job.due_at).where(Job.state == PENDING, Job.kind.like("pooling.task_%"))
            .order_by(Job.due_at))]


async def _write_directly(services: Services, community_id: int, values: dict[str, int]) -> None:
    """A change the settings hook did not see (a turn planned at the same moment from the old ones)."""
    async with services.db.transaction() as session:
        await write_feature_values(session, community_id, values)


def test_a_turn_keeps_its_day_in_another_time_zone() -> None:
    # Monday 09:00 in Tokyo is Sunday 19:00 in Montréal: the turn stays on Monday.
    tokyo = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert same_day_at(tokyo, weekday="mon", hour=9, timezone="America/Montreal") == datetime(
        2026, 11, 30, 14, 0, tzinfo=UTC)
    assert same_day_at(MONDAY, weekday="mon", hour=9, timezone="Pacific/Kiritimati") == datetime(
        2026, 11, 29, 19, 0, tzinfo=UTC)


async def test_a_time_zone_change_moves_the_coming_turn_its_reminder_and_its_jobs(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    await run_config(services, mod, set_setting, "timezone", "America/Montreal")
    monday = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 09:00 in Montréal
    saturday = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    [turn] = await turns(services)
    assert (turn.due_at, turn.remind_at) == (monday, saturday)
    assert await _pending_jobs(services) == [("pooling.task_remind", saturday), ("pooling.task_roll", monday)]

    clock.set(SATURDAY)  # the old reminder time: nothing
    await services.scheduler.run_due()
    assert notifier.dms == []
    clock.set(saturday)
    await services.scheduler.run_due()
    assert len(notifier.dms) == 1
    clock.set(MONDAY)  # the old due time: no next turn yet
    await services.scheduler.run_due()
    assert len(await turns(services)) == 1
    clock.set(monday)
    await services.scheduler.run_due()
    assert [t.due_at for t in await turns(services)] == [monday, datetime(2026, 12, 7, 14, 0, tzinfo=UTC)]


async def test_an_hour_change_after_the_reminder_moves_the_due_time_not_the_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    clock.set(SATURDAY)
    await services.scheduler.run_due()
    assert len(notifier.dms) == 1
    await run_config(services, mod, set_setting, "pooling.tasks_hour", "14")
    monday = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    [turn] = await turns(services)
    assert (turn.due_at, turn.remind_at) == (monday, SATURDAY)
    clock.set(MONDAY)
    await services.scheduler.run_due()
    assert len(await turns(services)) == 1
    clock.set(monday)
    await services.scheduler.run_due()
    assert [t.due_at for t in await turns(services)] == [monday, datetime(2026, 12, 7, 13, 0, tzinfo=UTC)]
    assert len(notifier.dms) == 1  # reminded once


async def test_a_reminder_lead_change_moves_a_reminder_still_to_come(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    await run_config(services, mod, set_setting, "pooling.tasks_remind_days", "3")
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    [turn] = await turns(services)
    assert (turn.due_at, turn.remind_at) == (MONDAY, friday)
    clock.set(friday)
    await services.scheduler.run_due()
    assert len(notifier.dms) == 1


async def test_the_reminder_job_catches_an_hour_change_the_hook_missed(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    await _write_directly(services, mod.community_id, {"pooling.tasks_hour": 14})
    clock.set(SATURDAY)
    await services.scheduler.run_due()
    assert notifier.dms == []  # not at the old hour: moved
    monday, saturday = datetime(2026, 11, 30, 13, 0, tzinfo=UTC), datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    [turn] = await turns(services)
    assert (turn.due_at, turn.remind_at) == (monday, saturday)
    clock.set(saturday)
    await services.scheduler.run_due()
    assert len(notifier.dms) == 1


async def test_the_roll_job_catches_an_hour_change_the_hook_missed(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    clock.set(SATURDAY)
    await services.scheduler.run_due()
    await _write_directly(services, mod.community_id, {"pooling.tasks_hour": 14})
    clock.set(MONDAY)
    await services.scheduler.run_due()
    monday = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    assert [t.due_at for t in await turns(services)] == [monday]
    clock.set(monday)
    await services.scheduler.run_due()
    assert [t.due_at for t in await turns(services)] == [monday, datetime(2026, 12, 7, 13, 0, tzinfo=UTC)]
    assert len(notifier.dms) == 1


async def test_a_new_hour_already_past_today_leaves_the_turn_as_its_holder_was_told(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    clock.set(datetime(2026, 11, 30, 6, 30, tzinfo=UTC))  # 07:30 on the Monday, in Paris
    await services.scheduler.run_due()
    await run_config(services, mod, set_setting, "pooling.tasks_hour", "7")
    [turn] = await turns(services)
    assert turn.due_at == MONDAY


async def test_removing_a_task_cancels_the_jobs_of_a_moved_turn(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock  # noqa: F811
) -> None:
    mod, _ = await _rota(services)
    await run_config(services, mod, set_setting, "pooling.tasks_hour", "14")
    await run(services, mod, remove_task, "Comptabilité")
    assert await _pending_jobs(services) == []
    clock.set(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert [t.status for t in await turns(services)] == ["stopped"]
    assert notifier.dms == []
