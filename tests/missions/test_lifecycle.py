"""A mission's life off the happy path: data deleted, late edits, reposts, confirming, unreachable members."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import InvalidInput, UserError
from bot.services import Services
from bot.usecase import run
from cogs.missions._publish import (
    close_mission,
    confirm_team,
    edit_mission,
    register_jobs,
    select_team,
    show_interest,
    submit_mission,
)
from cogs.missions._suggest import decline_invitation, invite_suggested
from cogs.missions.models import Candidacy, Mission, MissionInvitation
from cogs.privacy._privacy import delete_member_data
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def post(services: Services, caller: Caller, trade_ids: list[int], **changes: str) -> int:
    typed = form(trade_ids, **changes)
    done = await run(services, caller, submit_mission, typed, origin_channel_id="CORIGIN")
    return done.mission_id


async def status_of(services: Services, mission_id: int) -> str:
    async with services.db.transaction(write=False) as session:
        return (await session.get_one(Mission, mission_id)).status


def told(notifier: RecordingNotifier, user_id: str) -> list[str]:
    return [f"{d.card.title}\n{d.card.text}" for d in notifier.dms if d.user_id == user_id]


async def test_the_last_selected_member_deleting_their_data_reopens_the_mission(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    """README: "A team whose last selected member withdraws goes back to open". Deleting one's data
    removes the candidacy like Withdraw: the mission went back to open too (before: "Team forming" with
    nobody selected, and Confirm team answered "no team")."""
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await run(services, bob, show_interest, mission_id)
    await run(services, carol, show_interest, mission_id)
    await run(services, alice, select_team, mission_id, [str(bob.member_id)])
    assert await status_of(services, mission_id) == "forming"

    await delete_member_data(services, bob, bob.member_id)
    await services.scheduler.run_due()

    assert await status_of(services, mission_id) == "open"
    open_text = services.t("fr", "missions.status.open")
    assert all(open_text in (card.footer or "") for card in notifier.messages.values()
               if f"n°{mission_id}" in (card.footer or ""))


async def test_the_author_can_fix_a_typo_once_the_start_date_has_passed(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """Starting on 1 December, answers until the 10th: on the 3rd the author fixes the title. The form
    comes back with the stored start date, now past: kept as it is (before: "the start date is in the
    past" until the author invented another). A start date moved into the past is still refused."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1], start_date="2026-12-01", answer_by="2026-12-10")
    clock.advance(timedelta(days=7))  # 3 December
    start = await run(services, alice, edit_mission, mission_id, write=False)
    start.form.title = "Site vitrine pour une boulangerie bio"
    await run(services, alice, submit_mission, start.form, mission_id=mission_id, origin_channel_id="C")
    async with services.db.transaction(write=False) as session:
        assert (await session.get_one(Mission, mission_id)).title.endswith("bio")

    start.form.start_date = "2026-12-02"
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, submit_mission, start.form, mission_id=mission_id, origin_channel_id="C")
    assert set(refused.value.problems) == {"start_date"}


async def test_an_expired_mission_can_be_shared_again_as_its_dm_says(
    services: Services, notifier: RecordingNotifier, alice: Caller, clock: FrozenClock
) -> None:
    """The expiry DM says "Share it again if it is still open": sharing it again within 7 days was
    refused as a repost ("Edit it instead"), and an expired mission cannot be edited. A closed one is
    not a repost either; an open one still is."""
    register_jobs(services)
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        from storage.settings import get_settings

        (await get_settings(session, alice.community_id)).missions_per_week = 10
    mission_id = await post(services, alice, trades[:1], answer_by="2026-11-28")
    clock.advance(timedelta(days=3))
    await services.scheduler.run_due()
    assert await status_of(services, mission_id) == "expired"
    [expired_dm] = [d for d in notifier.dms if "expir" in d.card.title]
    assert "Republiez-la" in expired_dm.card.text

    again = await post(services, alice, trades[:1], answer_by="2026-12-20")
    await run(services, alice, close_mission, again, "cancelled")
    third = await post(services, alice, trades[:1], answer_by="2026-12-20")
    with pytest.raises(UserError) as refused:
        await post(services, alice, trades[:1], answer_by="2026-12-21")
    assert refused.value.key == "missions.errors.repost" and refused.value.params["id"] == third


async def test_confirming_an_already_staffed_team_says_so_not_select_someone_first(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """Confirm team clicked again (a second device, the old candidates message) answered "Select at
    least one collaborator first", though the team was staffed; on a closed mission too."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await run(services, bob, show_interest, mission_id)
    await run(services, alice, select_team, mission_id, [str(bob.member_id)])
    await run(services, alice, confirm_team, mission_id)
    with pytest.raises(UserError) as refused:
        await run(services, alice, confirm_team, mission_id)
    assert refused.value.key == "missions.errors.already_confirmed"
    await run(services, alice, close_mission, mission_id, "won")
    with pytest.raises(UserError) as refused:
        await run(services, alice, confirm_team, mission_id)
    assert refused.value.key == "missions.errors.not_live"


async def test_the_author_learns_when_a_team_member_could_not_be_given_the_details(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    """Bob's DMs are closed: the details never reach him, and Alice was told "2 members told" — she
    waited for his call. She is now told by DM, naming him."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await run(services, bob, show_interest, mission_id)
    await run(services, carol, show_interest, mission_id)
    await run(services, alice, select_team, mission_id, [str(bob.member_id), str(carol.member_id)])
    notifier.closed_dms.add(bob.user_id)
    notifier.dms.clear()
    await run(services, alice, confirm_team, mission_id)
    assert not [d for d in notifier.dms if d.user_id == bob.user_id]
    [note] = told(notifier, alice.user_id)
    assert "Bob" in note and "Carol" not in note


async def test_a_team_member_whose_kept_dm_finally_fails_is_named_to_the_author(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """The platform failed when the details were sent (kept in the outbox), and Bob had closed his DMs
    by the retry: the author is told then, by the outbox's undeliverable follow-up."""
    register_jobs(services)
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await run(services, bob, show_interest, mission_id)
    await run(services, alice, select_team, mission_id, [str(bob.member_id)])
    notifier.dms.clear()
    real_dm = notifier.dm

    async def failing(community: str, user_id: str, card, attachment=None):  # type: ignore[no-untyped-def]
        if user_id == bob.user_id:
            raise RuntimeError("503 Service Unavailable")
        return await real_dm(community, user_id, card, attachment)

    notifier.dm = failing  # type: ignore[method-assign]
    await run(services, alice, confirm_team, mission_id)
    assert told(notifier, alice.user_id) == []
    notifier.dm = real_dm  # type: ignore[method-assign]
    notifier.closed_dms.add(bob.user_id)
    services.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    await services.scheduler.run_due()
    [note] = told(notifier, alice.user_id)
    assert "Bob" in note


async def test_an_invited_member_who_cannot_be_reached_is_named_and_someone_else_suggested(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    """Invite them: Bob's DMs are closed, the invitation never reaches him; Alice was told "sent to Bob"
    and the next suggestion kept Bob "already invited". She is told, and Carol is suggested next."""
    from cogs.intros._profile import save_profile
    from cogs.intros._validation import IntroForm
    from cogs.missions._suggest import suggest_team

    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        await save_profile(session, bob, IntroForm(trade_ids=[str(trades[0])], skills="SEO, WordPress"),
                           services.clock)
        await save_profile(session, carol, IntroForm(trade_ids=[str(trades[0])], skills="Figma"),
                           services.clock)
    mission_id = await post(services, alice, trades[:1])
    notifier.closed_dms.add(bob.user_id)
    await run(services, alice, invite_suggested, mission_id)
    [note] = told(notifier, alice.user_id)
    assert "Bob" in note
    after = await run(services, alice, suggest_team, mission_id, write=False)
    assert after.fields[0].value.startswith("Carol")


async def test_a_candidate_who_left_is_marked_and_not_sent_the_confidential_details(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller
) -> None:
    """Bob applied, then left the server. The candidates list did not say so; Alice selected Bob and
    Carol and confirmed: Bob, no longer a member, was DMed the client's name. He is marked as gone in
    the list, gets nothing, and Alice is told."""
    from cogs.missions._publish import candidates_of

    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    await run(services, bob, show_interest, mission_id)
    await run(services, carol, show_interest, mission_id)
    notifier.left.add(bob.user_id)
    listing = await run(services, alice, candidates_of, mission_id, write=False)
    gone = services.t("fr", "missions.candidates.departed")
    [bob_line] = [line for line in listing.text.splitlines() if line.startswith("• Bob")]
    [carol_line] = [line for line in listing.text.splitlines() if line.startswith("• Carol")]
    assert gone in bob_line and gone not in carol_line
    await run(services, alice, select_team, mission_id, [str(bob.member_id), str(carol.member_id)])
    notifier.dms.clear()
    await run(services, alice, confirm_team, mission_id)
    details = [d.user_id for d in notifier.dms if "Boulangerie Dupain" in str(d.card)]
    assert details == [carol.user_id]
    [note] = told(notifier, alice.user_id)
    assert "Bob" in note


async def test_not_for_me_after_applying_withdraws_the_candidacy_too(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """Invited, Bob clicked I'm interested in the DM, then Not for me under it: Alice was DMed "Bob
    passes" while Bob stayed her candidate (and could be sent the details). Not for me now withdraws
    him too, and says so."""
    trades = await channels(services, alice)
    mission_id = await post(services, alice, trades[:1])
    async with services.db.transaction() as session:
        session.add(MissionInvitation(community_id=alice.community_id, mission_id=mission_id,
                                      member_id=bob.member_id, trade_id=trades[0],
                                      invited_at=services.clock.now()))
    await run(services, bob, show_interest, mission_id, "avec plaisir")
    notifier.dms.clear()
    said = await run(services, bob, decline_invitation, mission_id)
    assert said == services.t("fr", "missions.suggest.declined_and_withdrawn")
    async with services.db.transaction(write=False) as session:
        still = await session.scalar(select(Candidacy.id).where(Candidacy.member_id == bob.member_id))
    assert still is None
    assert [n for n in told(notifier, alice.user_id) if "Bob" in n]
