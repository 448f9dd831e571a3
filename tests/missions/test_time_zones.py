"""Missions seen from Paris and Montréal: the warning and the expiry on the community's calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.config._context import run as run_config
from cogs.config._settings import set_setting
from cogs.missions._publish import register_jobs, show_interest, submit_mission
from cogs.missions.models import Mission
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def test_the_expiry_warning_comes_at_the_community_s_midnight_across_the_spring_change(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """Answer by Monday 29 March 2027, warned 2 days ahead (the default): the DM comes at midnight
    starting Sunday 28 March in Paris (23:00 UTC), as it would any other week, not on Saturday at 23:00
    because the night of the change is an hour short."""
    register_jobs(services)
    clock.set(datetime(2027, 3, 20, 10, tzinfo=UTC))
    trades = await channels(services, alice)
    mission = form(trades[:1], answer_by="2027-03-29")
    await run(services, alice, submit_mission, mission, origin_channel_id="C")
    clock.set(datetime(2027, 3, 27, 22, 30, tzinfo=UTC))  # Saturday 23:30 in Paris
    await services.scheduler.run_due()
    assert [dm for dm in notifier.dms if "expire" in dm.card.title] == []
    clock.set(datetime(2027, 3, 27, 23, 0, tzinfo=UTC))  # Sunday 00:00 in Paris
    await services.scheduler.run_due()
    [warning] = [dm for dm in notifier.dms if "expire" in dm.card.title]
    assert warning.user_id == alice.user_id
    assert "29 mars 2027 (dans 2 jours)" in warning.card.text


async def test_a_mission_posted_before_the_zone_is_set_to_montreal_expires_at_montreal_s_midnight(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, clock: FrozenClock
) -> None:
    """The community starts in Paris (the default), then its moderators set Montréal: a mission to answer
    by 10 December stays open all that day in Montréal, not until 18:00 (midnight in Paris)."""
    register_jobs(services)
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1], answer_by="2026-12-10"),
                     origin_channel_id="C")
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "timezone", "America/Toronto")
    clock.set(datetime(2026, 12, 9, 4, 59, tzinfo=UTC))  # warned 2 days ahead: at midnight in Montréal
    await services.scheduler.run_due()
    assert _warnings(notifier) == 0
    clock.set(datetime(2026, 12, 9, 5, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1
    clock.set(datetime(2026, 12, 10, 23, 30, tzinfo=UTC))  # 18:30 on 10 December in Montréal
    await services.scheduler.run_due()
    assert await run(services, bob, show_interest, done.mission_id)
    clock.set(datetime(2026, 12, 11, 4, 59, tzinfo=UTC))
    await services.scheduler.run_due()
    assert (await _status(services, done.mission_id)) == "open"
    clock.set(datetime(2026, 12, 11, 5, 0, tzinfo=UTC))  # midnight starting 11 December in Montréal
    await services.scheduler.run_due()
    assert (await _status(services, done.mission_id)) == "expired"


async def _status(services: Services, mission_id: int) -> str:
    async with services.db.transaction() as session:
        return str(await session.scalar(select(Mission.status).where(Mission.id == mission_id)))


async def test_a_warning_sent_before_the_zone_changes_is_not_sent_again(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    register_jobs(services)
    trades = await channels(services, alice)
    mission = form(trades[:1], answer_by="2026-12-10")
    await run(services, alice, submit_mission, mission, origin_channel_id="C")
    clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))  # 9 December 00:00 in Paris
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "timezone", "America/Toronto")
    clock.set(datetime(2026, 12, 9, 5, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1


def _warnings(notifier: RecordingNotifier) -> int:
    return len([dm for dm in notifier.dms if "expire" in dm.card.title])


async def test_a_new_number_of_days_moves_the_warnings_to_come(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """Warned 2 days ahead, then the moderators set 5: a mission to answer by 10 December warns its author
    on the 6th at midnight, saying 5 days, and not again on the 9th (before, it came on the 9th and said
    "in 5 days")."""
    register_jobs(services)
    trades = await channels(services, alice)
    await run(services, alice, submit_mission, form(trades[:1], answer_by="2026-12-10"),
              origin_channel_id="C")
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "missions.expiry_warning_days", "5")
    clock.set(datetime(2026, 12, 5, 22, 59, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 0
    clock.set(datetime(2026, 12, 5, 23, 0, tzinfo=UTC))  # 6 December 00:00 in Paris
    await services.scheduler.run_due()
    [warning] = [dm for dm in notifier.dms if "expire" in dm.card.title]
    assert "10 décembre 2026 (dans 5 jours)" in warning.card.text
    clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1


async def test_a_warning_sent_before_the_number_of_days_changes_is_not_sent_again(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    register_jobs(services)
    trades = await channels(services, alice)
    await run(services, alice, submit_mission, form(trades[:1], answer_by="2026-12-10"),
              origin_channel_id="C")
    clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "missions.expiry_warning_days", "1")
    clock.set(datetime(2026, 12, 9, 23, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1


async def test_a_warning_to_come_whose_new_day_has_passed_comes_at_once_with_the_days_left(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """To be warned on the 9th, 4 days before the expiry the moderators set 5 days: the author is warned
    now, with the 4 days left, rather than not at all."""
    register_jobs(services)
    trades = await channels(services, alice)
    await run(services, alice, submit_mission, form(trades[:1], answer_by="2026-12-10"),
              origin_channel_id="C")
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "missions.expiry_warning_days", "5")
    await services.scheduler.run_due()
    [warning] = [dm for dm in notifier.dms if "expire" in dm.card.title]
    assert "10 décembre 2026 (dans 4 jours)" in warning.card.text
    clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1


async def test_warnings_turned_on_warn_the_live_missions(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """0 days (no warning), then 2: a mission posted meanwhile is warned 2 days before its expiry."""
    register_jobs(services)
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "missions.expiry_warning_days", "0")
    trades = await channels(services, alice)
    await run(services, alice, submit_mission, form(trades[:1], answer_by="2026-12-10"),
              origin_channel_id="C")
    await run_config(services, mod, set_setting, "missions.expiry_warning_days", "2")
    clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _warnings(notifier) == 1
