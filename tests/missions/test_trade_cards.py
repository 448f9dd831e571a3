"""A trade renamed or merged by a moderator: the mission cards already posted follow it."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.config._context import run as config_run
from cogs.config._trades import remove_trade, rename_trade
from cogs.missions._publish import register_jobs, submit_mission
from storage.models import Trade
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import alice, channels, form, notifier  # noqa: F401  (fixtures)


def _cards(recording: RecordingNotifier, mission_id: int) -> dict[str, str]:
    """Channel -> the first field (candidates per trade) of the mission's card there."""
    return {channel: card.fields[0].value for (channel, _), card in recording.messages.items()
            if str(mission_id) in (card.footer or "")}


async def _setup(services: Services, author: Caller) -> tuple[list[int], dict[int, str], int]:
    register_jobs(services)
    trades = await channels(services, author)
    done = await run(services, author, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
    async with services.db.transaction(write=False) as session:
        names = {t.id: t.name for t in await session.scalars(select(Trade))}
    return trades, names, done.mission_id


async def test_a_renamed_trade_shows_its_new_name_on_the_mission_cards(
    services: Services, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """Without the cards job the cards keep the old name until the mission changes."""
    trades, names, mission_id = await _setup(services, alice)
    moderator = await make_caller(services, user="MOD", name="Modé", moderator=True)
    await config_run(services, moderator, rename_trade, names[trades[0]], "Rédaction web SEO")
    await services.scheduler.run_due()

    shown = _cards(notifier, mission_id)
    assert shown and all(value.startswith("Rédaction web SEO") for value in shown.values()), shown


async def test_a_trade_merged_into_another_moves_the_mission_card_to_its_channel(
    services: Services, notifier: RecordingNotifier, alice: Caller  # noqa: F811
) -> None:
    """A live mission's card leaves the removed trade's channel for the other one's."""
    trades, names, mission_id = await _setup(services, alice)
    moderator = await make_caller(services, user="MOD", name="Modé", moderator=True)
    await config_run(services, moderator, remove_trade, names[trades[0]], names[trades[1]])
    await services.scheduler.run_due()

    shown = _cards(notifier, mission_id)
    assert "C0" not in shown and "C1" in shown, shown
    assert all(value.startswith(names[trades[1]]) for value in shown.values()), shown
