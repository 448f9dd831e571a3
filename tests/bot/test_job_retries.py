"""Timed jobs and after-commit effects when the platform fails (5xx): nothing sent twice, nothing stuck."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.services import Services
from bot.usecase import run
from cogs.afterworks import _publish as aw
from cogs.afterworks._form import AfterworkForm
from cogs.afterworks.models import Afterwork
from storage.models import Job
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier


@pytest.fixture
def flaky(services: Services) -> FlakyNotifier:
    recording = FlakyNotifier()
    services.notifiers["discord"] = recording
    aw.register_jobs(services)
    return recording


async def _created(services: Services, caller, **form: str) -> int:
    """An afterwork created by `caller`, posted in C-AW."""
    async with services.db.transaction() as session:
        (await get_settings(session, caller.community_id)).afterworks_channel_id = "C-AW"
    created = await run(
        services, caller, aw.create_afterwork,
        AfterworkForm(when="2027-03-21 19:00", where="La Cantine", city="Nantes", **form),
        origin_channel_id="C-HERE",
    )
    return created.afterwork_id


async def test_next_occurrence_post_failing_once_is_posted_by_the_retry(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    await _created(services, alice, title="Coworking", recurrence="weekly")
    assert len(flaky.in_channel("C-AW")) == 1
    async with services.db.transaction() as session:
        [job] = list(await session.scalars(select(Job).where(Job.kind == aw.NEXT)))
    clock.set(job.due_at)
    flaky.failing.add("C-AW")  # Discord answers 503 while the next date is posted
    await services.scheduler.run_due()
    flaky.failing.clear()
    for _ in range(6):  # the platform is back; every retry (with its backoff) gets its chance
        clock.advance(timedelta(hours=1))
        await services.scheduler.run_due()
    async with services.db.transaction() as session:
        second = await session.scalar(select(Afterwork).where(Afterwork.occurrence == 1))
    assert second is not None and second.status == "scheduled"
    # the second date exists, with its reminders: its card must be in the channel
    assert len(flaky.in_channel("C-AW")) == 2, "the next occurrence was stored but its card never posted"


def _dms(flaky: FlakyNotifier, user: str) -> int:
    return sum(1 for d in flaky.dms if d.user_id == user)


async def test_sync_job_retry_does_not_dm_the_cancellation_twice(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """A deleted organizer's afterwork is cancelled by a SYNC job DMing everyone going; one 5xx midway."""
    alice = await make_caller(services, "U1", name="Alice")
    aid = await _created(services, alice, title="Apéro")
    going = [await make_caller(services, f"U{i}", name=f"M{i}") for i in (2, 3, 4)]
    for member in going:
        await run(services, member, aw.answer_afterwork, aid, "going")
    before = {m: _dms(flaky, m) for m in ("U2", "U3", "U4")}
    async with services.db.transaction() as session:
        await aw.delete_member(session, alice.community_id, alice.member_id)
    async with services.db.transaction() as session:
        [job] = list(await session.scalars(select(Job).where(Job.kind == aw.SYNC)))
    clock.set(max(clock.now(), job.due_at))
    flaky.fail_dm_call = flaky._dm_calls + 2  # the second DM of the job answers 503
    await services.scheduler.run_due()
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        await services.scheduler.run_due()
    told = {m: _dms(flaky, m) - before[m] for m in before}
    # Nobody twice (the job no longer fails and runs again); the DM Discord refused comes from the outbox.
    assert told == {"U2": 1, "U3": 1, "U4": 1}, f"cancellation DMs per member: {told}"


async def test_cancel_notice_after_commit_reaches_everyone_despite_one_5xx(
    services: Services, flaky: FlakyNotifier, clock: FrozenClock
) -> None:
    """Cancelling an afterwork DMs those going after the commit; one 5xx loses nobody's notice."""
    alice = await make_caller(services, "U1", name="Alice")
    aid = await _created(services, alice, title="Apéro")
    going = [await make_caller(services, f"U{i}", name=f"M{i}") for i in (2, 3, 4)]
    for member in going:
        await run(services, member, aw.answer_afterwork, aid, "going")
    before = {m: _dms(flaky, m) for m in ("U2", "U3", "U4")}
    flaky.fail_dm_call = flaky._dm_calls + 1  # the first DM of the notice answers 503
    await run(services, alice, aw.cancel_afterwork, aid)
    for _ in range(6):  # whatever retry there is gets its chance
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()
    told = {m: _dms(flaky, m) - before[m] for m in before}
    # the others told at once, the one refused by the outbox's retry: each once
    assert told == {"U2": 1, "U3": 1, "U4": 1}, f"cancellation DMs per member: {told}"


# -- missions: the expiry DM and the team DMs ------------------------------------------------------------


@pytest.fixture
def flaky_missions(services: Services) -> FlakyNotifier:
    from cogs.missions._publish import register_jobs

    recording = FlakyNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def test_mission_expiry_dm_failing_once_is_sent_by_the_retry(
    services: Services, flaky_missions: FlakyNotifier, clock: FrozenClock
) -> None:
    from cogs.missions._publish import submit_mission
    from cogs.missions.models import Mission
    from tests.missions.conftest import channels, form

    alice = await make_caller(services, name="Alice")
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1], answer_by=""), origin_channel_id="C")
    clock.advance(timedelta(days=12, hours=23))
    await services.scheduler.run_due()  # the warning
    clock.advance(timedelta(days=2))
    flaky_missions.dms.clear()
    flaky_missions.failing_dms.add(alice.user_id)
    await services.scheduler.run_due()  # the expiry: Discord answers 503 to the author's DM
    flaky_missions.failing_dms.clear()
    for _ in range(6):
        clock.advance(timedelta(hours=1))
        await services.scheduler.run_due()
    async with services.db.transaction() as session:
        assert (await session.get(Mission, done.mission_id)).status == "expired"
    expired = [d for d in flaky_missions.dms if d.user_id == alice.user_id]
    assert len(expired) == 1, "the author was never told the mission expired"


async def test_confirm_team_dms_reach_every_candidate_despite_one_5xx(
    services: Services, flaky_missions: FlakyNotifier, clock: FrozenClock
) -> None:
    from cogs.missions._publish import confirm_team, select_team, show_interest, submit_mission
    from tests.missions.conftest import channels, form

    alice = await make_caller(services, name="Alice")
    cands = [await make_caller(services, user=f"U{i}", name=f"M{i}") for i in (2, 3, 4)]
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="C")
    for c in cands:
        await run(services, c, show_interest, done.mission_id)
    await run(services, alice, select_team, done.mission_id, [str(c.member_id) for c in cands])
    flaky_missions.dms.clear()
    flaky_missions.fail_dm_call = flaky_missions._dm_calls + 1  # the first team DM answers 503
    await run(services, alice, confirm_team, done.mission_id)
    for _ in range(6):
        clock.advance(timedelta(minutes=30))
        await services.scheduler.run_due()
    told = sorted(d.user_id for d in flaky_missions.dms)
    # the one refused by the 503 is told by the outbox's retry, nobody twice
    assert told == ["U2", "U3", "U4"], f"selected members told the confidential details: {told}"


# -- pairing: a group's space claimed, then a 5xx: never opened; the check-in DMs twice on retry ------------


@pytest.fixture
def flaky_pairing(services: Services) -> FlakyNotifier:
    recording = FlakyNotifier()
    services.notifiers["discord"] = recording
    return recording


async def _pairing_round(services: Services, clock: FrozenClock, channel, users=("U1", "U2")):
    from cogs.pairing._rounds import on_start, run_plan
    from tests.pairing.factory import configure, member

    callers = [await member(services, u, "Design graphique" if i % 2 else "Développement")
               for i, u in enumerate(users)]
    await configure(services, callers[0].community_id, channel=channel)
    await on_start(services)
    await run_plan(services, None)  # type: ignore[arg-type]
    async with services.db.transaction() as session:
        due = await session.scalar(
            select(Job.due_at).where(Job.kind == "pairing.round", Job.state == "pending"))
    clock.set(due)
    return callers


async def test_pairing_group_space_failing_once_is_opened_by_the_retry(
    services: Services, flaky_pairing: FlakyNotifier, clock: FrozenClock
) -> None:
    from cogs.pairing.models import PairingGroup
    from tests.pairing.factory import PAIRING_CHANNEL

    await _pairing_round(services, clock, PAIRING_CHANNEL)
    flaky_pairing.failing.add(PAIRING_CHANNEL)  # Discord answers 503 creating the private thread
    await services.scheduler.run_due()
    flaky_pairing.failing.clear()
    for _ in range(6):
        clock.advance(timedelta(minutes=20))
        await services.scheduler.run_due()
    async with services.db.transaction() as session:
        spaces = list(await session.scalars(select(PairingGroup.space)))
    welcomed = [s for s in flaky_pairing.threads.values() if s.private]
    assert welcomed and spaces and all(s != "opening" for s in spaces), (
        f"group spaces {spaces}: the group was claimed, the platform failed, and nobody ever opens it"
    )


async def test_pairing_checkin_retry_does_not_ask_a_group_twice(
    services: Services, flaky_pairing: FlakyNotifier, clock: FrozenClock
) -> None:
    await _pairing_round(services, clock, None, users=("U1", "U2", "U3", "U4"))
    await services.scheduler.run_due()  # the round: groups told by DM (no pairing channel)
    async with services.db.transaction() as session:
        due = await session.scalar(
            select(Job.due_at).where(Job.kind == "pairing.checkin", Job.state == "pending"))
    clock.set(due)
    flaky_pairing.dms.clear()
    flaky_pairing.fail_dm_call = flaky_pairing._dm_calls + 3  # the first DM of the second group: 503
    await services.scheduler.run_due()
    for _ in range(4):
        clock.advance(timedelta(minutes=20))
        await services.scheduler.run_due()
    per_user = {u: sum(1 for d in flaky_pairing.dms if d.user_id == u) for u in ("U1", "U2", "U3", "U4")}
    # none twice; the DM refused by the 503 is sent by the outbox, and the rest of that group still asked
    assert per_user == {"U1": 1, "U2": 1, "U3": 1, "U4": 1}, f"check-in DMs per member: {per_user}"


async def test_pairing_announcement_failing_once_is_posted_by_the_retry(
    services: Services, flaky_pairing: FlakyNotifier, clock: FrozenClock
) -> None:
    """The round's announcement is claimed, then its post answers 503: the claim is given back and the
    job's retry posts it, once (before: claimed for good, never posted)."""
    from tests.pairing.factory import PAIRING_CHANNEL

    await _pairing_round(services, clock, PAIRING_CHANNEL)
    real_post, refused = flaky_pairing.post, []

    async def post(community_external_id, channel_id, card):  # the first post answers 503
        if not refused:
            refused.append(channel_id)
            raise RuntimeError("503 Service Unavailable")
        return await real_post(community_external_id, channel_id, card)

    flaky_pairing.post = post  # type: ignore[method-assign]
    await services.scheduler.run_due()
    for _ in range(4):
        clock.advance(timedelta(minutes=20))
        await services.scheduler.run_due()
    title = services.t("fr", "pairing.announce.title", number=1)
    announced = [c for c in flaky_pairing.in_channel(PAIRING_CHANNEL) if c.title == title]
    assert refused == [PAIRING_CHANNEL] and len(announced) == 1
