"""The mission use cases: post, interest, selection, lifecycle, limits, reposts, expiry, privacy."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput, NotFound, UserError
from bot.services import Services
from bot.usecase import run
from cogs.missions import _publish
from cogs.missions._cards import mission_card
from cogs.missions._missions import export_member, load_view
from cogs.missions._publish import (
    EXPIRE,
    WARN,
    candidates_of,
    check_mission,
    close_mission,
    confirm_team,
    extend_mission,
    list_missions,
    register_jobs,
    select_team,
    show_interest,
    submit_mission,
    withdraw,
)
from cogs.missions._validation import parse_budget
from cogs.missions.models import Candidacy, Mission
from cogs.privacy._privacy import delete_member_data
from storage.communities import sectors
from storage.models import CommunitySettings, Job, Post, Sector, Trade
from storage.settings import get_settings
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form
from tests.races import Meanwhile


async def post(services: Services, caller: Caller, trade_ids: list[int], **changes: str) -> int:
    done = await run(
        services, caller, submit_mission, form(trade_ids, **changes), origin_channel_id="CORIGIN"
    )
    return done.mission_id


async def mission(services: Services, mission_id: int) -> Mission:
    async with services.db.transaction() as session:
        found = await session.get(Mission, mission_id)
        assert found is not None
        return found


def cards_of(notifier: RecordingNotifier) -> dict[str, object]:
    return {channel: card for (channel, _), card in notifier.messages.items()}


async def test_posting_puts_a_card_in_each_trade_channel_and_the_missions_channel(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    done = await run(services, alice, submit_mission, form(trades[:3]), origin_channel_id="CORIGIN")
    assert done.created and done.published is not None
    assert sorted(done.published.posted) == ["C0", "C1", "C2", "CMISSIONS"]
    card = next(iter(notifier.messages.values()))
    assert "Boulangerie Dupain" not in str(card)  # the client's name is confidential
    assert next(a.id for a in card.actions) == f"missions:interest:{done.mission_id}"
    async with services.db.transaction() as session:
        kinds = set(await session.scalars(select(Job.kind).where(Job.state == "pending")))
    assert {WARN, EXPIRE} <= kinds


async def test_interest_counts_per_trade_on_every_card_and_tells_the_author(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:2])
    assert await run(services, bob, show_interest, mission_id, "Dispo dès lundi")
    assert not await run(services, bob, show_interest, mission_id)  # a second click makes none
    assert await run(services, carol, show_interest, mission_id)
    assert [d.user_id for d in notifier.dms] == ["U1", "U1"]
    assert "Bob" in notifier.dms[0].card.title
    for card in cards_of(notifier).values():
        assert card.footer  # every copy was edited with the same content
    with pytest.raises(UserError):
        await run(services, alice, show_interest, mission_id)  # one's own mission
    with pytest.raises(InvalidInput):
        await run(services, bob, show_interest, mission_id, "x" * 501)


async def test_cards_are_refreshed_while_another_process_writes(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """A mission's card, where it belongs and its posts are read in one read-only transaction: a
    writer holding SQLite's lock (a backup, a second process) does not hold the edits back."""
    if not services.db.is_sqlite:
        pytest.skip("SQLite's write lock")
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:2])
    await run(services, bob, show_interest, mission_id)
    holder = sqlite3.connect(str(services.db.engine.url.database), timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        community_id = alice.community_id
        result = await asyncio.wait_for(_publish.refresh_mission(services, community_id, mission_id), 2)
        republished = await asyncio.wait_for(_publish.publish_mission(services, community_id, mission_id), 2)
    finally:
        holder.rollback()
        holder.close()
    assert sorted(result.edited) == ["C0", "C1", "CMISSIONS"]
    assert sorted(republished.edited) == ["C0", "C1", "CMISSIONS"] and not republished.posted


async def test_republishing_reads_the_settings_without_writing_them(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """Where a card belongs is read in a read-only transaction: no default settings row is created there."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:2])
    async with services.db.transaction() as session:  # a community whose settings were never written
        await session.execute(
            delete(CommunitySettings).where(CommunitySettings.community_id == alice.community_id)
        )
    result = await _publish.publish_mission(services, alice.community_id, mission_id)
    assert sorted(result.edited) == ["C0", "C1"]
    assert result.removed == ["CMISSIONS"]  # no missions channel any more
    async with services.db.transaction(write=False) as session:
        assert await session.get(CommunitySettings, alice.community_id) is None


async def test_same_member_twice_at_once_makes_one_candidacy_twenty_make_twenty(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await asyncio.gather(*(run(services, bob, show_interest, mission_id) for _ in range(5)))
    others = [await make_caller(services, user=f"V{i}", name=f"M{i}") for i in range(20)]
    await asyncio.gather(*(run(services, c, show_interest, mission_id) for c in others))
    async with services.db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(Candidacy))
    assert count == 21


async def test_author_selects_and_confirms_selected_get_details_others_a_kind_note(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:2])
    await run(services, bob, show_interest, mission_id)
    await run(services, carol, show_interest, mission_id)
    with pytest.raises(Forbidden):
        await run(services, bob, candidates_of, mission_id, write=False)
    with pytest.raises(Forbidden):
        await run(services, bob, select_team, mission_id, [str(bob.member_id)])
    page = await run(services, alice, select_team, mission_id, [str(bob.member_id), "999999"])
    card = await run(services, alice, candidates_of, mission_id, page, write=False)
    assert (await mission(services, mission_id)).status == "forming"
    assert any(a.id == f"missions:confirm:{mission_id}" for a in card.actions)
    notifier.dms.clear()
    await run(services, alice, confirm_team, mission_id)
    assert (await mission(services, mission_id)).status == "staffed"
    by_user = {d.user_id: d.card for d in notifier.dms}
    assert "Boulangerie Dupain" in str(by_user["U2"])
    assert "Boulangerie Dupain" not in str(by_user["U3"])
    with pytest.raises(UserError):
        await run(services, alice, confirm_team, mission_id)  # staffed already: nothing twice


async def test_candidates_come_in_pages_each_with_its_select_keeping_the_others_choice(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """A Discord select holds 25 options: candidate 26 and later were unreachable, and a choice made
    on the only select deselected everyone else. Pages (of 8: their notes must fit the card too), each
    select changing its page only."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    people = [await make_caller(services, user=f"V{i}", name=f"M{i:02}") for i in range(30)]
    for person in people:
        await run(services, person, show_interest, mission_id)
    first = await run(services, alice, candidates_of, mission_id, write=False)
    [menu] = first.selects
    assert menu.id.startswith(f"missions:select:{mission_id}:0:") and len(menu.options) == 8
    assert f"missions:candidates:{mission_id}:1" in [a.id for a in first.actions]  # Next
    chose = [str(people[0].member_id), str(people[3].member_id)]
    await run(services, alice, select_team, mission_id, chose, 0)
    second = await run(services, alice, candidates_of, mission_id, 1, write=False)
    [menu] = second.selects
    assert menu.id.startswith(f"missions:select:{mission_id}:1:")
    assert [o.value for o in menu.options] == [str(p.member_id) for p in people[8:16]]
    assert f"missions:candidates:{mission_id}:0" in [a.id for a in second.actions]  # Previous
    # On page 2: candidate 11 chosen; a forged value from page 1 is ignored there; page 1's choice stays.
    page = await run(services, alice, select_team, mission_id,
                     [str(people[10].member_id), str(people[5].member_id)], 1)
    card = await run(services, alice, candidates_of, mission_id, page, write=False)
    async with services.db.transaction(write=False) as session:
        chosen = set(await session.scalars(select(Candidacy.member_id).where(Candidacy.selected)))
    assert chosen == {people[0].member_id, people[3].member_id, people[10].member_id}
    assert [o.value for o in card.selects[0].options if o.default] == [str(people[10].member_id)]


async def test_a_moderator_edits_a_mission_without_seeing_or_losing_its_confidential_client(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """The client's name is the author's and the final team's only: a moderator's edit form showed it
    (a hostile review); it now shows none, and the moderator's save keeps the author's."""
    from cogs.missions._publish import edit_mission

    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    moderator = await make_caller(services, user="MOD", name="Modé", moderator=True)
    start = await run(services, moderator, edit_mission, mission_id, write=False)
    assert start.form.client_name == ""
    edited = form(trades[:1], title="Site vitrine pour une boulangerie (urgent)", client_name="")
    await run(services, moderator, submit_mission, edited, mission_id=mission_id, origin_channel_id="C")
    stored = await mission(services, mission_id)
    assert stored.title.endswith("(urgent)") and stored.client_name == "Boulangerie Dupain"
    assert (await run(services, alice, edit_mission, mission_id, write=False)).form.client_name == (
        "Boulangerie Dupain")


async def test_a_moderator_helping_to_staff_cannot_put_themselves_on_the_team(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """A moderator may choose a team for any mission, but not put themselves on it: the team's DM
    carries the client's name, the author's and the final team's only (a hostile review: a moderator
    applied, selected themselves, confirmed and was DMed the client)."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    moderator = await make_caller(services, user="MOD", name="Modé", moderator=True)
    await run(services, moderator, show_interest, mission_id)
    await run(services, bob, show_interest, mission_id)
    with pytest.raises(UserError) as refused:
        await run(services, moderator, select_team, mission_id,
                  [str(moderator.member_id), str(bob.member_id)])
    assert refused.value.key == "missions.errors.not_self_select"
    async with services.db.transaction(write=False) as session:
        assert not list(await session.scalars(select(Candidacy.member_id).where(Candidacy.selected)))
    await run(services, moderator, select_team, mission_id, [str(bob.member_id)])  # others: theirs to do
    notifier.dms.clear()
    await run(services, moderator, confirm_team, mission_id)
    assert not any("Boulangerie Dupain" in str(dm.card) for dm in notifier.dms if dm.user_id == "MOD")
    assert any("Boulangerie Dupain" in str(dm.card) for dm in notifier.dms if dm.user_id == bob.user_id)


async def test_the_last_selected_member_withdrawing_reopens_the_mission(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:2])
    await run(services, bob, show_interest, mission_id)
    await run(services, carol, show_interest, mission_id)
    await run(services, alice, select_team, mission_id, [str(bob.member_id)])
    assert await run(services, bob, withdraw, mission_id)
    assert (await mission(services, mission_id)).status == "open"
    with pytest.raises(UserError) as refused:
        await run(services, alice, confirm_team, mission_id)  # no team left to confirm
    assert refused.value.key == "missions.errors.no_team"
    assert (await mission(services, mission_id)).status == "open"


async def test_close_only_by_author_or_moderator_and_cards_lose_their_buttons(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    with pytest.raises(Forbidden):
        await run(services, bob, close_mission, mission_id, "won")
    moderator = await make_caller(services, user="UMOD", name="Mod", moderator=True)
    await run(services, moderator, close_mission, mission_id, "cancelled")
    found = await mission(services, mission_id)
    assert (found.status, found.outcome) == ("closed", "cancelled")
    assert all(not card.actions for card in cards_of(notifier).values())
    with pytest.raises(UserError):
        await run(services, bob, withdraw, mission_id)


async def test_bad_input_is_refused_and_nothing_is_saved(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    cases = {
        "link": {"link": "javascript:alert(1)"},
        "answer_by": {"answer_by": "2000-01-01"},
        "title": {"title": "x" * 101},
        "budget": {"budget": "600-400 €/j"},
        "fee": {"fee": "45"},
    }
    for field, changes in cases.items():
        with pytest.raises(InvalidInput) as refused:
            await post(services, alice, trades[:1], **changes)
        assert field in refused.value.problems
    with pytest.raises(InvalidInput) as refused:
        await post(services, alice, trades[:6], title="")
    assert {"trades", "title"} <= set(refused.value.problems)
    with pytest.raises(InvalidInput):
        await post(services, alice, [987654])
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Mission)) == 0
    assert not notifier.posts


def test_budget_reading() -> None:
    assert parse_budget("3 000 €")[0].kind == "fixed"
    assert parse_budget("400-600 €/j")[0] == parse_budget("400 à 600 EUR par jour")[0]
    assert parse_budget("500 €/day")[0].kind == "daily"
    assert parse_budget("à discuter")[0].kind == "discuss"
    assert parse_budget("9" * 41)[1] == "budget_format"


async def test_weekly_limit_counts_a_mission_once_and_says_when(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).missions_per_week = 2
    await post(services, alice, trades[:5], title="Premier site")
    await post(services, alice, trades[:1], title="Application mobile", description="Autre chose")
    with pytest.raises(UserError) as refused:
        await post(services, alice, trades[:1], title="Troisième", description="Encore autre chose")
    assert refused.value.key == "missions.errors.weekly_limit"
    clock.advance(timedelta(days=7, minutes=1))
    await post(services, alice, trades[:1], title="Troisième", description="Encore autre chose")


async def test_repost_by_the_author_is_refused_by_another_member_only_warned(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    first = await post(services, alice, trades[:1])
    with pytest.raises(UserError) as refused:
        await post(services, alice, trades[:2], title="Site vitrine pour une boulangerie !")
    assert refused.value.key == "missions.errors.repost" and refused.value.params["id"] == first
    done = await run(services, bob, submit_mission, form(trades[:1]), origin_channel_id=None)
    assert done.similar == (first, "Site vitrine pour une boulangerie")


async def test_forged_ids_from_another_community_change_nothing(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    stranger = await make_caller(services, user="U9", guild="g2", name="Eve")
    for use_case, args in (
        (show_interest, ()),
        (withdraw, ()),
        (close_mission, ("won",)),
        (select_team, ([],)),
        (confirm_team, ()),
        (extend_mission, ()),
    ):
        with pytest.raises(NotFound):
            await run(services, stranger, use_case, mission_id, *args)
    assert (await mission(services, mission_id)).status == "open"


async def test_expiry_warning_and_expiry_each_run_once_even_after_a_restart(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], answer_by="")  # default: 14 days
    clock.advance(timedelta(days=12, hours=23))
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    warnings = [d for d in notifier.dms if f"missions:extend:{mission_id}" in str(d.card.actions)]
    assert len(warnings) == 1
    clock.advance(timedelta(days=2))
    services.scheduler.__init__(services.db, clock)  # a new process: nothing armed, the rows are the truth
    register_jobs(services)
    assert await services.scheduler.run_due() >= 1
    await services.scheduler.run_due()
    assert (await mission(services, mission_id)).status == "expired"
    expired = [d for d in notifier.dms if "expired" in d.card.title or "expiré" in d.card.title]
    assert len(expired) == 1


async def test_extend_replans_the_jobs(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    before = (await mission(services, mission_id)).answer_by
    await run(services, alice, extend_mission, mission_id)
    assert (await mission(services, mission_id)).answer_by == before + timedelta(days=7)
    async with services.db.transaction() as session:
        pending = list(await session.scalars(select(Job.dedupe_key).where(Job.state == "pending")))
    assert all(str(before + timedelta(days=7)) in key for key in pending if key.startswith("missions."))


async def _edit_answer_by(services: Services, caller: Caller, mission_id: int, trade_ids: list[int],
                          answer_by: str) -> None:
    await run(services, caller, submit_mission, form(trade_ids, answer_by=answer_by),
              origin_channel_id="CORIGIN", mission_id=mission_id)


async def _days_pass(services: Services, clock: FrozenClock, days: int) -> None:
    for _ in range(days):
        clock.advance(timedelta(days=1))
        await services.scheduler.run_due()


async def _warned_then_expired(services: Services, notifier: RecordingNotifier, mission_id: int) -> None:
    found = await mission(services, mission_id)
    assert (found.answer_by.isoformat(), found.status) == ("2026-12-15", "expired")
    warnings = [d for d in notifier.dms if f"missions:extend:{mission_id}" in str(d.card.actions)]
    assert len(warnings) == 1


async def test_an_answer_by_date_edited_away_and_back_still_warns_and_expires(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """15/12 -> 20/12 -> 15/12: the jobs of the first 15/12, cancelled by the first edit, keep their keys."""
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], answer_by="15/12/2026")
    await _edit_answer_by(services, alice, mission_id, trades[:1], "20/12/2026")
    await _edit_answer_by(services, alice, mission_id, trades[:1], "15/12/2026")
    await _days_pass(services, clock, 40)
    await _warned_then_expired(services, notifier, mission_id)


async def test_an_extension_edited_back_still_warns_and_expires(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """Extended from 15/12, then the author edits the date back to 15/12: the mission expires that night."""
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], answer_by="15/12/2026")
    await run(services, alice, extend_mission, mission_id)
    assert (await mission(services, mission_id)).answer_by.isoformat() == "2026-12-22"
    await _edit_answer_by(services, alice, mission_id, trades[:1], "15/12/2026")
    await _days_pass(services, clock, 40)
    await _warned_then_expired(services, notifier, mission_id)


async def test_listing_filters_by_scope_and_trade(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    first = await post(services, alice, trades[:1])
    await post(services, alice, trades[1:2], title="Logo", description="Identité")
    await run(services, bob, show_interest, first)
    mine = await run(services, bob, list_missions, 0, "candidate", 0, write=False)
    assert f"n°{first} " in mine.text and "Logo" not in mine.text
    by_trade = await run(services, bob, list_missions, 0, "all", trades[1], write=False)
    assert "Logo" in by_trade.text and "boulangerie" not in by_trade.text


async def test_privacy_export_and_delete(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    """The author's data deleted: the mission with a candidate stays (its cards too, author "a former
    member", client name cleared); the mission nobody else joined goes with its cards."""
    register_jobs(services)
    trades = await channels(services, alice)
    shared = await post(services, alice, trades[:1])
    alone = await post(services, alice, trades[1:2], title="Logo", description="Identité")
    await run(services, bob, show_interest, shared, "moi")
    async with services.db.transaction() as session:
        exported = await export_member(session, alice.community_id, bob.member_id)
        assert exported["candidacies"][0]["note"] == "moi"
        mine = await export_member(session, alice.community_id, alice.member_id)
        assert {m["title"] for m in mine["missions"]} == {"Site vitrine pour une boulangerie", "Logo"}
        assert mine["missions"][0]["client_name"] == "Boulangerie Dupain"
    shared_cards = {ref for ref, card in notifier.messages.items() if f"n°{shared}" in (card.footer or "")}
    alone_cards = {ref for ref, card in notifier.messages.items() if f"n°{alone}" in (card.footer or "")}
    assert len(shared_cards) == 2 and len(alone_cards) == 2

    await delete_member_data(services, alice, alice.member_id)
    await services.scheduler.run_due()

    async with services.db.transaction() as session:
        kept = await session.get(Mission, shared)
        assert kept is not None and kept.author_member_id is None and kept.client_name == ""
        assert await session.get(Mission, alone) is None
        assert not list(
            await session.scalars(select(Post).where(Post.object_id == alone, Post.feature == "missions"))
        )
        rows = list(
            await session.scalars(select(Post).where(Post.object_id == shared, Post.feature == "missions"))
        )
        assert {(p.channel_id, p.message_id) for p in rows} == shared_cards
        assert all(p.member_id is None for p in rows)
        assert await session.scalar(select(func.count()).select_from(Candidacy)) == 1
    # Kept cards are the same messages, edited: "a former member" shares it; the other mission's are gone.
    assert shared_cards <= set(notifier.messages) and not alone_cards & set(notifier.messages)
    former = services.catalog.t("fr", "missions.card.former_member")
    for ref in shared_cards:
        card = notifier.messages[ref]
        assert former in str(card.fields) and "Alice" not in str(card.fields)
        assert "Boulangerie Dupain" not in str(card)
    # A candidate's data deleted: their candidacy goes and every card counts without them.
    await delete_member_data(services, bob, bob.member_id)
    await services.scheduler.run_due()
    for ref in shared_cards:
        assert " 0" in str(notifier.messages[ref].fields[0].value)
    # The kept mission still works: someone else can be interested, no author to tell.
    assert await run(services, carol, show_interest, shared, "")


async def test_a_new_missions_card_built_in_its_save_is_the_card_read_back_after_the_commit(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        sector = (await sectors(session, alice.community_id))[0]
    typed = form(
        trades[:2],
        sector_id=str(sector.id),
        behalf=bob.user_id,
        work_mode="hybrid",
        city="Lyon",
        start_date="01/02/2027",
        answer_by="15/01/2027",
        link="https://example.org/brief",
        source="platform:Malt",
        fee="10",
        budget="400-600 €/j",
    )
    done = await run(services, alice, submit_mission, typed, origin_channel_id="CORIGIN")
    assert done.published is not None and sorted(done.published.posted) == ["C0", "C1", "CMISSIONS"]
    async with services.db.transaction(write=False) as session:
        view = await load_view(session, await session.get_one(Mission, done.mission_id))
    assert view.sector == sector.name and view.brought_by_name == "Bob" and view.author_name == "Alice"
    read_back = mission_card(services.catalog, "fr", view)
    posted = [card for (channel, _), card in notifier.messages.items() if channel in done.published.posted]
    assert len(posted) == 3 and all(card == read_back for card in posted)


async def test_the_save_trusts_the_check_of_the_same_form_only_while_its_trades_and_sector_exist(
    services: Services, notifier: RecordingNotifier, alice: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        sector = (await sectors(session, alice.community_id))[0]
    validated = []
    real = _publish.validate
    monkeypatch.setattr(_publish, "validate", lambda *a, **k: validated.append(1) or real(*a, **k))

    typed = form(trades[:2])
    checked = await run(services, alice, check_mission, typed, write=False)
    done = await run(services, alice, submit_mission, typed, origin_channel_id="C", checked=checked)
    assert done.created and len(validated) == 1  # validated once, by the check

    # Another form than the one checked is validated (and refused) as it is.
    other = form(trades[:1], title="Logo pour une librairie")
    checked = await run(services, alice, check_mission, other, write=False)
    other.title = ""
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, submit_mission, other, origin_channel_id="C", checked=checked)
    assert set(refused.value.problems) == {"title"}

    # The sector, then a trade, gone between the check and the save: refused as the form is now.
    typed = form(trades[2:4], title="Logo pour une librairie", sector_id=str(sector.id))
    checked = await run(services, alice, check_mission, typed, write=False)
    async with services.db.transaction() as session:
        await session.execute(delete(Sector).where(Sector.id == sector.id))
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, submit_mission, typed, origin_channel_id="C", checked=checked)
    assert set(refused.value.problems) == {"sector"}
    typed.sector_id = ""
    checked = await run(services, alice, check_mission, typed, write=False)
    async with services.db.transaction() as session:
        await session.execute(delete(Trade).where(Trade.id == trades[3]))
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, submit_mission, typed, origin_channel_id="C", checked=checked)
    assert set(refused.value.problems) == {"trades"}
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Mission)) == 1  # nothing half-saved


async def test_a_withdrawal_beside_the_confirmation_never_staffs_an_empty_team(
    services: Services, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob, the only one selected, clicks Withdraw while Alice's Confirm is between its count and its
    commit (PostgreSQL, READ COMMITTED): either the team is staffed with Bob and his withdrawal is
    refused, or he is out and the mission is not staffed. Never staffed with nobody, his withdrawal
    accepted and the confidential details DMed to him."""
    alice = await make_caller(services, name="Alice")
    bob = await make_caller(services, user="U2", name="Bob")
    mid = await post(services, alice, (await channels(services, alice))[:2])
    await run(services, bob, show_interest, mid)
    await run(services, alice, select_team, mid, [str(bob.member_id)])
    notifier.dms.clear()
    original, meanwhile = _publish.move, Meanwhile()

    async def then_bob_withdraws(session, community_id, mission_id, from_statuses, to, now, **values):
        moved = await original(session, community_id, mission_id, from_statuses, to, now, **values)
        if to == "staffed":
            await meanwhile.run(run(services, bob, withdraw, mid))
        return moved

    monkeypatch.setattr(_publish, "move", then_bob_withdraws)
    confirmed = await asyncio.gather(run(services, alice, confirm_team, mid), return_exceptions=True)
    [withdrawn] = await meanwhile.settle() or [None]
    async with services.db.transaction() as session:
        status = (await session.get(Mission, mid)).status
        team = list(await session.scalars(select(Candidacy.member_id).where(
            Candidacy.mission_id == mid, Candidacy.selected)))
    told = [d.user_id for d in notifier.dms if "Boulangerie Dupain" in str(d.card)]
    if status == "staffed":
        assert team == [bob.member_id] and told == ["U2"], (team, told, confirmed)
        assert isinstance(withdrawn, UserError) or withdrawn is None, withdrawn
    else:
        assert team == [] and told == [], (status, team, told)


@pytest.mark.parametrize("how", ["gone", "forbidden"])
async def test_a_mission_whose_channel_is_gone_is_posted_where_shared_and_the_moderators_told_once(
    services: Services, notifier: RecordingNotifier, how: str
) -> None:
    """The moderators set the missions channel, then deleted it (or took the bot's rights) while no
    trade has a channel: the card goes where the mission was shared, so members can answer, and the
    moderators' log says which channel to fix, once however many missions are shared."""
    alice = await make_caller(services, name="Alice")
    bob = await make_caller(services, user="U2", name="Bob")
    async with services.db.transaction() as session:
        settings = await get_settings(session, alice.community_id)
        settings.missions_channel_id, settings.modlog_channel_id = "C-MISSIONS", "C-MODLOG"
        trade_ids = [t.id for t in await session.scalars(select(Trade).where(
            Trade.community_id == alice.community_id))]
    getattr(notifier, how).add("C-MISSIONS")

    done = await run(services, alice, submit_mission, form(trade_ids[:2]), origin_channel_id="C-HERE")
    await run(services, bob, submit_mission, form(trade_ids[2:4], title="Une autre mission"),
              origin_channel_id="C-HERE")
    await services.scheduler.run_due()

    assert done.published is not None and done.published.posted == ["C-HERE"]
    assert len(notifier.in_channel("C-HERE")) == 2
    [notice] = notifier.in_channel("C-MODLOG")
    assert notice.text == services.t("fr", "missions.channel_gone.text", channel="C-MISSIONS")


async def test_a_card_shown_where_shared_is_edited_in_place_while_its_channel_stays_gone(
    services: Services, notifier: RecordingNotifier
) -> None:
    """Its missions channel gone, the card went where the mission was shared: the author's edit
    edits that card (not deleted and posted again at the bottom of the channel)."""
    alice = await make_caller(services, name="Alice")
    async with services.db.transaction() as session:
        (await get_settings(session, alice.community_id)).missions_channel_id = "C-MISSIONS"
        trade_ids = [t.id for t in await session.scalars(select(Trade).where(
            Trade.community_id == alice.community_id))]
    notifier.gone.add("C-MISSIONS")
    done = await run(services, alice, submit_mission, form(trade_ids[:2]), origin_channel_id="C-HERE")
    [first] = [key for key in notifier.messages if key[0] == "C-HERE"]

    await run(services, alice, submit_mission, form(trade_ids[:2], title="Titre corrigé"),
              origin_channel_id="C-HERE", mission_id=done.mission_id)
    await services.scheduler.run_due()

    assert [d for d in notifier.deleted if d.channel_id == "C-HERE"] == []
    assert [key for key in notifier.messages if key[0] == "C-HERE"] == [first]
    assert "Titre corrigé" in str(notifier.messages[first])


async def test_a_card_edit_the_platform_failed_is_redone_by_the_cards_job(
    services: Services, alice: Caller, bob: Caller, clock: FrozenClock
) -> None:
    """Bob told he applied while the card counted nobody: the missions cards job (declared with
    `posting.retry_edits`) edits the cards again a few minutes later, posting nowhere new."""
    from bot.cards import Card
    from bot.notifier import PostRef
    from bot.posting import RETRY_AFTER

    class EditsFail(RecordingNotifier):
        down = False

        async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
            if self.down:
                raise RuntimeError("503 Service Unavailable")
            return await super().edit(community_external_id, ref, card)

    flaky = EditsFail()
    services.notifiers["discord"] = flaky
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    cards = set(flaky.messages)
    flaky.down = True
    await run(services, bob, show_interest, mission_id)
    flaky.calls.clear()
    flaky.down = False
    clock.advance(RETRY_AFTER + timedelta(seconds=1))
    await services.scheduler.run_due()
    assert sorted(flaky.calls) == [("edit", "C0"), ("edit", "CMISSIONS")]  # edited again, nothing posted
    assert set(flaky.messages) == cards


async def test_a_mission_submitted_twice_at_once_is_posted_once_and_the_second_told_it_is_a_repost(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """A double submit (or two devices): both saves read no such mission yet; on PostgreSQL both were
    saved and every channel got two cards. The author's allowance row is held before the repost check."""
    trades = await channels(services, alice)
    outcomes = await asyncio.gather(
        *(run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="CORIGIN")
          for _ in range(2)),
        return_exceptions=True,
    )
    await asyncio.sleep(0.3)
    async with services.db.transaction() as session:
        saved = list(await session.scalars(select(Mission.id)))
    assert len(saved) == 1, outcomes
    assert sorted(channel for channel, _ in notifier.messages) == ["C0", "CMISSIONS"]
    refused = [o for o in outcomes if isinstance(o, UserError)]
    assert [(r.key, r.params["id"]) for r in refused] == [("missions.errors.repost", saved[0])], outcomes
