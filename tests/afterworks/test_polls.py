"""Date polls: slots read like the afterwork's time, ticks settled by the database, the organizer's pick.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.errors import InvalidInput, UserError
from bot.services import Services
from bot.usecase import run
from cogs.afterworks._polls import (
    PollForm,
    create_poll,
    delete_member,
    export_member,
    pick,
    read_poll,
    register_jobs,
    vote,
)
from cogs.afterworks.models import Afterwork, PollSlot, PollVote
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


def poll_form(**changes: str) -> PollForm:
    base = PollForm(
        title="Apéro de fin d’année",
        slot1="jeudi 19h",
        slot2="2026-12-04 19:00",
        slot3="dans 3 jours à 11h",
        where="Le Comptoir",
        city="Lyon",
        capacity="10",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def slots(services: Services) -> list[PollSlot]:
    async with services.db.transaction() as session:
        return list(await session.scalars(select(PollSlot).order_by(PollSlot.position)))


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"slot2": "", "slot3": ""}, {"slot2": "afterworks.problems.slots_missing"}),
        ({"slot1": "", "slot2": "", "slot3": ""}, {"slot1": "afterworks.problems.slots_missing"}),
        ({"slot2": "2026-11-20 19:00"}, {"slot2": "afterworks.problems.when_past"}),
        ({"slot4": "quand tu veux"}, {"slot4": "afterworks.problems.when_unreadable"}),
        ({"slot3": "2026-12-03 19:00"}, {"slot3": "afterworks.problems.slot_twice"}),  # = "jeudi 19h"
        ({"slot5": "2027-03-28 02:30"}, {"slot5": "afterworks.problems.when_missing"}),
        (
            {"where": "javascript:alert(1)", "title": ""},
            {"where": "afterworks.problems.link_scheme", "title": "afterworks.problems.title_missing"},
        ),
    ],
)
def test_every_bad_slot_or_field_is_named(
    services: Services, changes: dict[str, str], problems: dict
) -> None:
    with pytest.raises(InvalidInput) as error:
        read_poll(services.catalog, poll_form(**changes), "Europe/Paris", NOW, "fr")
    assert {k: v[0] for k, v in error.value.problems.items()} == problems


def test_the_slots_understood_in_words(services: Services) -> None:
    read = read_poll(services.catalog, poll_form(), "Europe/Paris", NOW, "fr")
    assert [s for s, _ in read.slots] == [
        datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 4, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    ]
    assert "• n°3 : dimanche 29 novembre 2026, 11:00 (heure de Paris)" in read.understood


async def test_members_tick_the_organizer_picks_and_the_afterwork_is_created(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"
    created = await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")
    assert created.posted
    first, second, third = await slots(services)
    [card] = notifier.in_channel("C-AW")
    assert card.title == "🗳️ Sondage : Apéro de fin d’année"
    assert [a.id for a in card.actions] == [
        *(f"afterworks:vote:{s.id}" for s in (first, second, third)),
        *(f"afterworks:pick:{s.id}" for s in (first, second, third)),
    ]

    assert (await run(services, bob, vote, first.id)).can is True
    assert (await run(services, bob, vote, second.id)).can is True
    assert (await run(services, carol, vote, second.id)).can is True
    assert (await run(services, bob, vote, second.id)).can is False  # a second click takes it back
    shown = {f.name: f.value for f in notifier.in_channel("C-AW")[0].fields}
    assert shown["Date n°2"].endswith("1 dispo : Carol")
    assert shown["Date n°1"].endswith("1 dispo : Bob")

    # Twenty members at once on the third slot: twenty ticks, counted by the database.
    crowd = [await make_caller(services, f"UC{n}", name=f"M{n}") for n in range(20)]
    await asyncio.gather(*(run(services, who, vote, third.id) for who in crowd))
    async with services.db.transaction() as session:
        ticks = await session.scalar(
            select(func.count()).select_from(PollVote).where(PollVote.slot_id == third.id)
        )
    assert ticks == 20

    with pytest.raises(UserError) as refused:
        await run(services, bob, pick, second.id)
    assert refused.value.key == "afterworks.errors.not_organizer"
    picked = await run(services, alice, pick, second.id)
    assert picked.position == 2
    async with services.db.transaction() as session:
        afterwork = await session.get(Afterwork, picked.afterwork_id)
    assert (afterwork.starts_at, afterwork.organizer_id, afterwork.title, afterwork.capacity) == (
        datetime(2026, 12, 4, 18, 0, tzinfo=UTC),
        alice.member_id,
        "Apéro de fin d’année",
        10,
    )
    cards = notifier.in_channel("C-AW")
    assert [c.title for c in cards] == ["🗳️ Sondage : Apéro de fin d’année", "🍻 Apéro de fin d’année"]
    assert cards[0].actions == ()
    assert {f.name for f in cards[0].fields} >= {"Date n°2 ✅"}
    assert [(d.user_id, d.card.title) for d in notifier.dms] == [
        ("U3", "📅 C’est fixé : Apéro de fin d’année")
    ]

    for who, action in ((alice, pick), (bob, vote)):
        with pytest.raises(UserError) as closed:
            await run(services, who, action, first.id)
        assert closed.value.key == "afterworks.errors.poll_closed"
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Afterwork)) == 1


async def test_a_slot_passed_is_refused_and_other_communities_find_nothing(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    stranger = await make_caller(services, "U9", guild="g2", name="Eve")
    await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")
    first, _second, third = await slots(services)
    for action in (vote, pick):
        with pytest.raises(UserError) as missing:
            await run(services, stranger, action, first.id)
        assert missing.value.key == "afterworks.errors.poll_not_found"
    clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    for action in (vote, pick):
        with pytest.raises(UserError) as past:
            await run(services, alice, action, third.id)
        assert past.value.key == "afterworks.errors.slot_past"


async def test_privacy_exports_and_deletes_ticks_and_polls(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")
    first, *_ = await slots(services)
    await run(services, bob, vote, first.id)
    async with services.db.transaction() as session:
        exported = await export_member(session, bob.community_id, bob.member_id)
        organized = await export_member(session, alice.community_id, alice.member_id)
    assert exported["poll_ticks"] == [
        {"poll_id": first.poll_id, "title": "Apéro de fin d’année", "slot": "2026-12-03T18:00:00+00:00"}
    ]
    assert [p["title"] for p in organized["polls"]] == ["Apéro de fin d’année"]
    async with services.db.transaction() as session:
        await delete_member(session, bob.community_id, bob.member_id)
        await delete_member(session, alice.community_id, alice.member_id)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PollVote)) == 0
        after = await export_member(session, alice.community_id, alice.member_id)
    assert after["polls"] == [] and after["poll_ticks"] == []


async def test_a_poll_closed_by_its_organizers_data_deletion_does_not_claim_a_date_was_chosen(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The poll is cancelled, not decided: its card and a stale button said "a date was chosen"."""
    from datetime import timedelta

    from cogs.afterworks import FEATURE

    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"
    await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")
    first, *_ = await slots(services)
    assert FEATURE.privacy is not None
    async with services.db.transaction() as session:
        await FEATURE.privacy.delete(session, alice.community_id, alice.member_id)
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # privacy jobs are queued at the real time
    await services.scheduler.run_due()
    [card] = notifier.in_channel("C-AW")
    assert card.actions == ()
    assert services.t("fr", "afterworks.poll.decided") not in card.text
    assert services.t("fr", "afterworks.poll.cancelled") in card.text
    with pytest.raises(UserError) as refused:
        await run(services, bob, vote, first.id)
    assert refused.value.key == "afterworks.errors.poll_cancelled"
    assert "aucune date" in services.t("fr", refused.value.key)


async def test_two_picks_at_once_create_one_afterwork(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    moderator = await make_caller(services, "U2", name="Mod", moderator=True)
    await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")
    first, second, _ = await slots(services)
    outcomes = await asyncio.gather(
        run(services, alice, pick, first.id),
        run(services, moderator, pick, second.id),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Picked", "UserError"]
    [refused] = [o for o in outcomes if isinstance(o, UserError)]
    assert refused.key == "afterworks.errors.poll_closed"
    async with services.db.transaction() as session:
        [afterwork] = list(await session.scalars(select(Afterwork)))
    assert afterwork.organizer_id == alice.member_id  # the poll's organizer, whoever picked


def test_a_time_whose_answers_would_already_be_closed_is_refused_on_its_own_field(services: Services) -> None:
    """Answers close 7 days before: fine for Dec 15, already past for Nov 29 (today is Nov 26). Offered,
    that time could never be chosen (Choose failed with the cutoff's refusal); it is named up front."""
    from datetime import UTC, datetime

    from bot.errors import InvalidInput
    from cogs.afterworks._polls import read_poll

    form = poll_form(slot1="2026-12-15 19:00", slot2="2026-11-29 19:00", slot3="", cutoff="10080")
    with pytest.raises(InvalidInput) as refused:
        read_poll(services.catalog, form, "Europe/Paris", datetime(2026, 11, 26, 10, tzinfo=UTC), "fr")
    assert refused.value.problems["slot2"][0] == "afterworks.problems.cutoff_past"
    assert "slot1" not in refused.value.problems


async def test_a_poll_card_the_platform_failed_to_post_is_posted_by_a_job(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """A poll saved during an outage (a 503) must get its card: nobody can tick a date without it.

    The organizer's answer can say it comes in a few minutes (`CreatedPoll.retrying`), not to check the
    channel; the POLL_CARD job posts it, raising while the platform still fails.
    """
    from bot.posting import RETRY_AFTER

    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"
    notifier.failing.add("C-AW")

    created = await run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE")

    assert created.retrying and not created.posted and notifier.in_channel("C-AW") == []
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()  # still failing: tried again later
    assert notifier.in_channel("C-AW") == []
    notifier.failing.clear()
    clock.advance(RETRY_AFTER * 2)
    await services.scheduler.run_due()
    [card] = notifier.in_channel("C-AW")
    assert card.title == "🗳️ Sondage : Apéro de fin d’année"


async def test_a_poll_form_submitted_twice_creates_one_poll_and_one_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    """A double click on Submit, a Slack retry: the same form (its key) twice, at once then again later;
    before, each created a poll and posted a card. Another form (another key) is another poll."""
    from bot.submissions import AlreadySubmitted
    from cogs.afterworks.models import Poll

    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"

    def submit(key: str):  # type: ignore[no-untyped-def]
        return run(services, alice, create_poll, poll_form(), origin_channel_id="C-HERE", submission=key)

    outcomes = await asyncio.gather(submit("V-FORM-1"), submit("V-FORM-1"), return_exceptions=True)
    again = await asyncio.gather(submit("V-FORM-1"), return_exceptions=True)
    async with services.db.transaction() as session:
        saved = list(await session.scalars(select(Poll.id)))
        slot_count = await session.scalar(select(func.count()).select_from(PollSlot))
    assert (len(saved), slot_count) == (1, 3), outcomes
    assert [type(o) for o in [*outcomes, *again]].count(AlreadySubmitted) == 2, outcomes
    assert [channel for _, channel, _ in notifier.posts] == ["C-AW"]

    other = await submit("V-FORM-2")  # a second poll on purpose
    assert other.poll_id not in saved
    assert [channel for _, channel, _ in notifier.posts] == ["C-AW", "C-AW"]


@pytest.mark.parametrize(("typed", "starts_at"), [
    ("dans 1 heure", datetime(2027, 10, 31, 0, 15, tzinfo=UTC)),  # 02:15 summer time, the first
    ("dans 2 heures", datetime(2027, 10, 31, 1, 15, tzinfo=UTC)),  # 02:15 winter time, the second
])
async def test_a_slot_in_the_hour_the_autumn_change_repeats_is_picked_at_its_time(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock, typed: str, starts_at: datetime
) -> None:
    """A slot typed as a duration at 01:15 on the autumn change night (Paris) is 02:15, which happens twice.
    Picking it made the afterwork from the slot's local time, refused as happening twice (the organizer
    could not pick it); the afterwork now starts at the slot's instant."""
    clock.set(datetime(2027, 10, 30, 23, 15, tzinfo=UTC))  # 01:15 summer time
    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).afterworks_channel_id = "C-AW"
    form = poll_form(slot1=typed, slot2="2027-11-04 19:00", slot3="")
    await run(services, alice, create_poll, form, origin_channel_id="C-HERE")
    first, _ = await slots(services)
    assert first.starts_at == starts_at
    picked = await run(services, alice, pick, first.id)
    async with services.db.transaction() as session:
        afterwork = await session.get(Afterwork, picked.afterwork_id)
    assert afterwork.starts_at == starts_at
