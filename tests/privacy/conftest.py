"""Fixtures for the privacy tests: a notifier that remembers the platform's messages, seeded members."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from bot.cards import Card
from bot.models import metadata
from bot.notifier import Attachment, PostRef
from bot.services import Services
from storage.models import Post


@dataclass
class FakeNotifier:
    platform: str = "discord"
    messages: dict[tuple[str, str], Card] = field(default_factory=dict)
    deleted: list[PostRef] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        ref = PostRef(channel_id, str(next(self._ids)))
        self.messages[(ref.channel_id, ref.message_id)] = card
        return ref

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        return (ref.channel_id, ref.message_id) in self.messages

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        self.deleted.append(ref)
        return self.messages.pop((ref.channel_id, ref.message_id), None) is not None

    async def dm(self, community_external_id: str, user_id: str, card: Card,
                 attachment: Attachment | None = None) -> PostRef | None:
        return None


@pytest.fixture
def notifier(services: Services) -> FakeNotifier:
    fake = FakeNotifier()
    services.notifiers["discord"] = fake
    return fake


async def post_for(services: Services, notifier: FakeNotifier, community_id: int, member_id: int,
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
