"""Intros seen from Paris and Montréal: "available from <date>" turns at the community's midnight.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from cogs.config._context import run as run_config
from cogs.config._settings import set_setting
from cogs.intros._publish import register_jobs
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.intros.test_publish import configure, submit


def _availability(notifier: RecordingNotifier) -> str:
    [card] = notifier.in_channel("C-INTRO")
    return {f.name: f.value for f in card.fields}["Disponibilité"]


async def test_a_from_date_set_before_the_zone_is_set_to_montreal_turns_at_montreal_s_midnight(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """The community starts in Paris (the default), then its moderators set Montréal: a member available
    from 10 December is shown available from midnight in Montréal, not from 18:00 the day before (midnight
    in Paris), when the job redrew the card as of 9 December and nothing turned it afterwards."""
    register_jobs(services)
    await configure(services, alice)
    await submit(services, alice, availability="from_date", available_from="2026-12-10")
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "timezone", "America/Toronto")
    clock.set(datetime(2026, 12, 9, 23, 0, tzinfo=UTC))  # midnight in Paris, 18:00 in Montréal
    await services.scheduler.run_due()
    assert _availability(notifier).startswith("Disponible à partir du")
    clock.set(datetime(2026, 12, 10, 4, 59, tzinfo=UTC))
    await services.scheduler.run_due()
    assert _availability(notifier).startswith("Disponible à partir du")
    clock.set(datetime(2026, 12, 10, 5, 0, tzinfo=UTC))  # midnight starting 10 December in Montréal
    assert await services.scheduler.run_due() == 1
    assert _availability(notifier) == "Disponible"


async def test_a_from_date_reached_in_the_new_zone_turns_at_once(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller
) -> None:
    """From Montréal to Paris at 00:30 on 10 December in Paris (18:30 on the 9th in Montréal): the date
    has come in the new zone, the card turns now rather than at midnight in Montréal, six hours later."""
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    await run_config(services, mod, set_setting, "timezone", "America/Toronto")
    alice = await make_caller(services, name="Alice")
    register_jobs(services)
    await configure(services, alice)
    await submit(services, alice, availability="from_date", available_from="2026-12-10")
    clock.set(datetime(2026, 12, 9, 23, 30, tzinfo=UTC))
    await run_config(services, mod, set_setting, "timezone", "Europe/Paris")
    assert await services.scheduler.run_due() == 1
    assert _availability(notifier) == "Disponible"
