"""Pooling use cases, frozen clock: tiers, create, join / waitlist / leave, the seat race, the deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import InvalidInput, NotFound, UserError
from bot.services import Services
from bot.settings_registry import read_setting
from bot.usecase import run
from cogs.pooling._form import PoolForm, next_tier, price_at, read_tiers, validate
from cogs.pooling._pools import (
    DECIDE,
    cancel_pool,
    close_pool,
    create_pool,
    delete_member,
    export_member,
    join_pool,
    leave_pool,
    register_jobs,
)
from cogs.pooling._settings import CHANNEL, CURRENCY
from cogs.pooling.models import Pool, PoolDelivery, PoolMember
from storage.models import FeatureSetting, Job
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.races import Meanwhile

# NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 18:00 in Paris


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


def form(**changes: str) -> PoolForm:
    base = PoolForm(title="Licences Figma", what="Un an de Figma Pro", link="https://figma.example/team",
                    tiers="1-2: 15; 3+: 12,50", minimum="2", maximum="4",
                    deadline="2026-12-04 18:00")
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def create(services: Services, caller, **changes: str) -> int:
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=caller.community_id, key=CHANNEL.key, value="C-POOL"))
    created = await run(services, caller, create_pool, form(**changes))
    return created.pool_id


async def two_in(services: Services) -> tuple[Caller, Caller, Caller, int]:
    """Alice's pool (minimum 2), Bob and Carol in it."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    pid = await create(services, alice)
    await run(services, bob, join_pool, pid)
    await run(services, carol, join_pool, pid)
    return alice, bob, carol, pid


async def pool_of(services: Services, pool_id: int) -> Pool:
    async with services.db.transaction() as session:
        found = await session.get(Pool, pool_id)
        assert found is not None
        return found


def test_tiers_read_and_price_per_count() -> None:
    tiers, problems = read_tiers("1-4: 15 €; 5+: 10")
    assert problems == {}
    assert tiers == ((1, 1500), (5, 1000))
    assert [price_at(tiers, n) for n in (0, 1, 4, 5, 40)] == [1500, 1500, 1500, 1000, 1000]
    assert next_tier(tiers, 3) == (5, 1000)
    assert next_tier(tiers, 5) is None
    assert read_tiers("12,50")[0] == ((1, 1250),)
    assert read_tiers("1:20\n3:18 EUR\n6 = 15,5")[0] == ((1, 2000), (3, 1800), (6, 1550))


@pytest.mark.parametrize(
    ("tiers", "key"),
    [
        ("", "pooling.problems.tiers_missing"),
        (" / ; ", "pooling.problems.tiers_missing"),
        ("1-4: 15; 5+: 15", "pooling.problems.tiers_not_lower"),
        ("1-4: 10; 5+: 12", "pooling.problems.tiers_not_lower"),
        ("1-4: quinze", "pooling.problems.tiers_price"),
        ("2+: 15", "pooling.problems.tiers_first"),
        ("1-4: 15; 3+: 10", "pooling.problems.tiers_order"),
        ("1-3: 15; 5+: 10", "pooling.problems.tiers_order"),
        ("1:20; 2:19; 3:18; 4:17; 5:16", "pooling.problems.tiers_too_many"),
        ("1-4: 15; 5 10", "pooling.problems.tiers_unreadable"),
    ],
)
def test_bad_tiers_are_refused(tiers: str, key: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate(form(tiers=tiers), "Europe/Paris", NOW, "fr")
    assert error.value.problems["tiers"][0] == key


@pytest.mark.parametrize(("field", "value", "key"), [
    ("tiers", "1-²: 15; 3+: 10", "pooling.problems.tiers_unreadable"),  # "²" is on French keyboards
    ("tiers", "1-4: 15; ⁵+: 10", "pooling.problems.tiers_unreadable"),
    ("minimum", "²", "pooling.problems.minimum"),
    ("minimum", "2²", "pooling.problems.minimum"),
    ("maximum", "³", "pooling.problems.maximum"),
    ("maximum", "٣", "pooling.problems.maximum"),  # int() reads it, but nobody means it: ASCII digits only
    ("minimum", "１２", "pooling.problems.minimum"),
])
def test_digits_other_than_ascii_are_named_not_a_crash(field: str, value: str, key: str) -> None:
    """"²".isdigit() is True but int("²") raises: the field is named, with its localized answer."""
    with pytest.raises(InvalidInput) as refused:
        validate(form(**{field: value}), "Europe/Paris", NOW, "fr")
    assert refused.value.problems[field][0] == key


async def test_a_superscript_minimum_through_the_use_case_is_a_user_error_and_saves_nothing(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    with pytest.raises(InvalidInput) as refused:
        await create(services, alice, minimum="2²")
    assert set(refused.value.problems) == {"minimum"}
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Pool)) == 0
    assert notifier.posts == []


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidInput) as error:
        validate(form(title="", what="", link="ftp://x", minimum="5", maximum="3", deadline="hier 10h"),
                 "Europe/Paris", NOW, "fr")
    assert set(error.value.problems) == {"title", "what", "link", "maximum", "deadline"}
    assert error.value.problems["maximum"][0] == "pooling.problems.minimum_above_maximum"
    assert error.value.problems["deadline"][0] == "pooling.problems.deadline_past"
    with pytest.raises(InvalidInput) as far:
        validate(form(deadline="2027-06-01 18:00"), "Europe/Paris", NOW, "fr")
    assert far.value.problems == {"deadline": ("pooling.problems.deadline_too_far", {"days": 90})}
    with pytest.raises(InvalidInput) as beyond:
        validate(form(maximum="2"), "Europe/Paris", NOW, "fr")
    assert beyond.value.problems["tiers"][0] == "pooling.problems.tiers_beyond_maximum"
    day_only = validate(form(deadline="2026-12-04"), "Europe/Paris", NOW, "fr")
    assert day_only.deadline == datetime(2026, 12, 4, 22, 59, tzinfo=UTC)  # 23:59 in Paris


async def test_refused_input_saves_nothing_and_no_channel_is_refused(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    with pytest.raises(UserError) as nowhere:
        await run(services, alice, create_pool, form())
    assert nowhere.value.key == "pooling.errors.no_channel"
    with pytest.raises(InvalidInput):
        await create(services, alice, tiers="1: 10; 2: 12")
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Pool)) == 0
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
    assert notifier.posts == []


async def test_join_tiers_waitlist_leave_promotes_and_the_deadline_decides_once(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice, bob, carol, dan, eve, fay = [
        await make_caller(services, f"U{n}", name=name)
        for n, name in enumerate(("Alice", "Bob", "Carol", "Dan", "Eve", "Fay"), start=1)
    ]
    pid = await create(services, alice)
    async with services.db.transaction() as session:
        assert await read_setting(session, alice.community_id, CURRENCY) == "EUR"
    [card] = notifier.in_channel("C-POOL")
    assert card.title == "🛒 Licences Figma"
    shown = {f.name: f.value for f in card.fields}
    assert shown["Prix par personne actuel"] == "15\xa0€"
    assert shown["Palier suivant"].startswith("12,50\xa0€")

    for who in (bob, carol, dan):
        assert (await run(services, who, join_pool, pid)).status == "in"
    shown = {f.name: f.value for f in notifier.in_channel("C-POOL")[0].fields}
    assert shown["Prix par personne actuel"] == "12,50\xa0€"  # 3 in: the second tier
    assert (await run(services, eve, join_pool, pid)).status == "in"
    shown = {f.name: f.value for f in notifier.in_channel("C-POOL")[0].fields}
    assert shown["Places"] == "4 / 4"
    waiting = await run(services, fay, join_pool, pid)
    assert (waiting.status, waiting.position) == ("waitlist", 1)
    assert (await run(services, fay, join_pool, pid)).changed is False
    assert (await pool_of(services, pid)).participant_count == 4

    left = await run(services, carol, leave_pool, pid)
    assert [p.name for p in left.promoted] == ["Fay"]
    assert notifier.dms[-1].user_id == "U6"
    assert (await pool_of(services, pid)).participant_count == 4
    assert (await run(services, carol, leave_pool, pid)).changed is False

    with pytest.raises(UserError) as refused:
        await run(services, bob, cancel_pool, pid)
    assert refused.value.key == "pooling.errors.not_organizer"

    dms_before = len(notifier.dms)
    clock.set(DEADLINE - timedelta(minutes=1))
    assert await services.scheduler.run_due() == 0
    clock.set(DEADLINE)
    with pytest.raises(UserError) as closed:
        await run(services, carol, join_pool, pid)
    assert closed.value.key == "pooling.errors.closed"
    assert await services.scheduler.run_due() == 1
    pool = await pool_of(services, pid)
    assert (pool.status, pool.final_count) == ("happening", 4)
    sent = notifier.dms[dms_before:]
    assert sorted(d.user_id for d in sent) == ["U1", "U2", "U4", "U5", "U6"]  # 4 participants + organizer
    to_bob = next(d for d in sent if d.user_id == "U2").card
    assert "12,50\xa0€" in to_bob.text and "Alice" in to_bob.text
    assert notifier.in_channel("C-POOL")[0].title.startswith("✅")
    assert [a.id for a in notifier.in_channel("C-POOL")[0].actions] == [f"pooling:payments:{pid}:0"]

    # Once: run again, and as a second process finding the row pending again.
    assert await services.scheduler.run_due() == 0
    async with services.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == DECIDE, Job.state == "done"))
        job.state = "pending"
    await services.scheduler.run_due()
    assert len(notifier.dms) == dms_before + 5


async def test_minimum_not_reached_cancels_and_tells_everyone_once(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    pid = await create(services, alice, minimum="3")
    await run(services, bob, join_pool, pid)
    with pytest.raises(UserError) as early:
        await run(services, alice, close_pool, pid)
    assert early.value.key == "pooling.errors.minimum_not_reached"
    clock.set(DEADLINE + timedelta(hours=5))  # the bot was down: decided late, still once
    assert await services.scheduler.run_due() == 1
    assert (await pool_of(services, pid)).status == "failed"
    assert sorted(d.user_id for d in notifier.dms) == ["U1", "U2"]
    assert all(d.card.title.startswith("❌") for d in notifier.dms)
    assert notifier.in_channel("C-POOL")[0].title.startswith("❌")


async def test_a_failed_dm_is_retried_and_the_others_not_repeated(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    await two_in(services)
    original = notifier.dm

    async def flaky(external: str, user_id: str, card, attachment=None):
        if user_id == "U3":
            raise RuntimeError("503")
        return await original(external, user_id, card, attachment)

    notifier.dm = flaky  # type: ignore[method-assign]
    clock.set(DEADLINE)
    await services.scheduler.run_due()
    assert sorted(d.user_id for d in notifier.dms) == ["U1", "U2"]
    notifier.dm = original  # type: ignore[method-assign]
    clock.set(DEADLINE + timedelta(minutes=2))  # after the retry delay
    await services.scheduler.run_due()
    assert sorted(d.user_id for d in notifier.dms) == ["U1", "U2", "U3"]


async def test_concurrent_joins_on_the_last_seats_are_settled_by_the_database(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    pid = await create(services, alice, maximum="5", tiers="1-4: 15; 5+: 10")
    people = [await make_caller(services, f"V{n}", name=f"P{n}") for n in range(20)]
    results = await asyncio.gather(*(run(services, who, join_pool, pid) for who in people))
    assert sum(r.status == "in" for r in results) == 5
    assert sorted(r.position for r in results if r.status == "waitlist") == list(range(1, 16))
    assert (await pool_of(services, pid)).participant_count == 5
    async with services.db.transaction() as session:
        rows = list(await session.scalars(select(PoolMember).where(PoolMember.pool_id == pid)))
    assert len(rows) == 20
    assert sum(r.status == "in" for r in rows) == 5


async def test_cancel_tells_participants_and_waitlist_and_stops_the_deadline(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    mod = await make_caller(services, "U9", name="Modo", moderator=True)
    pid = await create(services, alice, maximum="2", tiers="1: 15; 2: 10", minimum="1")
    await run(services, bob, join_pool, pid)
    await run(services, mod, cancel_pool, pid)  # a moderator may: the organizer is told too
    assert (await pool_of(services, pid)).status == "cancelled"
    assert [d.user_id for d in notifier.dms] == ["U2", "U1"]
    await services.scheduler.run_due()
    clock.set(DEADLINE)
    await services.scheduler.run_due()
    assert [d.user_id for d in notifier.dms] == ["U2", "U1"]
    with pytest.raises(UserError) as again:
        await run(services, alice, cancel_pool, pid)
    assert again.value.key == "pooling.errors.cancelled"


async def test_a_moderator_s_cancel_tells_the_organizer_and_does_not_blame_them(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Participants are told a moderator cancelled it (not "its organizer"); the organizer is told too,
    once, also when the jobs run again."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    mod = await make_caller(services, "U9", name="Modo", moderator=True)
    pid = await create(services, alice)
    await run(services, bob, join_pool, pid)
    await run(services, mod, cancel_pool, pid)
    await services.scheduler.run_due()
    clock.set(DEADLINE)
    await services.scheduler.run_due()
    told = {d.user_id: d.card.text for d in notifier.dms}
    assert sorted(d.user_id for d in notifier.dms) == ["U1", "U2"]
    assert told["U2"] == services.t("fr", "pooling.dm.cancelled_by_moderator", title="Licences Figma")
    assert told["U1"] == services.t("fr", "pooling.dm.cancelled_organizer", title="Licences Figma")
    assert told["U2"] != services.t("fr", "pooling.dm.cancelled", title="Licences Figma")


async def test_a_moderator_who_organizes_the_purchase_cancels_it_as_its_organizer(
    services: Services, notifier: RecordingNotifier
) -> None:
    mod = await make_caller(services, "U9", name="Modo", moderator=True)
    bob = await make_caller(services, "U2", name="Bob")
    pid = await create(services, mod)
    await run(services, bob, join_pool, pid)
    await run(services, mod, cancel_pool, pid)
    await services.scheduler.run_due()
    assert [(d.user_id, d.card.text) for d in notifier.dms] == [
        ("U2", services.t("fr", "pooling.dm.cancelled", title="Licences Figma"))]


async def test_other_communities_find_nothing(services: Services, notifier: RecordingNotifier) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    stranger = await make_caller(services, "U9", guild="g2", name="Eve")
    pid = await create(services, alice)
    for use_case in (join_pool, leave_pool, close_pool, cancel_pool):
        with pytest.raises(NotFound):
            await run(services, stranger, use_case, pid)


async def test_privacy_export_then_delete_frees_the_seat_and_cancels_their_pools(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    carol = await make_caller(services, "U3", name="Carol")
    theirs = await create(services, alice, maximum="2", tiers="1: 15; 2: 10", minimum="1")
    mine = await create(services, bob)
    await run(services, bob, join_pool, theirs)
    await run(services, alice, join_pool, theirs)
    await run(services, carol, join_pool, theirs)  # waitlist
    async with services.db.transaction() as session:
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert [p["title"] for p in exported["organized"]] == ["Licences Figma"]
    assert [j["pool_id"] for j in exported["joined"]] == [theirs]
    async with services.db.transaction() as session:
        await delete_member(session, bob.community_id, bob.member_id)
    async with services.db.transaction() as session:
        carol_row = await session.scalar(select(PoolMember).where(PoolMember.member_id == carol.member_id))
        assert carol_row.status == "in"
        mine_pool = await session.get(Pool, mine)
        assert (mine_pool.status, mine_pool.organizer_id) == ("cancelled", None)
        assert await session.scalar(select(func.count()).select_from(PoolDelivery)) == 0
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert exported == {"joined": [], "organized": [], "messages": []}
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # privacy jobs are queued at the real time
    await services.scheduler.run_due()  # the queued sync: Carol told she is in
    assert "U3" in [d.user_id for d in notifier.dms]


async def test_closing_early_beside_a_leave_never_makes_a_pool_happen_below_its_minimum(
    services: Services, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organizer's check read 2 in (the minimum) and Cara clicks Leave before the decision
    (PostgreSQL, READ COMMITTED): the pool is not decided as happening with 1; the organizer is told
    the minimum is not reached, or Cara's Leave is refused as closed."""
    import cogs.pooling._pools as pools

    alice, _bob, cara, pid = await two_in(services)
    original, meanwhile = pools._decided, Meanwhile()

    async def decided_after_a_leave(ctx, pool, status):
        await meanwhile.run(run(services, cara, leave_pool, pid))
        return await original(ctx, pool, status)

    monkeypatch.setattr(pools, "_decided", decided_after_a_leave)
    closed = (await asyncio.gather(run(services, alice, close_pool, pid), return_exceptions=True))[0]
    await meanwhile.settle()
    pool = await pool_of(services, pid)
    if pool.status == "happening":
        assert pool.final_count is not None and pool.final_count >= pool.minimum, (pool.final_count, closed)
    else:
        assert pool.status == "open" and pool.participant_count == 1
        assert isinstance(closed, UserError) and closed.key == "pooling.errors.minimum_not_reached"


async def test_a_member_who_deleted_their_data_leaves_a_decided_pools_card(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """A purchase that happened keeps its card and its list of participants: a deleted member's name
    goes from it too (only open purchases were redrawn)."""
    alice, _bob, carol, pid = await two_in(services)
    await run(services, alice, close_pool, pid)
    await services.scheduler.run_due()
    assert "Carol" in " ".join(f.value for f in notifier.in_channel("C-POOL")[0].fields)
    async with services.db.transaction() as session:
        await delete_member(session, carol.community_id, carol.member_id)
    clock.set(datetime.now(UTC) + timedelta(minutes=1))  # privacy jobs are queued at the real time
    await services.scheduler.run_due()
    [card] = notifier.in_channel("C-POOL")
    assert "Carol" not in " ".join(f"{f.name} {f.value}" for f in card.fields)


async def test_a_pool_form_submitted_twice_creates_one_pool_and_one_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    """A double click on Submit, a Slack retry: the same form (its key) twice, at once then again later;
    before, each created a pool and posted a card. Another form (another key) is another pool."""
    from bot.submissions import AlreadySubmitted

    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=alice.community_id, key=CHANNEL.key, value="C-POOL"))
    outcomes = await asyncio.gather(
        *(run(services, alice, create_pool, form(), submission="V-FORM-1") for _ in range(2)),
        return_exceptions=True,
    )
    again = await asyncio.gather(run(services, alice, create_pool, form(), submission="V-FORM-1"),
                                 return_exceptions=True)
    async with services.db.transaction() as session:
        pools = list(await session.scalars(select(Pool.id)))
    assert len(pools) == 1, outcomes
    assert [type(o) for o in [*outcomes, *again]].count(AlreadySubmitted) == 2, outcomes
    assert [o.pool_id for o in outcomes if not isinstance(o, BaseException)] == pools
    assert [channel for _, channel, _ in notifier.posts] == ["C-POOL"]
    assert services.t("fr", AlreadySubmitted().key) == (
        "Ce formulaire a déjà été envoyé : il n’est enregistré qu’une fois.")

    other = await run(services, alice, create_pool, form(), submission="V-FORM-2")  # a second pool on purpose
    assert other.pool_id not in pools
    assert [channel for _, channel, _ in notifier.posts] == ["C-POOL", "C-POOL"]
