"""Rounds on the recording notifier: planning, holding once, spaces, check-in, member choices, stats."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.cards import Card, when
from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import Forbidden, NotFound, UserError
from bot.i18n import expand_commands
from bot.notifier import PostRef, ThreadRef
from bot.scheduler import Scheduler
from bot.services import Services
from bot.usecase import run
from cogs.intros.models import Profile
from cogs.pairing._pairing import answer_checkin, avoid, history, set_opt_in, snooze, stats, unavoid
from cogs.pairing._rounds import CHECKIN, OPEN, PLAN, ROUND, on_start, run_plan
from cogs.pairing._store import delete_member, export_member, met_counts
from cogs.pairing.models import PairingGroup, PairingMember, PairingRound
from storage.models import Community, Job, Member
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier, Space
from tests.pairing.factory import PAIRING_CHANNEL, configure, member

# 26 Nov 2026 is a Thursday; the first Monday 19:00 Paris (CET) is 30 Nov 18:00 UTC.
FIRST = datetime(2026, 11, 30, 18, tzinfo=UTC)


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


async def plan_now(services: Services) -> None:
    await on_start(services)
    jobs = await pending(services, PLAN)
    assert jobs
    await run_plan(services, None)  # type: ignore[arg-type]


async def pair_planned(services: Services) -> Caller:
    """Alice (Design graphique) and Bob (Développement) opted in, rounds on, the first one planned."""
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)
    await plan_now(services)
    return alice


async def pending(services: Services, kind: str) -> list[Job]:
    async with services.db.transaction() as session:
        return list(
            await session.scalars(
                select(Job).where(Job.kind == kind, Job.state == "pending").order_by(Job.due_at)
            )
        )


async def groups_of(services: Services) -> list[list[int]]:
    async with services.db.transaction() as session:
        rows = (
            await session.execute(
                select(PairingMember.group_id, PairingMember.member_id).order_by(
                    PairingMember.group_id, PairingMember.member_id
                )
            )
        ).all()
    found: dict[int, list[int]] = {}
    for g, m in rows:
        found.setdefault(g, []).append(m)
    return list(found.values())


async def test_a_round_is_planned_held_once_with_private_spaces_then_a_check_in(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1", "Design graphique", moderator=True)
    bob = await member(services, "U2", "Développement")
    chloe = await member(services, "U3", "Design graphique")
    await member(services, "U4", "Développement", opted=False)
    await configure(services, alice.community_id, intro_message="Bienvenue !")
    await plan_now(services)
    [job] = await pending(services, ROUND)
    assert job.due_at == FIRST

    clock.advance(FIRST - clock.now())
    assert await services.scheduler.run_due() >= 1
    [group] = await groups_of(services)  # three opted-in members: one trio
    assert sorted(group) == sorted([alice.member_id, bob.member_id, chloe.member_id])
    [space] = [s for s in notifier.threads.values() if s.private]
    assert sorted(space.members) == ["U1", "U2", "U3"] and space.ref.channel_id == PAIRING_CHANNEL
    welcome = [
        p.card for p in notifier.posts if p.channel_id == space.ref.thread_id and "Bienvenue" in p.card.text
    ]
    async with services.db.transaction() as session:
        group_id = await session.scalar(select(PairingMember.group_id))
    assert welcome and welcome[0].actions[0].id == f"pairing:opt:out:{group_id}"  # names its group
    assert any(p.card.actions and p.card.actions[0].id == "pairing:opt:in" for p in notifier.posts)

    [nxt] = await pending(services, ROUND)
    assert nxt.due_at == FIRST + timedelta(days=7)
    [check] = await pending(services, CHECKIN)
    assert check.due_at == FIRST + timedelta(days=3, hours=12)
    posts = len(notifier.posts)
    assert await services.scheduler.run_due() == 0  # nothing twice
    clock.advance(check.due_at - clock.now())
    await services.scheduler.run_due()
    [ask] = notifier.posts[posts:]
    group_id = int(ask.card.actions[0].id.split(":")[2])
    assert [a.id.rsplit(":", 1)[1] for a in ask.card.actions[:3]] == ["met", "not_yet", "cannot"]

    await run(services, bob, answer_checkin, group_id, "met")
    with pytest.raises(NotFound):
        await run(services, await member(services, "U5"), answer_checkin, group_id, "met")
    card = await run(services, alice, stats, write=False)
    values = {f.name: f.value for f in card.fields}
    assert values[services.t("fr", "pairing.stats.rounds")] == "1"
    assert values[services.t("fr", "pairing.stats.new_cross")] == "2"  # Design-Dev twice, Design-Design not
    assert "100\u00a0%" in values[services.t("fr", "pairing.stats.met")]
    with pytest.raises(Forbidden):
        await run(services, bob, stats, write=False)


async def test_exactly_once_with_two_schedulers(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await pair_planned(services)
    other = Scheduler(services.db, clock, worker_id="second")
    other._kinds = dict(services.scheduler._kinds)
    # Both planned the same slot (two processes on PostgreSQL may): still one round.
    async with services.db.transaction() as session:
        await services.scheduler.schedule(session, kind=ROUND, due_at=FIRST, community_id=alice.community_id)
    clock.advance(FIRST - clock.now())
    await asyncio.gather(services.scheduler.run_due(), other.run_due())
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PairingRound)) == 1
        assert await session.scalar(select(func.count()).select_from(PairingGroup)) == 1
    assert len([s for s in notifier.threads.values() if s.private]) == 1


async def test_fewer_than_two_skips_and_tells_moderators(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1")
    await member(services, "U2", opted=False)
    await configure(services, alice.community_id)
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    assert await groups_of(services) == []
    assert [p.card.title for p in notifier.posts] == [services.t("fr", "pairing.skipped.title")]
    assert (await pending(services, ROUND))[0].due_at == FIRST + timedelta(days=7)


async def test_settings_change_replans_and_off_cancels(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1")
    await configure(services, alice.community_id)
    await plan_now(services)
    await configure(services, alice.community_id, hour=8, day="tue")
    await run_plan(services, None)  # type: ignore[arg-type]
    [job] = await pending(services, ROUND)
    assert job.due_at == datetime(2026, 12, 1, 7, tzinfo=UTC)
    await configure(services, alice.community_id, enabled=False)
    await run_plan(services, None)  # type: ignore[arg-type]
    assert await pending(services, ROUND) == []


async def test_snooze_avoid_opt_out_and_history(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1", "Design graphique")
    bob = await member(services, "U2", "Développement")
    chloe = await member(services, "U3", "Développement")
    dan = await member(services, "U4", "Design graphique")
    await configure(services, alice.community_id)
    with pytest.raises(UserError):
        await run(services, alice, snooze, 9)
    with pytest.raises(UserError):
        await run(services, alice, avoid, "U1")
    with pytest.raises(NotFound):
        await run(services, alice, avoid, "U-nobody")
    await run(services, alice, avoid, "U2")
    await run(services, alice, avoid, "U3")
    await run(services, dan, snooze, 1)
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    [group] = await groups_of(services)
    assert dan.member_id not in group and alice.member_id not in group  # snoozed; avoids both others
    await run(services, alice, unavoid, "U3")
    await run(services, bob, set_opt_in, False)
    clock.advance(timedelta(days=7))
    await services.scheduler.run_due()
    later = (await groups_of(services))[1:]
    assert [sorted(g) for g in later] == [sorted([alice.member_id, chloe.member_id, dan.member_id])]
    card = await run(services, chloe, history, write=False)
    text = str(card.fields)
    assert "Name U2" in text and "Name U1" in text
    own = await run(services, alice, history, write=False)
    assert "Name U2" in own.fields[2].value  # her private list, shown to her
    nobody = await make_caller(services, "U-NP", name="No profile")
    with pytest.raises(NotFound):
        await run(services, nobody, set_opt_in, True)


async def test_privacy_export_and_delete_free_the_history(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)
    await run(services, alice, avoid, "U2")
    await run(services, alice, unavoid, "U2")
    await run(services, alice, snooze, 0)
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    async with services.db.transaction() as session:
        exported = await export_member(session, alice.community_id, alice.member_id)
        assert exported["rounds"][0]["partners"] == ["Name U2"]
        await delete_member(session, alice.community_id, alice.member_id)
        assert await met_counts(session, alice.community_id) == {}
        assert await export_member(session, alice.community_id, alice.member_id) == {}


async def test_a_member_who_left_is_not_grouped_and_is_again_after_coming_back(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    alice = await member(services, "U1", "Design graphique")
    bob = await member(services, "U2", "Développement")
    chloe = await member(services, "U3", "Développement")
    dan = await member(services, "U4", "Design graphique", opted=False)  # not asked about
    await configure(services, alice.community_id)
    notifier.left = {"U3", "U4"}
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    assert [sorted(g) for g in await groups_of(services)] == [sorted([alice.member_id, bob.member_id])]
    [space] = [s for s in notifier.threads.values() if s.private]
    assert sorted(space.members) == ["U1", "U2"]
    async with services.db.transaction() as session:
        [held] = list(await session.scalars(select(PairingRound)))
        assert held.eligible == 2
    assert dan.member_id not in {m for g in await groups_of(services) for m in g}

    notifier.left = {"U1", "U2"}  # two left, one came back: alone, the round is skipped
    clock.advance(timedelta(days=7))
    await services.scheduler.run_due()
    assert len(await groups_of(services)) == 1
    assert notifier.posts[-1].card.title == services.t("fr", "pairing.skipped.title")

    notifier.left = set()  # everyone back: grouped again
    clock.advance(timedelta(days=7))
    await services.scheduler.run_due()
    [last] = (await groups_of(services))[1:]
    assert sorted(last) == sorted([alice.member_id, bob.member_id, chloe.member_id])


async def test_group_and_check_in_sent_by_dm_speak_each_member_s_language(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """No pairing channel on Discord: the welcome and the check-in go by DM, each in its reader's language
    (the member's own, else the community's), like every other DM."""
    alice = await member(services, "U1", "Design graphique", moderator=True)
    bob = await member(services, "U2", "Développement")
    async with services.db.transaction() as session:
        await session.execute(update(Member).where(Member.id == bob.member_id).values(locale="en"))
    await configure(services, alice.community_id, channel=None)
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    welcome = {d.user_id: d.card for d in notifier.dms}
    assert set(welcome) == {"U1", "U2"}
    assert welcome["U1"].title == services.t("fr", "pairing.card.title")
    assert welcome["U2"].title == services.t("en", "pairing.card.title")
    sent = len(notifier.dms)
    [check] = await pending(services, CHECKIN)
    clock.advance(check.due_at - clock.now())
    await services.scheduler.run_due()
    asked = {d.user_id: d.card for d in notifier.dms[sent:]}
    assert asked["U1"].title == services.t("fr", "pairing.checkin.title")
    assert asked["U2"].title == services.t("en", "pairing.checkin.title")


async def test_joining_while_rounds_are_off_keeps_the_choice_without_promising_a_round(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Pairing is off by default: "Pair me" used to answer "You will be paired in the next rounds." and
    the history "You are in the next rounds." though no round comes until a moderator turns them on."""
    alice = await member(services, "U1", "Design graphique", opted=False)
    answer = await run(services, alice, set_opt_in, True)
    assert answer == services.t("fr", "pairing.opt.in_off")
    assert expand_commands(answer, "discord").endswith("avec /config réglage pairing.enabled.")
    shown = await run(services, alice, history, write=False)
    assert shown.fields[0].value == services.t("fr", "pairing.history.opted_in_off")
    async with services.db.transaction() as session:
        assert await session.scalar(select(Profile.opt_pairing).where(Profile.member_id == alice.member_id))
    assert await run(services, alice, set_opt_in, False) == services.t("fr", "pairing.opt.out")

    await configure(services, alice.community_id)  # on: Mondays 19:00 Paris, the first on 30 Nov
    joined = await run(services, alice, set_opt_in, True)
    assert joined.startswith(services.t("fr", "pairing.opt.in") + " ")
    assert "30 novembre 2026" in joined and "19:00" in joined
    status = (await run(services, alice, history, write=False)).fields[0].value
    assert status.startswith(services.t("fr", "pairing.history.opted_in") + "\n")
    assert when(FIRST, "full") in status


async def test_a_failed_round_is_still_published_when_the_planner_runs_before_its_retry(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """The planner cancelled every round job not due at the next slot, a held round's retry included: the
    members were grouped and stored but their group never opened (a restart plans at once, too)."""
    await pair_planned(services)
    notifier.failing.add(PAIRING_CHANNEL)  # the platform answers 503 at the round's hour
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    notifier.failing.clear()  # the outage is over before the retry, a minute later
    clock.advance(timedelta(seconds=30))
    await run_plan(services, None)  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=5))
    await services.scheduler.run_due()
    async with services.db.transaction() as session:
        spaces = list(await session.scalars(select(PairingGroup.space)))
    assert spaces == ["open"]
    [space] = [s for s in notifier.threads.values() if s.private]
    assert sorted(space.members) == ["U1", "U2"]
    assert [j.due_at for j in await pending(services, ROUND)] == [FIRST + timedelta(days=7)]


async def test_turning_rounds_off_before_a_failed_round_s_retry_still_opens_its_groups(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """Off means no new round; the members of one already held are grouped, so they are still told."""
    alice = await pair_planned(services)
    notifier.failing.add(PAIRING_CHANNEL)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    notifier.failing.clear()
    await configure(services, alice.community_id, enabled=False)
    await run_plan(services, None)  # type: ignore[arg-type]
    assert await pending(services, ROUND) == []  # next week's round cancelled…
    [retry] = await pending(services, OPEN)  # … the held round's groups still opened by their job
    async with services.db.transaction() as session:
        assert retry.payload == {"round_id": await session.scalar(select(PairingRound.id))}
    clock.advance(timedelta(minutes=5))
    await services.scheduler.run_due()
    assert [s for s in notifier.threads.values() if s.private]
    assert await pending(services, ROUND) == []


async def test_moving_the_weekly_day_after_a_round_waits_a_week(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """Weekly rounds moved from Monday to Tuesday the evening of a round paired the same people again the
    next day: the cadence counts from the last round."""
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await configure(services, alice.community_id)  # weekly, Mondays 19:00
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()  # Monday 30 November: round 1
    clock.advance(timedelta(hours=2))
    await configure(services, alice.community_id, day="tue")
    await run_plan(services, None)  # type: ignore[arg-type]
    for _ in range(48):  # the next two days
        clock.advance(timedelta(hours=1))
        await services.scheduler.run_due()
    async with services.db.transaction() as session:
        held = list(await session.scalars(select(PairingRound.scheduled_for)))
    assert held == [FIRST]
    assert [j.due_at for j in await pending(services, ROUND)] == [datetime(2026, 12, 8, 18, tzinfo=UTC)]


# -- a round's platform work: outages, restarts, the announcement ------------------------------------


async def spaces_of(services: Services) -> list[str]:
    async with services.db.transaction() as session:
        return list(await session.scalars(select(PairingGroup.space).order_by(PairingGroup.id)))


def private_spaces(notifier: RecordingNotifier) -> list[Space]:
    return [s for s in notifier.threads.values() if s.private]


def announced(notifier: RecordingNotifier) -> list[str]:
    return [p.card.text for p in notifier.posts if p.channel_id == PAIRING_CHANNEL]


async def test_a_twenty_minute_outage_at_round_time_still_opens_the_groups(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """The round job opened the groups itself, retrying 1, 2, 4, 8 minutes apart: it gave up after about
    15 minutes, the members grouped and stored (counted as having met) but never told. Now the groups are
    opened by their own job, backing off from 3 minutes, and only then is the round announced."""
    await pair_planned(services)
    notifier.failing.add(PAIRING_CHANNEL)  # Discord answers 5xx from 19:00 to 19:20
    clock.advance(FIRST - clock.now())
    for minute in range(0, 60):
        if minute == 20:
            assert await spaces_of(services) == ["pending"] and announced(notifier) == []
            notifier.failing.clear()
        await services.scheduler.run_due()
        clock.advance(timedelta(minutes=1))
    assert await spaces_of(services) == ["open"]
    [space] = private_spaces(notifier)
    assert sorted(space.members) == ["U1", "U2"]
    assert announced(notifier) == [services.t("fr", "pairing.announce.text", count=1, people=2)]
    assert await pending(services, OPEN) == []


async def test_an_outage_of_hours_still_opens_the_groups_once_it_ends(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """The groups' job backs off over its attempts (about 45 minutes), then a new one takes over while a
    group is left unopened, until the round's check-in."""
    await pair_planned(services)
    notifier.failing.add(PAIRING_CHANNEL)  # 19:00 to 21:00
    clock.advance(FIRST - clock.now())
    for minute in range(0, 150):
        if minute == 120:
            assert await spaces_of(services) == ["pending"]
            assert len(await pending(services, OPEN)) == 1  # the one now trying
            notifier.failing.clear()
        await services.scheduler.run_due()
        clock.advance(timedelta(minutes=1))
    assert await spaces_of(services) == ["open"] and len(private_spaces(notifier)) == 1
    assert len(announced(notifier)) == 1


async def test_a_group_never_opened_is_not_asked_at_the_check_in(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """The platform failed from the round to its check-in: the members were never told of their group, so
    they are not DMed "did you meet?" about it."""
    await pair_planned(services)
    notifier.failing.add(PAIRING_CHANNEL)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    [check] = await pending(services, CHECKIN)
    clock.advance(check.due_at - clock.now())
    await services.scheduler.run_job(check.id)
    assert await spaces_of(services) == ["pending"]
    assert notifier.dms == [] and notifier.posts == []


class SecondSpaceFailsOnce(RecordingNotifier):
    """Discord answers 503 once, when the round's second private thread is being opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        self.opened += 1
        if self.opened == 2:
            raise RuntimeError("503 Service Unavailable")
        return await super().open_private_space(community_external_id, channel_id, user_ids, name)


async def test_the_announcement_waits_for_every_group_and_counts_them_all(
    services: Services, clock: FrozenClock
) -> None:
    """Two pairs; the second's thread fails once. The retry announced the round counting only the groups
    still pending then ("1 group formed among 4 members"), and the first announcement could go out before
    the second pair's conversation existed."""
    notifier = SecondSpaceFailsOnce()
    services.notifiers["discord"] = notifier
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await member(services, "U3", "Design graphique")
    await member(services, "U4", "Développement")
    await configure(services, alice.community_id)
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    assert len(private_spaces(notifier)) == 1 and announced(notifier) == []
    clock.advance(timedelta(minutes=2))
    await services.scheduler.run_due()
    assert len(private_spaces(notifier)) == 2
    assert announced(notifier) == [services.t("fr", "pairing.announce.text", count=2, people=4)]


class HangingSpace(RecordingNotifier):
    """Opening the first private thread hangs until `hang` is cleared, or ends as `end` says."""

    def __init__(self, end: type[BaseException] | None = None) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.hang = True
        self.end = end

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        if self.hang:
            self.hang = False
            self.entered.set()
            if self.end is not None:
                raise self.end()
            await self.release.wait()
        return await super().open_private_space(community_external_id, channel_id, user_ids, name)


class Killed(BaseException):
    """The process killed outright (SIGKILL, out of memory): nothing after it runs, no handler either."""


async def test_a_shutdown_while_a_group_s_thread_is_being_opened_gives_the_group_back(
    services: Services, clock: FrozenClock
) -> None:
    """`stop()` cancels a handler still running after its timeout (CancelledError, not an Exception): the
    group was given back only on `except Exception` and stayed "opening", never opened again, while the
    round was announced ("check your private conversations!")."""
    notifier = HangingSpace()
    services.notifiers["discord"] = notifier
    await pair_planned(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - clock.now())
    running = asyncio.create_task(services.scheduler.run_job(job.id))
    await asyncio.wait_for(notifier.entered.wait(), 5)
    running.cancel()  # what stop() does to a handler still in flight after stop_timeout
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert await spaces_of(services) == ["pending"] and announced(notifier) == []

    clock.advance(timedelta(minutes=2))  # restarted: the released job runs again
    await services.scheduler.run_due()
    assert await spaces_of(services) == ["open"] and len(private_spaces(notifier)) == 1
    assert len(announced(notifier)) == 1


async def test_a_group_left_being_opened_by_a_killed_process_is_opened_once_its_claim_is_stale(
    services: Services, clock: FrozenClock
) -> None:
    """Killed outright while opening a group: nothing gives the group back. Once the round job's claim is
    stale the scheduler runs it again, which takes the group back and opens it, then announces."""
    notifier = HangingSpace(end=Killed)
    services.notifiers["discord"] = notifier
    await pair_planned(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - clock.now())
    with pytest.raises(Killed):
        await services.scheduler.run_job(job.id)
    assert await spaces_of(services) == ["opening"]

    clock.advance(timedelta(minutes=5))  # the claim is still live: the job may be running elsewhere
    await services.scheduler.run_due()
    assert await spaces_of(services) == ["opening"] and announced(notifier) == []
    clock.advance(services.scheduler.stale_after)
    await services.scheduler.run_due()
    assert await spaces_of(services) == ["open"] and len(private_spaces(notifier)) == 1
    assert len(announced(notifier)) == 1


async def test_a_group_a_live_job_is_opening_is_neither_taken_back_nor_announced_early(
    services: Services, clock: FrozenClock
) -> None:
    """Two jobs for one slot (two processes planning at once): while the first one is opening the group,
    the second leaves it to it, and the round is announced once, after the group is opened."""
    notifier = HangingSpace()
    services.notifiers["discord"] = notifier
    alice = await pair_planned(services)
    [first] = await pending(services, ROUND)
    async with services.db.transaction() as session:
        second = await services.scheduler.schedule(
            session, kind=ROUND, due_at=FIRST, community_id=alice.community_id,
            payload={"slot": FIRST.isoformat()},
        )
    clock.advance(FIRST - clock.now())
    running = asyncio.create_task(services.scheduler.run_job(first.id))
    await asyncio.wait_for(notifier.entered.wait(), 5)
    await services.scheduler.run_job(second)
    assert await spaces_of(services) == ["opening"] and announced(notifier) == []
    notifier.release.set()
    await running
    clock.advance(timedelta(minutes=5))
    await services.scheduler.run_due()
    assert await spaces_of(services) == ["open"] and len(private_spaces(notifier)) == 1
    assert len(announced(notifier)) == 1


class HangingCard(RecordingNotifier):
    """The group's card in its new private thread hangs: the process is stopped meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.hang = True

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        if self.hang:
            self.hang = False
            self.entered.set()
            await asyncio.Event().wait()  # until cancelled
        return await super().post_in_thread(community_external_id, thread, card)


async def test_a_shutdown_while_the_group_s_card_goes_out_leaves_it_to_its_own_job(
    services: Services, clock: FrozenClock
) -> None:
    """The thread is opened and recorded; the shutdown cancels the job as the card goes out. The job run
    again finds the group opened, so only the card's own job can send it: it is queued, and sends it."""
    notifier = HangingCard()
    services.notifiers["discord"] = notifier
    await pair_planned(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - clock.now())
    running = asyncio.create_task(services.scheduler.run_job(job.id))
    await asyncio.wait_for(notifier.entered.wait(), 5)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    for _ in range(4):
        clock.advance(timedelta(minutes=2))
        await services.scheduler.run_due()
    [space] = private_spaces(notifier)
    cards = [p.card.title for p in notifier.posts if p.channel_id == space.ref.thread_id]
    assert cards == [services.t("fr", "pairing.card.title")]
    assert len(announced(notifier)) == 1


# -- planning: a round moved at the last moment, a community paused ----------------------------------


async def held_slots(services: Services) -> list[datetime]:
    async with services.db.transaction() as session:
        return list(await session.scalars(select(PairingRound.scheduled_for).order_by(PairingRound.seq)))


async def test_an_hour_moved_in_the_hour_before_a_round_still_holds_that_day_s_round(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """Mondays 19:00; at 18:30 a moderator moves rounds to 20:00. At 19:00 the old round job saw its slot
    stale and re-planned, but the planning saw a round job due (itself, running) and planned nothing;
    the hourly planning then looks after now only: the week's round was lost for an hour's move."""
    alice = await pair_planned(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - timedelta(minutes=30) - clock.now())  # 18:30 Paris
    await configure(services, alice.community_id, hour=20)
    clock.advance(FIRST - clock.now())  # 19:00: the hourly planner, then the old round job
    await run_plan(services, None)  # type: ignore[arg-type]
    await services.scheduler.run_job(job.id)
    assert [j.due_at for j in await pending(services, ROUND)] == [FIRST + timedelta(hours=1)]
    for hour in range(3):
        clock.advance(timedelta(hours=1, seconds=1 if hour == 0 else 0))
        await services.scheduler.run_due()
    assert await held_slots(services) == [FIRST + timedelta(hours=1)]
    assert len(private_spaces(notifier)) == 1


class BrokenOnce:
    """A notifier method failing once the way no retry of the platform mends (a bug): the job fails."""

    def __init__(self, method: Any) -> None:
        self.method, self.failed = method, False

    async def __call__(self, *args: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise LookupError("a bug")
        return await self.method(*args)


async def test_pausing_the_community_keeps_a_held_round_s_retry(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """The planner cancelled every round job of a community that removed the bot, a held round's retry
    too: its groups were stored but never opened once the bot came back. Like rounds turned off, a pause
    only cancels the rounds not held yet (the scheduler holds the retry until the bot is back)."""
    notifier.open_private_space = BrokenOnce(notifier.open_private_space)  # type: ignore[method-assign]
    alice = await pair_planned(services)
    [job] = await pending(services, ROUND)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()  # held, then the job failed midway: retried a minute later
    assert await held_slots(services) == [FIRST] and await spaces_of(services) == ["pending"]
    async with services.db.transaction() as session:
        await session.execute(
            update(Community).where(Community.id == alice.community_id).values(active=False)
        )
    await run_plan(services, None)  # type: ignore[arg-type]
    assert [j.id for j in await pending(services, ROUND)] == [job.id]  # next week's round cancelled
    async with services.db.transaction() as session:
        await session.execute(update(Community).where(Community.id == alice.community_id).values(active=True))
    clock.advance(timedelta(minutes=5))
    await services.scheduler.run_due()
    assert await spaces_of(services) == ["open"] and len(private_spaces(notifier)) == 1


# -- "Pair me" while snoozed --------------------------------------------------------------------------


async def test_pair_me_while_snoozed_ends_the_snooze_as_its_answer_promises(
    services: Services, clock: FrozenClock, notifier: RecordingNotifier
) -> None:
    """Snoozed for 3 rounds, Alice clicks "Pair me": the answer named the round of 30 November, which
    then left her out. A member asking to be paired is: the click ends the snooze."""
    alice = await member(services, "U1", "Design graphique")
    await member(services, "U2", "Développement")
    await member(services, "U3", "Développement")
    await configure(services, alice.community_id)
    await run(services, alice, snooze, 3)
    answer = await run(services, alice, set_opt_in, True)
    assert "30 novembre 2026" in answer
    status = (await run(services, alice, history, write=False)).fields[0].value
    assert status.startswith(services.t("fr", "pairing.history.opted_in") + "\n")
    await plan_now(services)
    clock.advance(FIRST - clock.now())
    await services.scheduler.run_due()
    assert alice.member_id in {m for g in await groups_of(services) for m in g}
