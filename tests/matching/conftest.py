"""Fixtures for the matching tests: a community of profiles seeded straight into the tables."""

from __future__ import annotations

import pytest

from bot.context import Caller
from bot.services import Services
from cogs.matching._invite import on_start
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


@pytest.fixture
async def alice(services: Services) -> Caller:
    await on_start(services)  # the invitations' expiry job
    return await make_caller(services, name="Alice")
