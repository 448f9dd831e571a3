"""Invite this team, Accept / Decline, the next alternative, expiry, the private space, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.context import Caller
from bot.errors import Forbidden, NotFound, UserError
from bot.rendering.slack import render_message
from bot.services import Services
from bot.usecase import run
from cogs.matching._invite import EXPIRY, Invited, answer_invitation, invite_team
from cogs.matching._match import Answer, find_team
from cogs.matching._request import MatchInput
from cogs.matching._store import delete_member, export_member
from cogs.matching.models import Invitation, Proposal
from cogs.privacy._privacy import delete_member_data
from storage.models import Post
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller
from tests.fakes.notifier import FlakyNotifier, RecordingNotifier

PACK = "Site vitrine"  # Rédaction web, Design graphique, SEO / SEA, Développement


async def member(services: Services, user: str, name: str, **profile: Any) -> Caller:
    caller = await make_caller(services, user, name=name)
    async with services.db.transaction() as session:
        await add_profile(session, caller, **profile)
    return caller


async def team(services: Services) -> dict[str, Caller]:
    """A website team, and two more developers ranked after Vic (fewer matching skills)."""
    return {
        "writer": await member(services, "W1", "Wanda", trades=("Rédaction web",)),
        "designer": await member(services, "D1", "Dora", trades=("Design graphique",)),
        "seo": await member(services, "S1", "Sam", trades=("SEO / SEA",)),
        "dev": await member(services, "V1", "Vic", trades=("Développement",), skills=("Python", "Django")),
        "dev2": await member(services, "V2", "Val", trades=("Développement",), skills=("Python",)),
        "dev3": await member(services, "V3", "Vera", trades=("Développement",)),
    }


async def propose(services: Services, caller: Caller, **typed: Any) -> Answer:
    return await run(services, caller, find_team, MatchInput(**typed), write=False)


async def invite(services: Services, caller: Caller, answer: Answer) -> Invited:
    return await run(services, caller, invite_team, answer.token, "c-general")


def invitations_to(notifier: RecordingNotifier, user: str) -> list[int]:
    """The invitation ids of the Accept buttons DMed to `user`."""
    return [int(a.id.split(":")[2]) for dm in notifier.dms if dm.user_id == user
            for a in dm.card.actions if a.id.endswith(":accept")]


def news(notifier: RecordingNotifier, user: str) -> list[str]:
    return [dm.card.text for dm in notifier.dms if dm.user_id == user and not dm.card.actions]


async def answer(services: Services, caller: Caller, notifier: RecordingNotifier, accept: bool = True) -> str:
    [invitation] = invitations_to(notifier, caller.user_id)[-1:]
    return await run(services, caller, answer_invitation, invitation, accept)


async def test_invite_dms_each_member_and_the_team_opens_once_all_accepted(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    people = await team(services)
    proposal = await propose(services, alice, pack=PACK, skills="python, django",
                             note="Un site pour une boulangerie")
    invited = await invite(services, alice, proposal)

    assert invited.names == ("Wanda", "Dora", "Sam", "Vic")
    assert [dm.user_id for dm in notifier.dms] == ["W1", "D1", "S1", "V1"]
    card = notifier.dms[3].card
    assert card.title == "Alice vous invite dans une équipe : Site vitrine"
    assert "vous propose pour Développement" in card.text and "python, django" in card.text.lower()
    assert "Le mot de Alice : Un site pour une boulangerie" in card.text
    assert [a.label for a in card.actions] == ["Accepter", "Décliner"]
    assert not notifier.threads  # nobody answered yet
    with pytest.raises(UserError) as again:
        await invite(services, alice, proposal)
    assert again.value.key == "matching.errors.already_invited"

    for who in ("writer", "designer", "seo"):
        text = await answer(services, people[who], notifier)
        assert text.startswith("Vous avez accepté")
    assert not notifier.threads
    assert "Sam a accepté (SEO / SEA)." in news(notifier, alice.user_id)[-1]
    await answer(services, people["dev"], notifier)

    (space,) = notifier.threads.values()
    assert space.private and space.members == [alice.user_id, "W1", "D1", "S1", "V1"]
    posted = notifier.in_channel(space.ref.thread_id)[0]
    assert posted.title == "Équipe : Site vitrine" and "Un site pour une boulangerie" in posted.text
    assert notifier.dms[-1].user_id == alice.user_id
    assert notifier.dms[-1].card.title.startswith("Tout le monde a répondu")

    sent = len(notifier.dms)  # a second click changes nothing and says so
    assert await answer(services, people["dev"], notifier) == "Vous avez déjà accepté cette invitation."
    assert len(notifier.dms) == sent and len(notifier.threads) == 1


async def test_the_invitation_s_notification_text_gives_its_last_day_in_the_community_s_calendar(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """Slack's lock screen shows the message's plain text: "le jeudi 3 décembre 2026", not a UTC date."""
    await team(services)
    await invite(services, alice, await propose(services, alice, pack=PACK))
    text = render_message(notifier.dms[0].card)["text"]
    assert "2026-12-03" not in text and "3 décembre 2026" in text, text


async def test_a_decline_invites_the_next_alternative_then_the_space_has_who_accepted(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    people = await team(services)
    proposal = await propose(services, alice, trades="SEO, Développement", skills="python, django")
    await invite(services, alice, proposal)
    assert [dm.user_id for dm in notifier.dms] == ["S1", "V1"]

    assert (await answer(services, people["dev"], notifier, accept=False)).startswith("Vous avez décliné")
    assert notifier.dms[-2].user_id == "V2" and notifier.dms[-2].card.actions  # Val, next in rank
    told = news(notifier, alice.user_id)[-1]
    assert "Vic a décliné (Développement)." in told and "Val, l’alternative suivante, est invité·e." in told
    assert await answer(services, people["dev"], notifier) == "Vous avez déjà décliné cette invitation."

    await answer(services, people["dev2"], notifier, accept=False)  # Vera next, then nobody
    await answer(services, people["dev3"], notifier, accept=False)
    assert "Plus d’alternative pour Développement." in news(notifier, alice.user_id)[-1]
    assert not notifier.threads  # Sam has not answered yet
    await answer(services, people["seo"], notifier)

    (space,) = notifier.threads.values()
    assert space.members == [alice.user_id, "S1"]


async def test_nobody_accepting_opens_nothing(services: Services, alice: Caller,
                                              notifier: RecordingNotifier) -> None:
    sam = await member(services, "S1", "Sam", trades=("SEO / SEA",))
    await invite(services, alice, await propose(services, alice, trades="SEO"))
    await answer(services, sam, notifier, accept=False)
    assert "Personne n’a accepté" in news(notifier, alice.user_id)[-1]
    assert not notifier.threads


async def test_only_the_invitee_within_seven_days(services: Services, alice: Caller,
                                                  notifier: RecordingNotifier) -> None:
    people = await team(services)
    await invite(services, alice, await propose(services, alice, trades="SEO, Développement"))
    [sams] = invitations_to(notifier, "S1")
    with pytest.raises(Forbidden):
        await run(services, people["dev"], answer_invitation, sams, True)
    with pytest.raises(Forbidden):
        await run(services, alice, answer_invitation, sams, True)
    with pytest.raises(NotFound):
        await run(services, people["seo"], answer_invitation, 987_654, True)
    async with services.db.transaction() as session:  # an alternative in reserve was never invited
        reserve = await session.scalar(select(Invitation.id).where(Invitation.status == "reserve"))
    with pytest.raises(NotFound):
        await run(services, people["dev2"], answer_invitation, reserve, True)

    services.clock.advance(EXPIRY + timedelta(seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(UserError) as late:
        await run(services, people["seo"], answer_invitation, sams, True)
    assert late.value.key == "matching.errors.invitation_expired"
    async with services.db.transaction() as session:
        assert await session.scalar(select(Invitation.status).where(Invitation.id == sams)) == "pending"


async def test_expiry_job_invites_the_next_alternative(services: Services, alice: Caller,
                                                       notifier: RecordingNotifier) -> None:
    await team(services)
    await invite(services, alice, await propose(services, alice, trades="Développement", skills="python"))
    assert [dm.user_id for dm in notifier.dms] == ["V1"]
    services.clock.advance(EXPIRY)  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    assert notifier.dms[-2].user_id == "V2" and notifier.dms[-2].card.actions
    assert "Vic n’a pas répondu en 7 jours (Développement)." in news(notifier, alice.user_id)[-1]
    await services.scheduler.run_due()  # once
    assert len(invitations_to(notifier, "V2")) == 1


async def test_closed_dms_count_as_a_decline(services: Services, alice: Caller,
                                             notifier: RecordingNotifier) -> None:
    await team(services)
    notifier.closed_dms.add("V1")
    invited = await invite(services, alice, await propose(services, alice, trades="Développement",
                                                          skills="python"))
    assert invited.outcome.value is not None and invited.outcome.value.unreachable == ["Vic"]
    assert len(invitations_to(notifier, "V2")) == 1
    assert "Vic n’a pas pu être joint·e" in news(notifier, alice.user_id)[-1]


async def test_an_invitation_dm_refused_by_a_5xx_is_sent_later_and_still_pending(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """Before the outbox, the 503 raised out of the invitation: Vic was pending but never asked."""
    flaky = FlakyNotifier()
    services.notifiers["discord"] = flaky
    await team(services)
    flaky.failing_dms.add("V1")
    invited = await invite(services, alice, await propose(services, alice, trades="Développement",
                                                          skills="python"))
    assert invited.outcome.value is not None and invited.outcome.value.unreachable == []
    assert invitations_to(flaky, "V1") == [] and invitations_to(flaky, "V2") == []
    flaky.failing_dms.clear()
    for _ in range(3):
        services.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await services.scheduler.run_due()
    assert len(invitations_to(flaky, "V1")) == 1 and invitations_to(flaky, "V2") == []


async def test_a_space_failing_with_a_5xx_is_given_back_and_retried_by_invite(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """Before: the 503 raised with the space claimed for good, so "Invite this team" never opened it."""
    sam = await member(services, "S1", "Sam", trades=("SEO / SEA",))
    proposal = await propose(services, alice, trades="SEO")
    await invite(services, alice, proposal)
    notifier.failing.add("c-general")
    await answer(services, sam, notifier)
    assert not notifier.threads
    assert notifier.dms[-1].card.title.startswith("Collectif n’a pas pu ouvrir")
    notifier.failing.clear()
    retried = await invite(services, alice, proposal)
    assert retried.space_retry and retried.outcome.value is not None and retried.outcome.value.space
    (space,) = notifier.threads.values()
    assert space.members == [alice.user_id, "S1"]


async def test_a_refused_space_is_retried_by_invite(services: Services, alice: Caller,
                                                    notifier: RecordingNotifier) -> None:
    sam = await member(services, "S1", "Sam", trades=("SEO / SEA",))
    proposal = await propose(services, alice, trades="SEO")
    await invite(services, alice, proposal)
    notifier.forbidden.add("c-general")
    await answer(services, sam, notifier)
    assert not notifier.threads
    assert notifier.dms[-1].card.title.startswith("Collectif n’a pas pu ouvrir")
    notifier.forbidden.clear()
    retried = await invite(services, alice, proposal)
    assert retried.space_retry and retried.outcome.value is not None and retried.outcome.value.space
    (space,) = notifier.threads.values()
    assert space.members == [alice.user_id, "S1"]
    with pytest.raises(UserError):
        await invite(services, alice, proposal)


async def test_invite_refused_to_others(services: Services, alice: Caller,
                                        notifier: RecordingNotifier) -> None:
    await team(services)
    proposal = await propose(services, alice, pack=PACK)
    bob = await make_caller(services, "U2", name="Bob")
    with pytest.raises(Forbidden):
        await invite(services, bob, proposal)
    with pytest.raises(NotFound):
        await run(services, alice, invite_team, "0" * 16, "c-general")
    assert not notifier.dms


async def test_privacy_of_invitations(services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    people = await team(services)
    await invite(services, alice, await propose(services, alice, trades="Développement", skills="python"))
    await answer(services, people["dev"], notifier, accept=False)
    async with services.db.transaction() as session:
        cid = alice.community_id
        vic = await export_member(session, cid, people["dev"].member_id)
        assert [i["status"] for i in vic["invitations"]] == ["declined"]
        assert "Alice" not in str(vic)
        await delete_member(session, cid, people["dev"].member_id)
        assert await session.scalar(select(func.count()).select_from(Invitation)
                                    .where(Invitation.member_id == people["dev"].member_id)) == 0
        await delete_member(session, cid, alice.member_id)
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 0


async def test_a_pending_invitee_deleting_their_data_does_not_strand_the_team(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """Sam accepted; Vic, still to answer, deletes his data: his invitation (and its expiry) goes with
    it. The team is settled again at once: no alternative left for his slot, so the space opens for
    Alice and Sam, and Alice is told, without Vic's name. (Before: nothing ever happened again.)"""
    sam = await member(services, "S1", "Sam", trades=("SEO / SEA",))
    vic = await member(services, "V1", "Vic", trades=("Développement",))
    await invite(services, alice, await propose(services, alice, trades="SEO, Développement"))
    await answer(services, sam, notifier)
    assert not notifier.threads  # Vic still pending
    told = len(news(notifier, alice.user_id))

    async with services.db.transaction() as session:
        await delete_member(session, alice.community_id, vic.member_id)
    # Privacy jobs are queued at the real time (a deletion has no clock at hand).
    services.clock.set(datetime.now(UTC) + timedelta(minutes=1))  # type: ignore[attr-defined]
    await services.scheduler.run_due()

    [space] = notifier.threads.values()
    assert sorted(space.members) == sorted([alice.user_id, "S1"])
    latest = news(notifier, alice.user_id)[told:]
    withdrawn = services.t("fr", "matching.answers.withdrawn", trade="Développement")
    assert any(withdrawn in text for text in latest)
    assert not any("Vic" in text for text in latest)


async def test_a_deleted_requesters_invitation_expiry_does_not_expire_the_next_teams_invitation(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """Alice invites Vic, then deletes her data: her proposal and invitations go. Five days later Bob
    invites Vic too, and SQLite gives his invitation her freed id. Before: her expiry job stayed
    pending and fired two days later, expiring Bob's invitation ("Vic did not answer in 7 days") and
    inviting Val; Bob's own expiry, its key taken by hers, was never planned."""
    await team(services)
    bob = await make_caller(services, "B1", name="Bob")
    await invite(services, alice, await propose(services, alice, trades="Développement", skills="python"))
    [hers] = invitations_to(notifier, "V1")
    await delete_member_data(services, alice, alice.member_id)
    services.clock.advance(timedelta(days=5))  # type: ignore[attr-defined]
    await invite(services, bob, await propose(services, bob, trades="Développement", skills="python"))
    [his] = invitations_to(notifier, "V1")[1:]
    if services.db.engine.dialect.name == "sqlite":
        assert his == hers  # the case at stake (a PostgreSQL sequence never gives an id twice)

    services.clock.advance(timedelta(days=2, minutes=1))  # type: ignore[attr-defined]
    await services.scheduler.run_due()  # when Alice's invitation would have expired
    assert (invitations_to(notifier, "V2"), news(notifier, bob.user_id)) == ([], [])
    services.clock.advance(timedelta(days=5))  # type: ignore[attr-defined]
    await services.scheduler.run_due()  # Bob's invitation's own seven days
    assert len(invitations_to(notifier, "V2")) == 1
    assert "Vic n’a pas répondu en 7 jours (Développement)." in news(notifier, bob.user_id)[-1]


async def test_an_expiry_planned_for_another_invitation_with_the_same_id_changes_nothing(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """The job names the invitation it was planned for by its id and when it was sent."""
    from storage.models import Job

    await team(services)
    await invite(services, alice, await propose(services, alice, trades="Développement", skills="python"))
    async with services.db.transaction() as session:
        job = await session.scalar(select(Job).where(Job.kind == "matching.expire"))
        assert job is not None
        job.payload = {**job.payload, "invited_at": (services.clock.now() - timedelta(days=3)).isoformat()}
    services.clock.advance(EXPIRY)  # type: ignore[attr-defined]
    await services.scheduler.run_due()
    assert invitations_to(notifier, "V2") == [] and news(notifier, alice.user_id) == []
    async with services.db.transaction() as session:
        sent = (await session.scalars(select(Invitation.status).where(Invitation.status != "reserve"))).all()
    assert sent == ["pending"]


async def test_a_kept_invitation_whose_retry_finds_dms_closed_invites_the_next_alternative(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """carry_out counts a kept DM as 'invited'. When the outbox's retry then finds Vic's DMs closed,
    deliver() only logs: Vic is never marked unreachable, Val (next in rank) is not invited and the
    requester waits the full 7-day EXPIRY (a closed DM at the first try is an immediate decline)."""
    flaky = FlakyNotifier()
    services.notifiers["discord"] = flaky
    await team(services)
    flaky.failing_dms.add("V1")
    await invite(services, alice, await propose(services, alice, trades="Développement", skills="python"))
    flaky.failing_dms.clear()
    flaky.closed_dms.add("V1")  # Vic closed his DMs meanwhile
    for _ in range(12):
        services.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
        await services.scheduler.run_due()
    async with services.db.transaction(write=False) as session:
        statuses = (await session.execute(select(Invitation.id, Invitation.status))).all()
    assert len(invitations_to(flaky, "V2")) == 1, f"Val not invited; invitations: {statuses}"


async def _whole_team_in_its_space(services: Services, alice: Caller, notifier: RecordingNotifier
                                   ) -> tuple[dict[str, Caller], str]:
    """Alice's website team all accepted: its private space got the card with each member's profile
    (trades, skills, city, rate, portfolio link). The team, and the space's thread id."""
    people = {
        "writer": await member(services, "W1", "Wanda", trades=("Rédaction web",)),
        "designer": await member(services, "D1", "Dora", trades=("Design graphique",)),
        "seo": await member(services, "S1", "Sam", trades=("SEO / SEA",)),
        "dev": await member(services, "V1", "Vic", trades=("Développement",), skills=("Python",),
                            city="Trifouillis-les-Oies", links=("https://vic.example",)),
    }
    await invite(services, alice, await propose(services, alice, pack=PACK))
    for who in people.values():
        await answer(services, who, notifier)
    (space,) = notifier.threads.values()
    assert any("vic.example" in str(card) for card in notifier.in_channel(space.ref.thread_id))
    return people, space.ref.thread_id


async def _privacy_jobs(services: Services) -> None:
    """The jobs a privacy hook queued: due at once on the wall clock (it has no other at hand)."""
    now = max(services.clock.now(), datetime.now(UTC))
    services.clock.set(now + timedelta(minutes=1))  # type: ignore[attr-defined]
    await services.scheduler.run_due()


async def test_a_deleted_members_profile_does_not_stay_in_the_teams_private_space(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """The card in the team's space was not recorded: Vic's /privacy delete left his city and portfolio
    link on it for the others. It is recorded as the team's now, and redrawn without him."""
    people, thread = await _whole_team_in_its_space(services, alice, notifier)

    await delete_member_data(services, people["dev"], people["dev"].member_id)
    await _privacy_jobs(services)

    [card] = notifier.in_channel(thread)
    assert "vic.example" not in str(card) and "Trifouillis" not in str(card) and "Vic" not in str(card)
    assert [f.name for f in card.fields] == ["Wanda", "Dora", "Sam"]
    async with services.db.transaction() as session:
        [post] = list(await session.scalars(select(Post).where(Post.feature == "matching.space")))
    assert (post.channel_id, post.member_id) == (thread, None)  # still there for the next deletion


async def test_a_deleted_requesters_team_card_leaves_the_private_space(
        services: Services, alice: Caller, notifier: RecordingNotifier) -> None:
    """The request was Alice's: once she deletes her data, the card presenting it goes."""
    _, thread = await _whole_team_in_its_space(services, alice, notifier)

    await delete_member_data(services, alice, alice.member_id)
    await _privacy_jobs(services)

    assert notifier.in_channel(thread) == []
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Post)
                                    .where(Post.feature == "matching.space")) == 0
