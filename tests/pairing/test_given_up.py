"""A round the platform failed to publish until its check-in: the groups never opened are given up.

Never told, never asked, never announced: they do not count as having met (the grouping's history, a
member's history, the stats), and the moderators' log hears it once. A round's job claimed again while
its first holder still opens a group does not open that group a second time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import FrozenClock
from bot.notifier import ThreadRef
from bot.services import Services
from bot.usecase import run
from cogs.pairing._pairing import history, stats
from cogs.pairing._rounds import CHECKIN, OPEN, ROUND
from cogs.pairing._store import met_counts, trio_counts
from storage.settings import get_settings
from tests.fakes.notifier import RecordingNotifier
from tests.pairing.factory import PAIRING_CHANNEL, configure, member
from tests.pairing.test_pairing import (  # noqa: F401
    FIRST,
    announced,
    groups_of,
    notifier,
    pending,
    plan_now,
    private_spaces,
    spaces_of,
)

MODLOG = "C-MODLOG"


async def with_modlog(services: Services, community_id: int) -> None:
    async with services.db.transaction() as session:
        (await get_settings(session, community_id)).modlog_channel_id = MODLOG


async def past_the_check_in(services: Services, clock: FrozenClock) -> None:
    """From the round to two hours past its check-in, the scheduler sweeping every 30 minutes."""
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    [check] = await pending(services, CHECKIN)
    while clock.now() < check.due_at + timedelta(hours=2):
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()


async def test_a_group_never_opened_until_the_check_in_is_given_up_and_never_counts_as_having_met(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier  # noqa: F811
) -> None:
    """The OPEN job stopped at the check-in and left the trio "pending" for ever: never told, never asked,
    never announced, yet counted as having met (met_counts, trio_counts: the next rounds avoid grouping
    them), in their history ("Name U2, Name U3") and the stats, and no moderator ever heard of it."""
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await member(services, "U3", "Développement")
    await configure(services, alice.community_id)
    await with_modlog(services, alice.community_id)
    await plan_now(services)
    notifier.failing.add(PAIRING_CHANNEL)  # from the round past its check-in
    await past_the_check_in(services, clock)
    assert await pending(services, OPEN) == []
    assert await spaces_of(services) == ["failed"]
    async with services.db.transaction() as session:
        assert await met_counts(session, alice.community_id) == {}
        assert await trio_counts(session, alice.community_id) == {}
    card = await run(services, alice, history, write=False)
    assert "Name U2" not in str(card.fields) and "Name U3" not in str(card.fields)
    shown = await run(services, await member(services, "U9", opted=False, moderator=True), stats, write=False)
    assert "Name U1" in str(shown.fields)  # still never paired
    [notice] = notifier.in_channel(MODLOG)
    assert notice.title == services.t("fr", "pairing.unpublished.title")
    assert notice.text == services.t("fr", "pairing.unpublished.text", number="1", count="1", groups="1")
    assert notifier.dms == [] and announced(notifier) == []

    notifier.failing.clear()  # the next round groups them again, and opens their group
    clock.advance(FIRST + timedelta(days=7) - clock.now())
    for _ in range(3):
        await services.scheduler.run_due()
        clock.advance(timedelta(minutes=5))
    assert await spaces_of(services) == ["failed", "open"]
    assert len(notifier.in_channel(MODLOG)) == 1


class SecondPairFails(RecordingNotifier):
    """Discord answers 503 whenever U3's group's private thread is being opened."""

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        if "U3" in user_ids:
            raise RuntimeError("503 Service Unavailable")
        return await super().open_private_space(community_external_id, channel_id, user_ids, name)


async def test_a_round_given_up_in_part_announces_the_groups_opened(
    services: Services, clock: FrozenClock
) -> None:
    """Two pairs; one's thread fails until past the check-in. The round was never announced, the opened
    pair's members never read it; now it is, counting only the pair told of, once; only that pair is
    asked at the check-in; the moderators hear of the other once."""
    fake = SecondPairFails()
    services.notifiers["discord"] = fake
    alice = await member(services, "U1", "Design graphique")
    for user, trade in (("U2", "Développement"), ("U3", "Design graphique"), ("U4", "Développement")):
        await member(services, user, trade)
    await configure(services, alice.community_id)
    await with_modlog(services, alice.community_id)
    await plan_now(services)
    await past_the_check_in(services, clock)
    assert sorted(await spaces_of(services)) == ["failed", "open"]
    assert announced(fake) == [services.t("fr", "pairing.announce.text", count=1, people=2)]
    [space] = private_spaces(fake)
    asked = [p for p in fake.posts if p.card.title == services.t("fr", "pairing.checkin.title")]
    assert [p.channel_id for p in asked] == [space.ref.thread_id] and fake.dms == []
    [notice] = fake.in_channel(MODLOG)
    assert notice.text == services.t("fr", "pairing.unpublished.text", number="1", count="1", groups="2")
    assert await pending(services, OPEN) == []
    async with services.db.transaction() as session:
        met = await met_counts(session, alice.community_id)
    assert list(met.values()) == [1] and "U3" not in space.members


class SlowThenHanging(RecordingNotifier):
    """The first private thread takes 11 minutes (a slow platform), the second hangs until released."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__()
        self.clock = clock
        self.opened = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        self.opened += 1
        if self.opened == 1:
            self.clock.advance(timedelta(minutes=11))
        elif self.opened == 2:
            self.entered.set()
            await self.release.wait()
        return await super().open_private_space(community_external_id, channel_id, user_ids, name)


async def test_a_round_job_claimed_again_does_not_open_the_group_its_first_holder_is_opening(
    services: Services, clock: FrozenClock
) -> None:
    """The round job outlived the scheduler's `stale_after` (a slow platform): claimed again, its second
    holder took back the group the first one was opening (no other job held a live claim, its own job's
    id being left out) and opened it too: two private threads for one pair."""
    fake = SlowThenHanging(clock)
    services.notifiers["discord"] = fake
    alice = await member(services, "U1", "Design graphique")
    for user, trade in (("U2", "Développement"), ("U3", "Design graphique"), ("U4", "Développement")):
        await member(services, user, trade)
    await configure(services, alice.community_id)
    await plan_now(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - clock.now())
    first = asyncio.create_task(services.scheduler.run_job(job.id))
    await asyncio.wait_for(fake.entered.wait(), 5)  # 11 minutes on: its claim is stale
    assert await services.scheduler.run_job(job.id)  # claimed again, by another process
    assert sorted(await spaces_of(services)) == ["open", "opening"]
    fake.release.set()
    await first
    for _ in range(3):
        clock.advance(timedelta(minutes=2))
        await services.scheduler.run_due()
    assert sorted(await spaces_of(services)) == ["open", "open"]
    assert len(private_spaces(fake)) == 2
    assert len(announced(fake)) == 1
