"""The Join card edit after the commit: the view read in the Join's transaction, edited by known message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from bot.cards import Card
from bot.clock import FrozenClock
from bot.context import Caller
from bot.notifier import PostRef
from bot.services import Services
from bot.usecase import run
from cogs.pooling._form import PoolForm
from cogs.pooling._pools import close_pool, create_pool, join_pool, register_jobs
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


def decided_card(services: Services, notifier: RecordingNotifier, title_key: str, pool_id: int) -> None:
    """The channel shows the decided card: its title, and no Join / Leave / Close / Cancel."""
    [card] = notifier.in_channel("C-POOL")
    assert card.title == services.t("fr", title_key, title="Licences Figma")
    open_actions = {f"pooling:{verb}:{pool_id}" for verb in ("join", "leave", "close", "cancel")}
    assert not open_actions & {a.id for a in card.actions}, card.actions


async def test_a_join_edit_landing_after_close_now_never_puts_the_open_card_back(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Bob's Join reaches the minimum; Alice clicks Close now before his card edit goes out: his edit,
    read before the close, must not bring the open card back (nothing would edit it again)."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    pid = await create(services, alice)
    await run(services, carol, join_pool, pid)

    async def alice_closes_meanwhile(_: object) -> None:  # after Bob's commit, before his card edit
        await run(services, alice, close_pool, pid)

    await run(services, bob, join_pool, pid, respond=alice_closes_meanwhile)
    decided_card(services, notifier, "pooling.card.happening_title", pid)


async def test_a_join_edit_landing_after_the_deadline_decision_never_puts_the_open_card_back(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    pid = await create(services, alice)

    async def the_deadline_passes_meanwhile(_: object) -> None:
        clock.set(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))
        await services.scheduler.run_due()

    clock.set(datetime(2026, 12, 4, 16, 59, 59, tzinfo=UTC))
    await run(services, bob, join_pool, pid, respond=the_deadline_passes_meanwhile)
    decided_card(services, notifier, "pooling.card.failed_title", pid)


class SlowEdits(RecordingNotifier):
    """The platform applies an edit only once `meanwhile` (run during the call) is done: the edit lands
    after whatever `meanwhile` did (another process, or another task of this one)."""

    meanwhile: Callable[[], Awaitable[None]] | None = None

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        return await super().edit(community_external_id, ref, card)


async def test_a_join_edit_still_in_flight_when_the_pool_is_decided_is_redrawn(
    services: Services
) -> None:
    """Bob's edit was checked and sent before the close; the platform applies it after the close's
    card: once it is done the pool is no longer open, so the decided card is drawn again."""
    notifier = SlowEdits()
    services.notifiers["discord"] = notifier
    register_jobs(services)
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    pid = await create(services, alice)
    await run(services, carol, join_pool, pid)

    async def alice_closes() -> None:
        await run(services, alice, close_pool, pid)

    async def arm(_: object) -> None:  # Bob's commit is done: his card edit is the next edit sent
        notifier.meanwhile = alice_closes

    await run(services, bob, join_pool, pid, respond=arm)
    decided_card(services, notifier, "pooling.card.happening_title", pid)
