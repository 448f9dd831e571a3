"""/privacy delete in pairing: the member's groups' cards lose them, others' "don't pair me with" stays."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.cards import Card
from bot.clock import FrozenClock
from bot.notifier import Attachment, CannotPost, PostRef, ThreadRef
from bot.services import Services
from bot.usecase import run
from cogs.pairing import FEATURE
from cogs.pairing._pairing import avoid, history, unavoid
from cogs.pairing._store import export_member
from cogs.pairing.models import PairingAvoid
from cogs.privacy._privacy import delete_member_data
from storage.models import Post
from tests.fakes.notifier import RecordingNotifier
from tests.pairing.factory import configure, member
from tests.pairing.test_pairing import FIRST, groups_of, plan_now


class DmNotifier(RecordingNotifier):
    """DMs are kept like posts, so that what a DM shows after an edit can be read."""

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        ref = await super().dm(community_external_id, user_id, card, attachment)
        if ref is not None:
            self.messages[(ref.channel_id, ref.message_id)] = card
        return ref


class ArchivingNotifier(RecordingNotifier):
    """Discord's archived threads: their messages refuse edits ("Thread is archived"), a new message
    reopens them."""

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        space = self.threads.get(ref.channel_id)
        if space is not None and space.archived:
            raise CannotPost(ref.channel_id, "archived")  # Discord: 50083 "Thread is archived"
        return await super().edit(community_external_id, ref, card)

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        space = self.threads.get(thread.thread_id)
        if space is not None:
            space.archived = False
        return await super().post_in_thread(community_external_id, thread, card)


class DeletingNotifier(RecordingNotifier):
    """A member's data deletion lands while their group's card is on its way (after it is drawn)."""

    def __init__(self, services: Services, community_id: int, member_id: int) -> None:
        super().__init__()
        self.services, self.community_id, self.member_id = services, community_id, member_id

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        ref = await super().post_in_thread(community_external_id, thread, card)
        assert FEATURE.privacy is not None
        async with self.services.db.transaction() as session:
            await FEATURE.privacy.delete(session, self.community_id, self.member_id)
        return ref


async def run_privacy_jobs(services: Services, clock: FrozenClock) -> None:
    """The jobs a privacy hook queued: due at once on the wall clock (it has no other at hand)."""
    clock.set(max(clock.now(), datetime.now(UTC)) + timedelta(minutes=1))
    await services.scheduler.run_due()


def showing(notifier: RecordingNotifier, text: str) -> list[tuple[str, str]]:
    """Where `text` is shown on the platform now."""
    return [key for key, card in notifier.messages.items() if text in str(card)]


async def hold_first_round(services: Services, clock: FrozenClock) -> None:
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()


async def test_a_deleted_members_bio_and_name_leave_the_groups_card_in_its_private_thread(
    services: Services, clock: FrozenClock
) -> None:
    """The card in the group's thread showed Alice's trades, city and bio: once she deletes her data it
    shows Bob and "a former member", recorded as the group's, still there for the next deletion."""
    notifier = RecordingNotifier()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)
    await hold_first_round(services, clock)
    [card_at] = showing(notifier, "Bio U1")
    assert showing(notifier, "Bio U2") == [card_at]

    await delete_member_data(services, alice, alice.member_id)
    await run_privacy_jobs(services, clock)

    assert showing(notifier, "Bio U1") == [] and showing(notifier, "Name U1") == []
    card = notifier.messages[card_at]
    assert "Bio U2" in str(card) and services.t("fr", "pairing.card.former_member") in card.text
    async with services.db.transaction() as session:
        [post] = list(await session.scalars(select(Post).where(Post.feature == "pairing")))
    assert (post.channel_id, post.message_id, post.member_id) == (*card_at, None)
    [space] = [s for s in notifier.threads.values() if s.private]  # its name named her too
    assert space.name == services.t("fr", "pairing.card.space_name",
                                    names=f"Name U2, {services.t('fr', 'pairing.card.former_member')}")


async def test_with_cards_sent_by_dm_hers_is_removed_and_the_others_redrawn(
    services: Services, clock: FrozenClock
) -> None:
    notifier = DmNotifier()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id, channel=None)  # no pairing channel: the card by DM
    await hold_first_round(services, clock)
    assert sorted(channel for channel, _ in showing(notifier, "Bio U1")) == ["dm-U1", "dm-U2"]

    await delete_member_data(services, alice, alice.member_id)
    await run_privacy_jobs(services, clock)

    assert showing(notifier, "Bio U1") == [] and showing(notifier, "Name U1") == []
    assert [channel for channel, _ in showing(notifier, "Bio U2")] == ["dm-U2"]
    [(_, card)] = [(key, c) for key, c in notifier.messages.items() if key[0] == "dm-U2"]
    assert services.t("fr", "pairing.card.former_member") in card.text


async def test_an_archived_thread_is_reopened_by_a_notice_then_its_card_redrawn(
    services: Services, clock: FrozenClock
) -> None:
    notifier = ArchivingNotifier()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)
    await hold_first_round(services, clock)
    [space] = [s for s in notifier.threads.values() if s.private]
    space.archived = True  # a week without messages

    await delete_member_data(services, alice, alice.member_id)
    await run_privacy_jobs(services, clock)

    assert showing(notifier, "Bio U1") == [] and not space.archived
    assert notifier.in_channel(space.ref.thread_id)[-1].text == services.t("fr", "pairing.card.former_notice")


async def test_a_deletion_while_the_card_is_on_its_way_gets_it_redrawn(
    services: Services, clock: FrozenClock
) -> None:
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    notifier = DeletingNotifier(services, alice.community_id, alice.member_id)
    services.notifiers["discord"] = notifier
    await configure(services, alice.community_id)
    await hold_first_round(services, clock)
    assert showing(notifier, "Bio U1")  # posted as drawn, before her deletion was recorded

    await services.scheduler.run_due()  # the redraw the round queued on seeing it

    assert showing(notifier, "Bio U1") == [] and showing(notifier, "Bio U2")


async def test_bobs_dont_pair_me_with_alice_holds_after_she_deletes_her_data_and_comes_back(
    services: Services, clock: FrozenClock
) -> None:
    """ "Always holds, both ways": Alice's deletion does not erase Bob's entry; back and opted in again,
    she is never paired with him."""
    services.notifiers["discord"] = RecordingNotifier()
    alice = await member(services, "U1", "Design graphique")
    bob = await member(services, "U2", "Développement")
    await member(services, "U3", "Design graphique")
    await member(services, "U4", "Développement")
    await configure(services, alice.community_id, group_size=2)
    await run(services, bob, avoid, "U1")

    await delete_member_data(services, alice, alice.member_id)
    alice = await member(services, "U1", "Design graphique")  # back: /intro again, pair me
    await plan_now(services)
    for _ in range(3):
        clock.advance(timedelta(days=7) if clock.now() >= FIRST else FIRST - clock.now())
        await services.scheduler.run_due()
        for group in await groups_of(services):
            assert not {alice.member_id, bob.member_id} <= set(group)
    assert len(await groups_of(services)) == 6  # three rounds of two pairs: nobody left out


async def test_the_kept_entry_names_nobody_and_shows_to_bob_as_a_former_member(
    services: Services, clock: FrozenClock
) -> None:
    services.notifiers["discord"] = RecordingNotifier()
    alice = await member(services, "U1", "Design graphique")
    bob = await member(services, "U2", "Développement")
    await run(services, bob, avoid, "U1")
    await run(services, alice, avoid, "U2")  # her own list: hers, deleted with her

    await delete_member_data(services, alice, alice.member_id)

    async with services.db.transaction() as session:
        [entry] = list(await session.scalars(select(PairingAvoid)))
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert (entry.member_id, entry.avoided_id) == (bob.member_id, None)
    assert entry.avoided_key not in (None, "U1", hashlib.sha256(b"U1").hexdigest())
    assert exported["dont_pair_with"] == ["a former member"]
    card = await run(services, bob, history, write=False)
    assert services.t("fr", "pairing.card.former_member") in card.fields[2].value


async def test_avoid_or_unavoid_on_her_returned_account_takes_the_kept_entrys_place(
    services: Services, clock: FrozenClock
) -> None:
    services.notifiers["discord"] = RecordingNotifier()
    alice = await member(services, "U1", "Design graphique")
    bob = await member(services, "U2", "Développement")
    await run(services, bob, avoid, "U1")
    await delete_member_data(services, alice, alice.member_id)
    alice = await member(services, "U1", "Design graphique")

    async with services.db.transaction() as session:
        kept = await export_member(session, bob.community_id, bob.member_id)
    await run(services, bob, avoid, "U1")  # her name again, not twice
    async with services.db.transaction() as session:
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert (kept["dont_pair_with"], exported["dont_pair_with"]) == (["a former member"], ["Name U1"])
    await delete_member_data(services, alice, alice.member_id)
    await member(services, "U1", "Design graphique")
    await run(services, bob, unavoid, "U1")  # ends the entry kept from her second deletion
    async with services.db.transaction() as session:
        assert list(await session.scalars(select(PairingAvoid))) == []


class ThreadCardFails(RecordingNotifier):
    """The group's thread opens, but the card in it fails (503) until `failing_cards` is cleared; then
    renaming the thread fails `renames_failing` times (Discord's PATCH answering 503, or a long 429)."""

    failing_cards = True
    renames_failing = 0

    async def rename_private_space(self, community_external_id: str, space: ThreadRef, name: str) -> bool:
        if self.renames_failing:
            self.renames_failing -= 1
            raise RuntimeError("503 Service Unavailable (rename)")
        return await super().rename_private_space(community_external_id, space, name)

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        if self.failing_cards:
            raise RuntimeError("503 Service Unavailable")
        return await super().post_in_thread(community_external_id, thread, card)


async def test_a_thread_whose_card_had_not_gone_out_yet_loses_her_name_too(
    services: Services, clock: FrozenClock
) -> None:
    """The thread "Café : Name U1, Name U2" is open, its card waiting for its job (a 503); Alice deletes
    her data meanwhile: with no card recorded, the thread's name must still lose her name."""
    notifier = ThreadCardFails()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)
    await hold_first_round(services, clock)
    [space] = [s for s in notifier.threads.values() if s.private]
    assert "Name U1" in space.name

    await delete_member_data(services, alice, alice.member_id)
    await run_privacy_jobs(services, clock)
    notifier.failing_cards = False
    for _ in range(6):  # the card's DELIVER job (3 minutes later, backing off)
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()
    [card] = [c for (where, _), c in notifier.messages.items() if where == space.ref.thread_id]
    assert "Name U1" not in str(card) and "Name U1" not in space.name, space.name


async def test_a_card_delivered_after_a_deletion_is_posted_once_when_the_rename_fails(
    services: Services, clock: FrozenClock
) -> None:
    """The card goes out after Alice's deletion; renaming the thread then fails once: the card, already
    out, must be recorded, not posted a second time by the job's retry."""
    notifier = ThreadCardFails()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await member(services, "U3", "Développement")
    await configure(services, alice.community_id)
    await hold_first_round(services, clock)
    [space] = [s for s in notifier.threads.values() if s.private and "Name U1" in s.name]
    await delete_member_data(services, alice, alice.member_id)
    await run_privacy_jobs(services, clock)  # renamed already (no card yet)
    notifier.failing_cards, notifier.renames_failing = False, 1
    for _ in range(8):  # the card's DELIVER job (backing off), then its redraw
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()
    cards = [c for (where, _), c in notifier.messages.items() if where == space.ref.thread_id]
    assert len(cards) == 1 and "Name U1" not in space.name, (len(cards), space.name)
