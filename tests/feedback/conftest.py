"""Fixtures for the feedback unit tests: a community with a feedback channel, a requester, two reviewers."""

from __future__ import annotations

import pytest

from bot.context import Caller
from bot.services import Services
from cogs.feedback._feedback import on_start
from cogs.feedback._validation import RequestForm
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

FEEDBACK_CHANNEL = "C-FEEDBACK"


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


@pytest.fixture
async def alice(services: Services, notifier: RecordingNotifier) -> Caller:
    await on_start(services)
    caller = await make_caller(services, name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).feedback_channel_id = FEEDBACK_CHANNEL
    return caller


@pytest.fixture
async def bob(services: Services, alice: Caller) -> Caller:
    return await make_caller(services, user="U2", name="Bob")


@pytest.fixture
async def chloe(services: Services, alice: Caller) -> Caller:
    return await make_caller(services, user="U3", name="Chloé")


@pytest.fixture
async def moderator(services: Services, alice: Caller) -> Caller:
    return await make_caller(services, user="U9", name="Modo", moderator=True)


def good_request(**changes: object) -> RequestForm:
    form = RequestForm(
        title="Logo pour une boulangerie",
        links="https://alice.example/logo.png",
        kind="design",
        question="La typo est-elle lisible en petit ?",
        anonymous=True,
    )
    for name, value in changes.items():
        setattr(form, name, value)
    return form
