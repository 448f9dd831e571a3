"""Fixtures for the intros unit tests: two communities, their callers, a recording notifier."""

from __future__ import annotations

import pytest

from bot.context import Caller
from bot.services import Services
from cogs.intros._validation import IntroForm
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


async def trade_ids(services: Services, community_id: int) -> list[int]:
    from storage.communities import trades

    async with services.db.transaction() as session:
        return [t.id for t in await trades(session, community_id)]


async def sector_ids(services: Services, community_id: int) -> list[int]:
    from storage.communities import sectors

    async with services.db.transaction() as session:
        return [s.id for s in await sectors(session, community_id)]


async def good_form(services: Services, caller: Caller, **changes: object) -> IntroForm:
    trades = await trade_ids(services, caller.community_id)
    sectors = await sector_ids(services, caller.community_id)
    form = IntroForm(
        trade_ids=[str(trades[2]), str(trades[3])],
        sector_ids=[str(sectors[0])],
        skills="WordPress, Référencement, rédaction",
        city="Lyon",
        work_mode="hybrid",
        languages=["fr", "en"],
        rate="400-600",
        availability="available",
        links="https://alice.example\nhttp://blog.example/alice",
        bio="Rédactrice web depuis 8 ans.",
    )
    for name, value in changes.items():
        setattr(form, name, value)
    return form
