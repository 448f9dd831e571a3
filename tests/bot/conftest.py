"""Fixtures of the runtime's tests."""

from __future__ import annotations

import pytest

from bot.services import Services
from tests.fakes.notifier import FlakyNotifier


@pytest.fixture
def flaky(services: Services) -> FlakyNotifier:
    """The platform answers 5xx on demand (DMs to `failing_dms`, posts in `failing`)."""
    notifier = FlakyNotifier()
    services.notifiers["discord"] = notifier
    return notifier
