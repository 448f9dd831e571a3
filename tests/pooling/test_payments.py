"""Payments once a group purchase happened: ticked by the organizer only, private, one reminder, DMs once.

NOW (tests/conftest.py) is Thursday 2026-11-26 10:00 UTC, 11:00 in Paris.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import UserError
from bot.rendering.slack import render_message
from bot.services import Services
from bot.usecase import run
from cogs.pooling import _ids
from cogs.pooling._form import PoolForm
from cogs.pooling._payments import check_remind, mark_paid, remind_unpaid, show_payments
from cogs.pooling._pools import cancel_pool, close_pool, create_pool, delete_member, export_member, join_pool
from cogs.pooling._settings import CHANNEL
from cogs.pooling._start import register_jobs
from cogs.pooling.models import PoolMember
from storage.models import FeatureSetting
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier

DEADLINE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    register_jobs(services)
    return recording


async def happening(services: Services, organizer: Caller, people: list[Caller]) -> int:
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=organizer.community_id, key=CHANNEL.key,
                                           value="C-POOL"))
    created = await run(services, organizer, create_pool, PoolForm(
        title="Licences Figma", what="Un an", link="https://figma.example", tiers="1-2: 15; 3+: 12,50",
        minimum="2", deadline="2026-12-04 18:00"))
    for who in people:
        await run(services, who, join_pool, created.pool_id)
    await run(services, organizer, close_pool, created.pool_id)
    return created.pool_id


async def test_the_organizer_ticks_who_paid_and_reminds_the_others_once(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob, carol, dan = [await make_caller(services, f"U{n}", name=name)
                       for n, name in ((2, "Bob"), (3, "Carol"), (4, "Dan"))]
    pid = await happening(services, alice, [bob, carol, dan])
    summary = next(d for d in notifier.dms if d.user_id == "U1")
    assert [a.id for a in summary.card.actions] == [f"pooling:payments:{pid}:0"]

    card = await run(services, alice, show_payments, pid, 0, write=False)
    assert card.text.splitlines() == ["⏳ Bob", "⏳ Carol", "⏳ Dan"]
    [select_menu] = card.selects
    assert select_menu.id.startswith(f"pooling:paid:{pid}:0:") and select_menu.max_values == 3
    assert f"pooling:remind:{pid}" in [a.id for a in card.actions]

    # Only the organizer (or a moderator): a participant sees nothing and changes nothing.
    for use, args in ((show_payments, (pid, 0)), (mark_paid, (pid, 0, [str(bob.member_id)])),
                      (remind_unpaid, (pid,))):
        with pytest.raises(UserError) as refused:
            await run(services, bob, use, *args)
        assert refused.value.key == "pooling.errors.not_organizer"

    # Bob paid; an id that is no participant (the organizer's own) is ignored.
    card = await run(services, alice, mark_paid, pid, 0, [str(bob.member_id), str(alice.member_id)])
    assert card.text.splitlines()[:3] == ["✅ Bob", "⏳ Carol", "⏳ Dan"]
    assert [o.default for o in card.selects[0].options] == [True, False, False]
    async with services.db.transaction() as session:
        rows = await session.execute(select(PoolMember.member_id, PoolMember.paid_at))
        paid = {m: at is not None for m, at in rows}
    assert paid == {bob.member_id: True, carol.member_id: False, dan.member_id: False}

    before = len(notifier.dms)
    assert await run(services, alice, remind_unpaid, pid) == 2
    reminded = notifier.dms[before:]
    assert sorted(d.user_id for d in reminded) == ["U3", "U4"]
    assert reminded[0].card.title == "💶 Licences Figma : rappel de paiement"
    await services.scheduler.run_due()  # the job behind it finds both sent already
    assert len(notifier.dms) == before + 2
    with pytest.raises(UserError) as twice:
        await run(services, alice, check_remind, pid, write=False)
    assert twice.value.key == "pooling.errors.already_reminded"
    card = await run(services, alice, show_payments, pid, 0, write=False)
    assert f"pooling:remind:{pid}" not in [a.id for a in card.actions]

    # Unticking works too; the export shows the participant's own payment.
    await run(services, alice, mark_paid, pid, 0, [])
    async with services.db.transaction() as session:
        exported = await export_member(session, bob.community_id, bob.member_id)
    assert exported["joined"][0]["paid_at"] is None


async def test_the_payment_list_s_plain_text_says_when_the_reminder_went_in_the_community_s_zone(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Slack's plain text of the list (notifications, screen readers): 11:00 in Paris, not 10:00 UTC."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    pid = await happening(services, alice, [bob, await make_caller(services, "U3", name="Carol")])
    await run(services, alice, remind_unpaid, pid)
    card = await run(services, alice, show_payments, pid, 0, write=False)
    text = render_message(card)["text"]
    assert "UTC" not in text and "11:00" in text, text


async def test_payments_wait_for_the_purchase_to_happen(
    services: Services, notifier: RecordingNotifier
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=alice.community_id, key=CHANNEL.key, value="C-POOL"))
    created = await run(services, alice, create_pool, PoolForm(
        title="Bureaux", what="Coworking", link="https://desk.example", tiers="90", minimum="2",
        deadline="2026-12-04 18:00"))
    with pytest.raises(UserError) as early:
        await run(services, alice, show_payments, created.pool_id, 0, write=False)
    assert early.value.key == "pooling.errors.not_happening"


async def test_an_organizer_who_joined_their_own_purchase_is_not_on_their_payment_list(
    services: Services, notifier: RecordingNotifier
) -> None:
    """They collect the money: they are not asked to pay themselves, nor listed as unpaid to themselves."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    pid = await happening(services, alice, [alice, bob])
    card = await run(services, alice, show_payments, pid, 0, write=False)
    assert card.text.splitlines() == ["⏳ Bob"]
    before = len(notifier.dms)
    assert await run(services, alice, remind_unpaid, pid) == 1
    assert [d.user_id for d in notifier.dms[before:]] == ["U2"]


async def test_a_moderator_reaches_a_happened_purchase_s_payments_from_its_card(
    services: Services, notifier: RecordingNotifier
) -> None:
    """The organizer's DM is not the only way in: the happened card has Payments, which answers
    privately, to the organizer or a moderator only (README's moderator table)."""
    alice = await make_caller(services, "U1", name="Alice")
    mod = await make_caller(services, "U9", name="Modé", moderator=True)
    bob, carol = [await make_caller(services, f"U{n}", name=name) for n, name in ((2, "Bob"), (3, "Carol"))]
    pid = await happening(services, alice, [bob, carol])
    [card] = notifier.in_channel("C-POOL")
    assert [a.id for a in card.actions] == [f"pooling:payments:{pid}:0"]
    assert [a.label for a in card.actions] == [services.t("fr", "pooling.buttons.payments")]

    listed = await run(services, mod, show_payments, pid, 0, write=False)
    assert listed.text.splitlines() == ["⏳ Bob", "⏳ Carol"]
    ticked = await run(services, mod, mark_paid, pid, 0, [str(carol.member_id)])
    assert ticked.text.splitlines()[:2] == ["⏳ Bob", "✅ Carol"]
    with pytest.raises(UserError) as refused:
        await run(services, bob, show_payments, pid, 0, write=False)
    assert refused.value.key == "pooling.errors.not_organizer"


async def test_only_a_happened_purchase_s_card_offers_payments(
    services: Services, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    async with services.db.transaction() as session:
        await session.merge(FeatureSetting(community_id=alice.community_id, key=CHANNEL.key, value="C-POOL"))
    form = PoolForm(title="Bureaux", what="Coworking", link="https://desk.example", tiers="90", minimum="2",
                    deadline="2026-12-04 18:00")
    cancelled = (await run(services, alice, create_pool, form)).pool_id
    failed = (await run(services, alice, create_pool, form)).pool_id
    await run(services, bob, join_pool, failed)
    await run(services, alice, cancel_pool, cancelled)
    clock.set(DEADLINE)
    await services.scheduler.run_due()
    shown = notifier.in_channel("C-POOL")
    assert [c.title.startswith("❌") for c in shown] == [True, True]
    assert [a.id for c in shown for a in c.actions] == []


async def test_a_forged_superscript_id_in_the_payment_select_changes_nothing_and_does_not_crash(
    services: Services, notifier: RecordingNotifier
) -> None:
    """"²".isdigit() is True, yet int("²") raises: a forged Slack or Discord value is ignored like any
    id that is no participant."""
    alice = await make_caller(services, "U1", name="Alice")
    bob = await make_caller(services, "U2", name="Bob")
    pid = await happening(services, alice, [bob, await make_caller(services, "U3", name="Carol")])
    card = await run(services, alice, mark_paid, pid, 0, ["²", "٣", str(bob.member_id)])
    assert card.text.splitlines()[:2] == ["✅ Bob", "⏳ Carol"]


async def test_a_page_of_the_payment_list_out_of_date_changes_only_those_it_showed(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Page 2 ticks the 26th participant; someone on page 1 deletes their data, so the 26th moves up
    to page 1. The organizer's older page 1 (still on screen, without them) is submitted: it never
    showed the 26th, so their payment stays ticked."""
    alice = await make_caller(services, "U1", name="Alice")
    people = [await make_caller(services, f"U{n}", name=f"P{n:02}") for n in range(2, 29)]  # 27
    pid = await happening(services, alice, people)
    first = await run(services, alice, show_payments, pid, 0, write=False)
    [stale] = first.selects
    assert [o.label for o in stale.options][-1] == "P26"
    second = await run(services, alice, show_payments, pid, 1, write=False)
    assert [o.label for o in second.selects[0].options] == ["P27", "P28"]
    await run(services, alice, mark_paid, pid, 1, [str(people[25].member_id)],
              _ids.shown_range(re.fullmatch(_ids.PAID, second.selects[0].id)))
    async with services.db.transaction() as session:
        await delete_member(session, alice.community_id, people[0].member_id)
    now = await run(services, alice, show_payments, pid, 0, write=False)
    assert [o.label for o in now.selects[0].options][-1] == "P27"  # moved up to page 1

    shown = _ids.shown_range(re.fullmatch(_ids.PAID, stale.id))
    card = await run(services, alice, mark_paid, pid, 0, [str(people[1].member_id)], shown)
    assert card.text.splitlines()[:2] == ["✅ P03", "⏳ P04"]
    assert card.text.splitlines()[-1] == "✅ P27"
    async with services.db.transaction() as session:
        paid = set(await session.scalars(select(PoolMember.member_id).where(PoolMember.paid_at.is_not(None))))
    assert paid == {people[1].member_id, people[25].member_id}
