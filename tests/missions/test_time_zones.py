"""Missions seen from Paris: the expiry warning on the community's calendar across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.missions._publish import register_jobs, submit_mission
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
