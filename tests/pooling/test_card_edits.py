"""The Join card edit after the commit: the view read in the Join's transaction, edited by known message."""

from __future__ import annotations

import pytest

from bot.context import Caller
from bot.services import Services
from bot.usecase import run
from cogs.pooling._form import PoolForm
from cogs.pooling._pools import create_pool, join_pool, register_jobs
from cogs.pooling._settings import CHANNEL
from storage.models import FeatureSetting
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def create(services: Services, caller: Caller, maximum: int = 4) -> int:
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=caller.community_id, key=CHANNEL.key, value="C-POOL"))
    form = PoolForm(title="Licences Figma", what="Un an de Figma Pro", link="https://figma.example/team",
                    tiers="1-2: 15; 3+: 12,50", minimum="2", maximum=str(maximum),
                    deadline="2026-12-04 18:00")
    return (await run(services, caller, create_pool, form)).pool_id


async def test_an_edit_finishing_after_a_newer_join_never_shows_the_older_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    pid = await create(services, alice)

    async def bob_joins_meanwhile(_: object) -> None:  # after Carol's commit, before her card edit
        await run(services, bob, join_pool, pid)

    await run(services, carol, join_pool, pid, respond=bob_joins_meanwhile)
    [card] = notifier.in_channel("C-POOL")
    shown = {f.name: f.value for f in card.fields}
    assert shown["Places"] == "2 / 4"  # Bob's edit went out; Carol's, read before Bob joined, did not


async def test_a_full_pool_card_names_the_first_in_and_counts_the_rest(
    services: Services, notifier: RecordingNotifier
) -> None:
    """The card reads only the names it shows (NAMES_SHOWN) and counts the others and the waitlist."""
    alice = await make_caller(services, "U0", name="Alice")
    pid = await create(services, alice, maximum=17)
    for i in range(1, 21):
        await run(services, await make_caller(services, f"U{i}", name=f"Membre {i:02d}"), join_pool, pid)

    [card] = notifier.in_channel("C-POOL")
    shown = {f.name: f.value for f in card.fields}
    more = services.t("fr", "pooling.card.and_more", count=2)
    names = ", ".join([*(f"Membre {i:02d}" for i in range(1, 16)), more])
    assert shown[services.t("fr", "pooling.card.participants_of", count=17, minimum=2)].endswith(names)
    assert shown["Places"] == "17 / 17"
    waitlist = services.t("fr", "pooling.card.waitlist", count=3)
    assert shown[services.t("fr", "pooling.fields.waitlist")] == waitlist
