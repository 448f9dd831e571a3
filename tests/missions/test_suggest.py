"""Suggest a team: matching's proposal over the mission's trades and skills, the why, inviting once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.context import Caller
from bot.errors import Forbidden, NotFound, UserError
from bot.services import Services
from bot.usecase import run
from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.missions._publish import show_interest, submit_mission
from cogs.missions._suggest import decline_invitation, invite_suggested, suggest_team
from cogs.missions.models import MissionInvitation
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def profile(services: Services, caller: Caller, trade_ids: list[int], **values: object) -> None:
    async with services.db.transaction() as session:
        form = IntroForm(trade_ids=[str(t) for t in trade_ids], **values)  # type: ignore[arg-type]
        await save_profile(session, caller, form, services.clock)


@pytest.fixture
async def dave(services: Services) -> Caller:
    return await make_caller(services, user="U4", name="Dave")


async def test_the_author_gets_one_member_per_trade_with_the_why_and_invites_them_once(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller, dave: Caller
) -> None:
    trades = await channels(services, alice)
    await profile(services, bob, trades[:1], skills="SEO, WordPress")
    await profile(services, carol, trades[:1], skills="Figma")
    await profile(services, dave, trades[1:2], skills="Illustrator")
    await profile(services, alice, trades[:2], skills="SEO")  # the author: never proposed
    done = await run(services, alice, submit_mission, form(trades[:2]), origin_channel_id="C")
    mission_id = done.mission_id
    t = services.catalog.t

    card = await run(services, alice, suggest_team, mission_id, write=False)
    by_trade = {f.name: f.value for f in card.fields}
    assert len(by_trade) == 2
    first, second = (by_trade[name] for name in by_trade)
    assert first.startswith("Bob — ")
    assert t("fr", "missions.suggest.why.skills", value="WordPress, SEO") in first
    assert t("fr", "missions.suggest.alternatives", names="Carol") in first
    assert second.startswith("Dave — ") and "Alice" not in str(card)
    assert [a.id for a in card.actions] == [f"missions:invite:{mission_id}"]

    with pytest.raises(Forbidden):
        await run(services, bob, suggest_team, mission_id, write=False)
    with pytest.raises(Forbidden):
        await run(services, bob, invite_suggested, mission_id)

    said = await run(services, alice, invite_suggested, mission_id)
    assert said == t("fr", "missions.suggest.invited", names="Bob, Dave", count=2)
    assert sorted(dm.user_id for dm in notifier.dms) == [bob.user_id, dave.user_id]
    invitation = next(dm.card for dm in notifier.dms if dm.user_id == bob.user_id)
    assert [a.id for a in invitation.actions] == [
        f"missions:interest:{mission_id}",
        f"missions:decline:{mission_id}",
    ]
    assert "Boulangerie Dupain" not in str(invitation)  # the confidential client stays with the team
    again = await run(services, alice, invite_suggested, mission_id)
    assert again == t("fr", "missions.suggest.already_invited")
    assert len(notifier.dms) == 2
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(MissionInvitation)) == 2

    # Accepting is I'm interested: Bob becomes a candidate and is no longer proposed; Carol is.
    assert await run(services, bob, show_interest, mission_id, "")
    after = await run(services, alice, suggest_team, mission_id, write=False)
    assert next(f.value for f in after.fields).startswith("Carol — ")


async def test_nobody_to_suggest_says_so_and_invites_nobody(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    await profile(services, bob, trades[:1], opt_matching=False)  # not to be suggested
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="C")
    card = await run(services, alice, suggest_team, done.mission_id, write=False)
    assert card.text == services.catalog.t("fr", "missions.suggest.empty")
    assert card.actions == ()
    with pytest.raises(UserError) as refused:
        await run(services, alice, invite_suggested, done.mission_id)
    assert refused.value.key == "missions.suggest.nobody"
    assert notifier.dms == []


async def test_an_invited_member_declines_once_the_author_is_told_and_the_next_one_is_suggested(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller, carol: Caller, dave: Caller
) -> None:
    trades = await channels(services, alice)
    await profile(services, bob, trades[:1], skills="SEO, WordPress")
    await profile(services, carol, trades[:1], skills="Figma")
    done = await run(services, alice, submit_mission, form(trades[:1]), origin_channel_id="C")
    mission_id = done.mission_id
    t = services.catalog.t
    with pytest.raises(NotFound):  # not invited: nothing to decline
        await run(services, dave, decline_invitation, mission_id)
    await run(services, alice, invite_suggested, mission_id)
    assert [dm.user_id for dm in notifier.dms] == [bob.user_id]

    assert await run(services, bob, decline_invitation, mission_id) == t("fr", "missions.suggest.declined")
    assert await run(services, bob, decline_invitation, mission_id) == t("fr", "missions.suggest.declined")
    told = [dm.card for dm in notifier.dms if dm.user_id == alice.user_id]
    assert [c.title for c in told] == [t("fr", "missions.dm.declined", name="Bob", title=form([]).title)]
    after = await run(services, alice, suggest_team, mission_id, write=False)
    assert after.fields[0].value.startswith("Carol")
    await run(services, alice, invite_suggested, mission_id)
    assert [dm.user_id for dm in notifier.dms if dm.user_id != alice.user_id] == [bob.user_id, carol.user_id]
