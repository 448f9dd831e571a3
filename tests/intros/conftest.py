"""Fixtures for the intros unit tests: two communities, their callers, a recording notifier."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from bot.cards import Card
from bot.context import Caller, Origin
from bot.notifier import Attachment, PostRef
from bot.services import Services
from cogs.intros._validation import IntroForm


@dataclass
class RecordingNotifier:
    """A Notifier that remembers what would be on the platform."""

    platform: str = "discord"
    messages: dict[tuple[str, str], Card] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (verb, channel)
    refuse: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        self.calls.append(("post", channel_id))
        if channel_id in self.refuse:
            return None
        ref = PostRef(channel_id, str(next(self._ids)))
        self.messages[(ref.channel_id, ref.message_id)] = card
        return ref

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        self.calls.append(("edit", ref.channel_id))
        if (ref.channel_id, ref.message_id) not in self.messages:
            return False
        self.messages[(ref.channel_id, ref.message_id)] = card
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        self.calls.append(("delete", ref.channel_id))
        return self.messages.pop((ref.channel_id, ref.message_id), None) is not None

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        return None

    def in_channel(self, channel_id: str) -> list[Card]:
        return [card for (channel, _), card in self.messages.items() if channel == channel_id]


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


async def make_caller(
    services: Services,
    guild: str = "G1",
    user: str = "U1",
    *,
    name: str = "Alice",
    locale: str = "fr",
    admin: bool = False,
) -> Caller:
    return await services.caller(
        Origin(
            platform="discord",
            community_external_id=guild,
            community_name=guild,
            user_id=user,
            display_name=name,
            user_locale=locale,
            community_locale=locale,
            is_platform_admin=admin,
        )
    )


@pytest.fixture
async def alice(services: Services) -> Caller:
    return await make_caller(services)


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
