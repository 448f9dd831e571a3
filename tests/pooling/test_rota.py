"""The rota of shared admin tasks, frozen clock: fair turns, reminders once, Can't passed on once, moderators.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.errors import Forbidden, InvalidInput, NotFound, UserError
from bot.i18n import expand_commands
from bot.rendering.slack import render_message
from bot.services import Services
from bot.usecase import run
from cogs.intros.models import Profile, ProfileTrade
from cogs.pooling._privacy import delete_member, export_member
from cogs.pooling._rota import (
    CantAnswer,
    add_task,
    cant,
    history,
    list_tasks,
    mark_done,
    remove_task,
    stop,
    volunteer,
)
from cogs.pooling._rota import delete_member as rota_delete_member
from cogs.pooling._rota_form import TaskForm
from cogs.pooling._rota_time import next_due, remind_at
from cogs.pooling._start import register_jobs
from cogs.pooling.models import RotaDelivery, RotaTask, RotaTurn, RotaVolunteer
from storage.models import Trade
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Paris, the default hour
WEEK = 7


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


def form(**changes: object) -> TaskForm:
    base = TaskForm(name="Comptabilité", description="Saisir les factures du mois", cadence="weekly",
                    weekday="mon")
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def turns(services: Services) -> list[RotaTurn]:
    async with services.db.transaction() as session:
        return list(await session.scalars(select(RotaTurn).order_by(RotaTurn.due_at)))


async def seeds(services: Services, by_member: dict[int, int]) -> None:
    """The volunteers' stored seeds set, so the last tie-break is known to the test."""
    async with services.db.transaction() as session:
        for member_id, seed in by_member.items():
            await session.execute(update(RotaVolunteer).where(RotaVolunteer.member_id == member_id)
                                  .values(seed=seed))


async def modlog(services: Services, community_id: int) -> None:
    async with services.db.transaction() as session:
        (await get_settings(session, community_id)).modlog_channel_id = "C-MOD"


def test_due_dates_follow_the_local_calendar_across_dst() -> None:
    # Paris leaves summer time on Sunday 2026-10-25: Monday 09:00 is 07:00 UTC before, 08:00 after.
    before = datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    after = next_due(before, cadence="weekly", weekday="mon", hour=9, timezone="Europe/Paris", last=before)
    assert after == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    # Two days before, at the same wall time, on the other side of the change.
    assert remind_at(after, 2, "Europe/Paris") == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    biweekly = next_due(before, cadence="biweekly", weekday="mon", hour=9, timezone="Europe/Paris",
                        last=before)
    assert biweekly == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    monthly = next_due(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), cadence="monthly", weekday="mon", hour=9,
                       timezone="Europe/Paris")
    assert monthly == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # the first Monday of December
    # In spring, 02:30 does not exist in Paris (2027-03-28): read with the offset before the gap.
    spring = next_due(datetime(2027, 3, 27, 0, 0, tzinfo=UTC), cadence="weekly", weekday="sun", hour=2,
                      timezone="Europe/Paris")
    assert spring == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


async def test_a_rota_over_several_turns_is_fair_reminds_once_and_passes_on_cant(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana, ben, cleo = [await make_caller(services, f"U{n}", name=name)
                      for n, name in ((2, "Ana"), (3, "Ben"), (4, "Cléo"))]
    await modlog(services, mod.community_id)
    with pytest.raises(Forbidden):
        await run(services, ana, add_task, form())
    card = await run(services, mod, add_task, form())
    assert card.title == "🗓️ Tâche ajoutée : Comptabilité"
    [first] = await turns(services)
    assert (first.due_at, first.assignee_id) == (MONDAY, None)
    assert first.remind_at == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

    assert await run(services, ana, volunteer, first.task_id) is True
    assert await run(services, ana, volunteer, first.task_id) is False  # a double click
    for who in (ben, cleo):
        await run(services, who, volunteer, first.task_id)
    await seeds(services, {ana.member_id: 30, ben.member_id: 10, cleo.member_id: 20})
    [first] = await turns(services)
    assert first.assignee_id == ana.member_id  # the turn nobody held went to the first volunteer
    assert notifier.dms == []  # the reminder is for later

    listed = await run(services, ben, list_tasks, write=False)
    assert "Ana" in listed.fields[0].value
    assert [a.id for a in listed.actions] == [f"pooling:task_stop:{first.task_id}"]

    # Two days before: Ana's DM with Done / Can't, once.
    clock.set(first.remind_at)
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [dm] = notifier.dms
    assert dm.user_id == "U2" and dm.card.title == "🗓️ À vous : Comptabilité"
    assert [a.id for a in dm.card.actions] == [f"pooling:task_done:{first.id}",
                                               f"pooling:task_cant:{first.id}"]
    with pytest.raises(UserError) as refused:
        await run(services, ben, mark_done, first.id)
    assert refused.value.key == "pooling.tasks.errors.not_holder"
    await run(services, ana, mark_done, first.id)
    with pytest.raises(UserError) as again:
        await run(services, ana, mark_done, first.id)
    assert again.value.key == "pooling.tasks.errors.already_done"

    # Due: the next turn goes to who did it least recently: Ben and Cléo never did, Ben's seed is lower.
    clock.set(MONDAY)
    await services.scheduler.run_due()
    second = (await turns(services))[1]
    assert (second.due_at, second.assignee_id) == (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), ben.member_id)

    # Ben can't: it passes to Cléo at once (reminder time passed), with a DM; Cléo can't either: moderators.
    clock.set(second.remind_at)
    await services.scheduler.run_due()
    assert [d.user_id for d in notifier.dms] == ["U2", "U3"]
    assert (await run(services, ben, cant, second.id)).outcome == "passed"
    assert [d.user_id for d in notifier.dms] == ["U2", "U3", "U4"]
    assert notifier.dms[-1].card.text.startswith("La personne avant vous ne peut pas")
    assert (await run(services, cleo, cant, second.id)).outcome == "moderators"
    [told] = notifier.in_channel("C-MOD")
    assert told.title == "🗓️ Personne ne peut prendre : Comptabilité"
    await services.scheduler.run_due()
    assert len(notifier.in_channel("C-MOD")) == 1

    # Third turn: Ana did it on 30 Nov; Ben and Cléo held nothing to the end: Ben (seed) again.
    clock.set(second.due_at)
    await services.scheduler.run_due()
    third = (await turns(services))[2]
    assert third.assignee_id == ben.member_id
    await run(services, ben, mark_done, third.id)
    clock.set(third.due_at)
    await services.scheduler.run_due()
    fourth = (await turns(services))[3]
    assert fourth.assignee_id == cleo.member_id  # Cléo never did it: her turn now

    # Ben stops: nothing he holds; Cléo stops: her coming turn goes to Ana (Ben no longer volunteers).
    assert await run(services, ben, stop, first.task_id) is True
    assert await run(services, ben, stop, first.task_id) is False
    await run(services, cleo, stop, first.task_id)
    assert (await turns(services))[3].assignee_id == ana.member_id

    shown = await run(services, mod, history, write=False)
    assert "Ana : 1 fois" in shown.fields[0].value and "Ben : 1 fois" in shown.fields[0].value
    with pytest.raises(Forbidden):
        await run(services, ana, history, write=False)


async def test_nobody_volunteers_the_moderators_are_told_once_before_it_is_due(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    await modlog(services, mod.community_id)
    await run(services, mod, add_task, form(name="Veille juridique", cadence="monthly"))
    [turn] = await turns(services)
    assert turn.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [told] = notifier.in_channel("C-MOD")
    assert told.title == "🗓️ Personne pour : Veille juridique"
    assert notifier.dms == []

    removed = await run(services, mod, remove_task, "veille  JURIDIQUE")
    assert removed == "Veille juridique"
    clock.set(turn.due_at)
    await services.scheduler.run_due()
    assert [t.status for t in await turns(services)] == ["stopped"]  # no more turns planned


async def _told_nobody_then_ana_takes_it(services: Services, notifier: RecordingNotifier, clock: FrozenClock):
    """A monthly task nobody volunteers for: the moderators are told at the reminder, then Ana takes it."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    await modlog(services, mod.community_id)
    await run(services, mod, add_task, form(name="Veille juridique", cadence="monthly"))
    [turn] = await turns(services)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    assert len(notifier.in_channel("C-MOD")) == 1
    await run(services, ana, volunteer, turn.task_id)
    assert [d.user_id for d in notifier.dms] == ["U2"]  # her DM at once: the reminder time passed
    return ana, turn


async def test_moderators_hear_again_when_the_only_volunteer_stops_after_the_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The moderators' "nobody" notice of the reminder must not stand for a later loss of holder."""
    ana, turn = await _told_nobody_then_ana_takes_it(services, notifier, clock)
    await run(services, ana, stop, turn.task_id)  # nobody holds the coming turn again
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [turn] = await turns(services)
    assert turn.assignee_id is None
    told = notifier.in_channel("C-MOD")
    assert [c.title for c in told] == ["🗓️ Personne pour : Veille juridique"] * 2  # once per loss


async def test_moderators_hear_again_when_the_only_volunteer_deletes_their_data_after_the_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """A deletion gives the turn anew through a REMIND queued again: its notice is not the first one's."""
    ana, _ = await _told_nobody_then_ana_takes_it(services, notifier, clock)
    async with services.db.transaction() as session:
        await rota_delete_member(session, ana.community_id, ana.member_id, clock.now())
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    assert len(notifier.in_channel("C-MOD")) == 2


async def test_slack_notification_texts_say_the_turn_s_local_hour_not_utc(
    services: Services, clock: FrozenClock
) -> None:
    """Slack's lock screen shows the message's plain text: a turn at 09:00 in Paris, not
    "le 2026-11-30 08:00 UTC (2026-11-30 08:00 UTC)"."""
    slack = RecordingNotifier(platform="slack")
    services.notifiers["slack"] = slack
    register_jobs(services)
    mod = await make_caller(services, "U1", name="Modé", platform="slack", moderator=True)
    ana = await make_caller(services, "U2", name="Ana", platform="slack")
    await modlog(services, mod.community_id)
    added = await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    await run(services, ana, stop, turn.task_id)  # nobody left: the moderators' notice
    [dm] = slack.dms
    [notice] = slack.in_channel("C-MOD")
    for card in (added, dm.card, notice):  # the turn is Monday 30 November 2026, 09:00 in Paris
        text = render_message(card)["text"]
        assert "UTC" not in text and "30 novembre 2026" in text and "09:00" in text, text


async def test_bad_task_input_and_trades(services: Services, notifier: RecordingNotifier) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    with pytest.raises(InvalidInput) as bad:
        await run(services, mod, add_task,
                  form(name=" ", cadence="daily", weekday="lundi", trades="Plomberie"))
    assert set(bad.value.problems) == {"name", "cadence", "weekday", "trades"}
    with pytest.raises(InvalidInput) as long:
        await run(services, mod, add_task, form(name="x" * 81))
    assert long.value.problems["name"][0] == "pooling.tasks.problems.too_long"
    assert await turns(services) == []

    async with services.db.transaction() as session:
        design = Trade(community_id=mod.community_id, key="design", name="Design", position=0)
        session.add(design)
        await session.flush()
        profile = Profile(community_id=mod.community_id, member_id=mod.member_id)
        session.add(profile)
        await session.flush()
        session.add(ProfileTrade(community_id=mod.community_id, profile_id=profile.id, trade_id=design.id))
    await run(services, mod, add_task, form(name="Modèles de devis", trades="design"))
    with pytest.raises(UserError) as exists:
        await run(services, mod, add_task, form(name="modeles de DEVIS"))
    assert exists.value.key == "pooling.tasks.errors.exists"
    async with services.db.transaction() as session:
        task = await session.scalar(select(RotaTask))
        assert task is not None and task.trade_ids == [design.id]
    with pytest.raises(UserError) as other_trade:
        await run(services, ana, volunteer, task.id)
    assert other_trade.value.key == "pooling.tasks.errors.not_eligible"
    assert await run(services, mod, volunteer, task.id) is True
    with pytest.raises(NotFound):
        await run(services, ana, volunteer, 999_999)


async def test_privacy_export_and_delete_give_a_held_turn_anew(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana, ben = [await make_caller(services, f"U{n}", name=name) for n, name in ((2, "Ana"), (3, "Ben"))]
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    await run(services, ben, volunteer, turn.task_id)
    async with services.db.transaction() as session:
        exported = await export_member(session, ana.community_id, ana.member_id)
    assert [v["task"] for v in exported["rota"]["volunteering"]] == ["Comptabilité"]
    assert exported["rota"]["turns"][0]["role"] == "holder"

    clock.set(turn.remind_at)
    async with services.db.transaction() as session:
        await delete_member(session, ana.community_id, ana.member_id)
    async with services.db.transaction() as session:
        left = await session.scalar(select(RotaVolunteer).where(RotaVolunteer.member_id == ana.member_id))
        assert left is None
        exported = await export_member(session, ana.community_id, ana.member_id)
    assert exported["rota"] == {"volunteering": [], "turns": [], "tasks_defined": [], "reminders": []}
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [held] = await turns(services)
    assert held.assignee_id == ben.member_id
    assert [d.user_id for d in notifier.dms] == ["U3"]


async def test_a_new_task_s_first_turn_leaves_time_to_volunteer(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))  # Sunday: Monday is tomorrow, within the 2 days
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    assert turn.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert turn.remind_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert await services.scheduler.run_due() == 0  # nothing to tell anyone yet


def test_a_forged_superscript_trade_id_is_named_not_a_crash() -> None:
    """Slack sends the chosen trades' ids: "²".isdigit() is True, yet int("²") raises."""
    from cogs.pooling._rota_form import validate_task

    with pytest.raises(InvalidInput) as refused:
        validate_task(form(trade_ids=["²"]), [(2, "Design")])
    assert refused.value.problems["trades"][0] == "pooling.tasks.problems.trade_unknown"


async def test_the_export_lists_the_turn_reminders_dmed_to_the_member(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """rota_deliveries says which turn reminders went to whom, and when: the member's export shows it."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    async with services.db.transaction() as session:
        sent = await session.scalar(
            select(RotaDelivery.sent_at).where(RotaDelivery.member_id == ana.member_id))
        assert sent is not None
        exported = await export_member(session, ana.community_id, ana.member_id)
        theirs = await export_member(session, mod.community_id, mod.member_id)
    assert exported["rota"]["reminders"] == [
        {"task": "Comptabilité", "due_at": turn.due_at.isoformat(), "sent_at": sent.isoformat()}]
    assert theirs["rota"]["reminders"] == []


async def test_a_task_added_again_leaves_time_to_volunteer_before_its_first_turn(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Removed, then added again weeks later (the same row, revived): its first turn is planned as a new
    task's, not from its old stopped turn (which made it due the next day, its reminder at once)."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    await run(services, mod, add_task, form())
    await run(services, mod, remove_task, "Comptabilité")
    clock.set(datetime(2027, 1, 10, 10, 0, tzinfo=UTC))  # a Sunday, weeks later: Monday is tomorrow
    await run(services, mod, add_task, form())
    [turn] = [t for t in await turns(services) if t.status == "pending"]
    assert turn.due_at == datetime(2027, 1, 18, 8, 0, tzinfo=UTC)
    assert turn.remind_at == datetime(2027, 1, 16, 8, 0, tzinfo=UTC)
    assert await services.scheduler.run_due() == 0  # nothing to tell anyone yet


async def test_a_task_removed_and_added_again_at_once_gets_a_turn_beside_its_stopped_one(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """Added back the same day: its lead time lands on the stopped turn's due time (one turn per due
    time): the next one is planned, never a crash."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    await run(services, mod, add_task, form())
    [stopped] = await turns(services)
    assert stopped.due_at == MONDAY
    await run(services, mod, remove_task, "Comptabilité")
    await run(services, mod, add_task, form())
    [turn] = [t for t in await turns(services) if t.status == "pending"]
    assert turn.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


async def test_a_task_done_early_then_removed_and_added_again_is_not_due_twice(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """A turn marked done before its due day is no stopped turn: the revived task's first turn comes
    after it."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    await run(services, ana, mark_done, turn.id)
    await run(services, mod, remove_task, "Comptabilité")
    await run(services, mod, add_task, form())
    [coming] = [t for t in await turns(services) if t.status == "pending"]
    assert coming.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


async def test_two_clicks_at_once_are_settled_by_the_database(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana, ben = [await make_caller(services, f"U{n}", name=name) for n, name in ((2, "Ana"), (3, "Ben"))]
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    await run(services, ben, volunteer, turn.task_id)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()

    results = await asyncio.gather(run(services, ana, cant, turn.id), run(services, ana, cant, turn.id),
                                   return_exceptions=True)
    assert [r.outcome for r in results if isinstance(r, CantAnswer)] == ["passed"]
    [refused] = [r for r in results if isinstance(r, UserError)]
    assert refused.key in ("pooling.tasks.errors.not_holder", "pooling.tasks.errors.turn_closed")
    [held] = await turns(services)
    assert (held.assignee_id, held.passes) == (ben.member_id, 1)

    done = await asyncio.gather(run(services, ben, mark_done, turn.id),
                                run(services, ben, mark_done, turn.id), return_exceptions=True)
    assert sum(isinstance(r, UserError) for r in done) == 1


async def test_a_holder_who_left_the_community_is_skipped_at_the_reminder(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana, ben = [await make_caller(services, f"U{n}", name=name) for n, name in ((2, "Ana"), (3, "Ben"))]
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)
    await run(services, ben, volunteer, turn.task_id)
    assert (await turns(services))[0].assignee_id == ana.member_id
    notifier.left.add("U2")  # Ana left the server since
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    [held] = await turns(services)
    assert held.assignee_id == ben.member_id
    assert [d.user_id for d in notifier.dms] == ["U3"]
    async with services.db.transaction() as session:
        volunteers = list(await session.scalars(select(RotaVolunteer.member_id)))
    assert volunteers == [ben.member_id]


async def _two_volunteers(services: Services) -> tuple[object, object, RotaTurn]:
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    ben = await make_caller(services, "U3", name="Ben")
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    await run(services, ana, volunteer, turn.task_id)  # Ana holds the coming turn
    await run(services, ben, volunteer, turn.task_id)
    return ana, ben, turn


async def test_cant_never_hands_the_turn_to_a_volunteer_who_just_stopped(
    services: Services, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ana's Can't picked Ben; Ben clicks Stop before it commits (PostgreSQL, READ COMMITTED): the
    turn never ends with someone who no longer volunteers."""
    import cogs.pooling._rota as rota
    from tests.races import Meanwhile

    ana, ben, turn = await _two_volunteers(services)
    original, meanwhile = rota.pick, Meanwhile()

    async def pick_then_ben_stops(session, task, exclude):
        chosen = await original(session, task, exclude)
        await meanwhile.run(run(services, ben, stop, task.id))
        return chosen

    monkeypatch.setattr(rota, "pick", pick_then_ben_stops)
    await asyncio.gather(run(services, ana, cant, turn.id), return_exceptions=True)
    await meanwhile.settle()
    async with services.db.transaction() as session:
        holder = await session.scalar(select(RotaTurn.assignee_id).where(RotaTurn.id == turn.id))
        still = set(await session.scalars(select(RotaVolunteer.member_id)))
    assert holder is None or holder in still, (holder, still, [d.user_id for d in notifier.dms])


async def test_removing_a_task_keeps_a_turn_marked_done_meanwhile(
    services: Services, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A moderator removes the task while Ana clicks Done on its turn: her Done is either refused
    (the turn stopped first) or kept; never a stopped turn with her done date."""
    from tests.races import Meanwhile

    ana, _ben, turn = await _two_volunteers(services)
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    original, meanwhile = services.scheduler.cancel, Meanwhile()

    async def cancel_beside_a_done(*args, **kwargs):
        if not meanwhile_started:
            meanwhile_started.append(True)
            await meanwhile.run(run(services, ana, mark_done, turn.id))
        return await original(*args, **kwargs)

    meanwhile_started: list[bool] = []
    monkeypatch.setattr(services.scheduler, "cancel", cancel_beside_a_done)
    await run(services, mod, remove_task, "Comptabilité")
    await meanwhile.settle()
    async with services.db.transaction() as session:
        status, done_at = (await session.execute(
            select(RotaTurn.status, RotaTurn.done_at).where(RotaTurn.id == turn.id))).one()
    assert (status, done_at is None) in (("stopped", True), ("done", False)), (status, done_at)


async def test_without_a_modlog_channel_the_task_s_creator_is_dmed_and_add_warns(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """No moderators' log channel (the default): "nobody for this task" was a server log line only,
    the turn marked told all the same, and /tasks add said nothing about it."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    added = await run(services, mod, add_task, form(name="Veille juridique", cadence="monthly"))
    assert added.text.endswith(services.t("fr", "pooling.tasks.no_modlog"))
    assert "/config salon modération" in expand_commands(added.text, "discord")
    [turn] = await turns(services)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [dm] = notifier.dms
    assert dm.user_id == "U1" and dm.card.title == "🗓️ Personne pour : Veille juridique"
    assert dm.card.text.endswith(services.t("fr", "pooling.tasks.moderators.by_dm"))
    assert notifier.posts == []
    [told] = await turns(services)
    assert told.moderators_told_at == turn.remind_at

    await modlog(services, mod.community_id)  # with the channel: no warning, and the channel is told
    shown = await run(services, mod, add_task, form())
    assert services.t("fr", "pooling.tasks.no_modlog") not in shown.text


@pytest.mark.parametrize("trouble", ["gone", "forbidden", "failing"])
async def test_a_modlog_channel_that_cannot_be_used_falls_back_to_a_dm_in_the_moderator_s_language(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock, trouble: str
) -> None:
    mod = await make_caller(services, "U1", name="Modé", moderator=True, locale="en")
    await modlog(services, mod.community_id)
    getattr(notifier, trouble).add("C-MOD")
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    [dm] = notifier.dms
    assert dm.user_id == "U1" and dm.card.title == services.t("en", "pooling.tasks.moderators.nobody_title",
                                                               name="Comptabilité")


async def test_cant_says_the_moderators_are_told_only_when_someone_was(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    """The only volunteer clicks Can't this time with no log channel: the task's creator gets a DM and
    she reads "the moderators are told"; when nobody can be told, she reads so, and nothing is marked."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    ana = await make_caller(services, "U2", name="Ana")
    await run(services, mod, add_task, form())
    await run(services, mod, add_task, form(name="Prospection"))
    first, other = await turns(services)
    for turn in (first, other):
        await run(services, ana, volunteer, turn.task_id)
    clock.set(first.remind_at)
    await services.scheduler.run_due()
    assert sorted(d.user_id for d in notifier.dms) == ["U2", "U2"]

    answer = await run(services, ana, cant, first.id)
    assert answer.outcome == "moderators"
    [told] = notifier.dms[2:]
    assert told.user_id == "U1" and told.card.title == "🗓️ Personne ne peut prendre : Comptabilité"

    notifier.closed_dms.add("U1")  # the creator's DMs closed: nobody can be told
    answer = await run(services, ana, cant, other.id)
    assert answer.outcome == "not_told"
    assert services.t("fr", f"pooling.tasks.answered.{answer.outcome}").startswith("C’est noté, mais")
    async with services.db.transaction() as session:
        marked = (await session.get(RotaTurn, other.id)).moderators_told_at  # type: ignore[union-attr]
    assert marked is None and len(notifier.dms) == 3


async def test_without_a_modlog_channel_the_moderators_listed_on_slack_are_dmed_too(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    services.notifiers["slack"] = notifier
    mod = await make_caller(services, "U1", name="Modé", moderator=True, platform="slack")
    await make_caller(services, "U5", name="Lou", platform="slack")
    async with services.db.transaction() as session:
        (await get_settings(session, mod.community_id)).moderator_user_ids = ["U5", "U-never-seen"]
    await run(services, mod, add_task, form())
    [turn] = await turns(services)
    clock.set(turn.remind_at)
    await services.scheduler.run_due()
    assert sorted(d.user_id for d in notifier.dms) == ["U1", "U5"]  # no member row: not DMed


async def test_a_task_added_twice_at_once_is_added_once_and_the_second_told_it_exists(
    services: Services, notifier: RecordingNotifier
) -> None:
    """A double submit (or two moderators): on PostgreSQL both found no such task, both inserted it, and
    the second answered with an error instead of "exists"."""
    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    outcomes = await asyncio.gather(*(run(services, mod, add_task, form()) for _ in range(2)),
                                    return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert [(e.key, e.params) for e in refused if isinstance(e, UserError)] == [
        ("pooling.tasks.errors.exists", {"name": "Comptabilité"})], outcomes
    assert len(refused) == 1, outcomes
    assert [(t.status, t.due_at) for t in await turns(services)] == [("pending", MONDAY)]


async def test_tasks_of_other_names_added_at_once_never_pass_the_most(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Three places left and six tasks added at once (moderators, double submits): on PostgreSQL each
    counted 17 active tasks before any was added, and 23 were, past the /tasks card's buttons."""
    from sqlalchemy import func

    from cogs.pooling._rota_form import MAX_TASKS

    mod = await make_caller(services, "U1", name="Modé", moderator=True)
    for n in range(MAX_TASKS - 3):
        await run(services, mod, add_task, form(name=f"Tâche {n}"))
    adds = (run(services, mod, add_task, form(name=f"Nouvelle {n}")) for n in range(6))
    outcomes = await asyncio.gather(*adds, return_exceptions=True)
    async with services.db.transaction() as session:
        active = await session.scalar(
            select(func.count()).select_from(RotaTask).where(RotaTask.active.is_(True)))
    assert active == MAX_TASKS, outcomes
    refused = [(o.key, o.params) for o in outcomes if isinstance(o, UserError)]
    assert refused == [("pooling.tasks.errors.too_many", {"max": MAX_TASKS})] * 3, outcomes
