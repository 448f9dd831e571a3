"""Fixtures for the missions unit tests: callers of one community, a recording notifier, trade channels."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.context import Caller
from bot.services import Services
from cogs.missions._validation import MissionForm
from storage.communities import trades
from storage.models import Trade
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


@pytest.fixture
async def alice(services: Services) -> Caller:
    return await make_caller(services, name="Alice")


@pytest.fixture
async def bob(services: Services) -> Caller:
    return await make_caller(services, user="U2", name="Bob")


@pytest.fixture
async def carol(services: Services) -> Caller:
    return await make_caller(services, user="U3", name="Carol")


async def channels(services: Services, caller: Caller) -> list[int]:
    """Trade i gets channel "C<i>"; the missions channel is "CMISSIONS". Returns the trade ids."""
    async with services.db.transaction() as session:
        rows = await trades(session, caller.community_id)
        for i, trade in enumerate(rows):
            await session.execute(update(Trade).where(Trade.id == trade.id).values(channel_id=f"C{i}"))
        (await get_settings(session, caller.community_id)).missions_channel_id = "CMISSIONS"
        return [t.id for t in rows]


def form(trade_ids: list[int], **changes: str) -> MissionForm:
    base = MissionForm(
        trade_ids=[str(t) for t in trade_ids],
        title="Site vitrine pour une boulangerie",
        description="Refonte complète, 5 pages, SEO local.",
        skills="WordPress, SEO",
        budget="3000 €",
        duration="3 semaines",
        work_mode="remote",
        client_name="Boulangerie Dupain",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base
