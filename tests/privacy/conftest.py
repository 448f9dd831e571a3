"""Fixtures for the privacy tests: a notifier that remembers the platform's messages, seeded members."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.cards import Card
from bot.models import metadata
from bot.notifier import PostRef
from bot.services import Services
from storage.models import Post
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    fake = RecordingNotifier()
    services.notifiers["discord"] = fake
    return fake


async def post_for(services: Services, notifier: RecordingNotifier, community_id: int, member_id: int,
                   feature: str, object_id: int, channel: str) -> PostRef:
    ref = await notifier.post("g", channel, Card(title="card"))
    assert ref is not None
    async with services.db.transaction() as s:
        s.add(Post(community_id=community_id, member_id=member_id, feature=feature, object_id=object_id,
                   channel_id=ref.channel_id, message_id=ref.message_id, posted_at=services.clock.now()))
    return ref


async def snapshot(services: Services) -> dict[str, int]:
    """Row counts of every table: "nothing changed" in one comparison."""
    async with services.db.transaction() as s:
        return {name: await s.scalar(select(func.count()).select_from(table)) or 0
                for name, table in metadata.tables.items()}
