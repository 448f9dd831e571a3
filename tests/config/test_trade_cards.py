"""A trade renamed or merged by a moderator: the intro cards already posted follow it.

The cards show the trade's name, and sit in its channel: without a refresh they would keep the old
name, and after a merge stay in the removed trade's channel, until the member happens to send /intro
again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.services import Services
from cogs.config._context import run as config_run
from cogs.config._trades import remove_trade, rename_trade
from cogs.intros._publish import register_jobs
from storage.models import Trade
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.intros.conftest import alice, notifier  # noqa: F401  (fixtures)
from tests.intros.test_publish import configure, submit


def _trades_field(recording: RecordingNotifier, channel: str) -> str:
    [card] = recording.in_channel(channel)
    return {f.name: f.value for f in card.fields}.get("Métiers", "")


async def _names(services: Services) -> dict[int, str]:
    async with services.db.transaction(write=False) as session:
        return {t.id: t.name for t in await session.scalars(select(Trade))}


async def _moderator(services: Services) -> Caller:
    return await make_caller(services, user="MOD", name="Modé", moderator=True)


async def test_a_renamed_trade_shows_its_new_name_on_the_intro_cards(
    services: Services, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """Edited in place, in every channel: no card posted again."""
    register_jobs(services)
    trades = await configure(services, alice)
    await submit(services, alice)  # trades[2] and trades[3]
    old = (await _names(services))[trades[2]]
    posted = len(notifier.posts)

    await config_run(services, await _moderator(services), rename_trade, old, "Rédaction web et print")
    await services.scheduler.run_due()

    for channel in ("C-INTRO", f"C-T{trades[2]}", f"C-T{trades[3]}"):
        assert "Rédaction web et print" in _trades_field(notifier, channel), channel
    assert len(notifier.posts) == posted


async def test_a_trade_merged_into_another_moves_the_intro_card_to_its_channel(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """The card leaves the removed trade's channel for the other one's, named there, without spending
    the member's repost allowance: the member did nothing."""
    register_jobs(services)
    trades = await configure(services, alice)
    await submit(services, alice)  # trades[2] and trades[3]
    names = await _names(services)
    clock.advance(timedelta(days=1))  # within the 7 days: a post claiming the allowance would be held

    await config_run(services, await _moderator(services), remove_trade, names[trades[3]], names[trades[5]])
    await services.scheduler.run_due()

    assert notifier.in_channel(f"C-T{trades[3]}") == []
    for channel in ("C-INTRO", f"C-T{trades[5]}"):
        shown = _trades_field(notifier, channel)
        assert names[trades[5]] in shown and names[trades[3]] not in shown, (channel, shown)
