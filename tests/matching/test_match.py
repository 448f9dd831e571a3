"""/match as a use case on a real database: resolving, proposing, storing, rotating (Invite: test_invite)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.context import Caller
from bot.errors import InvalidInput
from bot.services import Services
from bot.usecase import run
from cogs.intros.models import Profile
from cogs.matching._cards import answer_card
from cogs.matching._match import Answer, find_team
from cogs.matching._request import MatchInput, parse_args, parse_rate
from cogs.matching._store import delete_member, export_member, recent_proposals
from cogs.matching.models import Proposal, ProposedMember
from storage.models import Trade
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller

PACK = "Site vitrine"  # Rédaction web, Design graphique, SEO / SEA, Développement


async def member(services: Services, user: str, name: str, guild: str = "g1", **profile: Any) -> Caller:
    caller = await make_caller(services, user, name=name, guild=guild)
    async with services.db.transaction() as session:
        await add_profile(session, caller, **profile)
    return caller


async def website_team(services: Services) -> dict[str, Caller]:
    return {
        "writer": await member(services, "W1", "Wanda", trades=("Rédaction web",), skills=("WordPress",)),
        "designer": await member(services, "D1", "Dora", trades=("Design graphique",), skills=("Figma",)),
        "seo": await member(services, "S1", "Sam", trades=("SEO / SEA",), skills=("SEO",)),
        "dev": await member(services, "V1", "Vic", trades=("Développement",), skills=("WordPress",)),
    }


async def match(services: Services, caller: Caller, **typed: Any) -> Answer:
    return await run(services, caller, find_team, MatchInput(**typed), write=False)


def names(answer: Answer) -> list[str | None]:
    return [answer.people[s.chosen.member_id][1] if s.chosen else None for s in answer.team.slots]


async def test_default_pack_team_and_card(services: Services, alice: Caller) -> None:
    await website_team(services)
    answer = await match(services, alice, pack="site vitrine", skills="wordpress")
    assert answer.resolved.pack_name == PACK
    assert names(answer) == ["Wanda", "Dora", "Sam", "Vic"]
    card = answer_card(services.catalog, "fr", answer)
    assert card.actions[0].id == f"matching:invite:{answer.token}"
    assert "Compétences : wordpress" in card.fields[0].value
    async with services.db.transaction() as session:
        stored = await session.scalar(select(Proposal).where(Proposal.token == answer.token))
        assert stored is not None and stored.requester_id == alice.member_id
        assert await session.scalar(select(func.count()).select_from(ProposedMember)) == 4


async def test_bad_input_is_refused_with_every_problem(services: Services, alice: Caller) -> None:
    with pytest.raises(InvalidInput) as error:
        await match(services, alice, pack="Plomberie", available_by="2020-01-01", max_rate="beaucoup")
    assert set(error.value.problems) == {"pack", "available_by", "max_rate"}
    with pytest.raises(InvalidInput) as error:
        await match(services, alice, pack=PACK, trades="Photographie, Traduction, Conseil")
    assert error.value.problems["trades"][0] == "matching.errors.too_many_slots"
    with pytest.raises(InvalidInput):
        await match(services, alice)
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 0


async def test_nobody_available_says_why(services: Services, alice: Caller) -> None:
    await member(services, "S1", "Sam", trades=("SEO / SEA",), availability="busy")
    await member(services, "S2", "Sue", trades=("SEO / SEA",), availability="from_date",
                 available_from=date(2027, 1, 12))
    answer = await match(services, alice, trades="SEO", available_by="2026-12-01")
    slot = answer.team.slots[0]
    assert slot.chosen is None
    card = answer_card(services.catalog, "en", answer)
    assert not card.actions  # nobody to invite
    text = card.fields[0].value
    assert "Sam: busy" in text and "Sue: available from January 12, 2027" in text


async def test_a_rate_in_another_currency_is_neither_above_nor_within_a_budget_in_euros(
    services: Services, alice: Caller
) -> None:
    """A /match budget is in euros: 45,000 JPY a day is not "above" 500 (it is about 280 €), nor
    within it; it counts as unknown, as an unset rate, in the database's ranking as in the answer."""
    kenji = await member(services, "K1", "Kenji", trades=("SEO / SEA",))
    async with services.db.transaction() as session:
        await session.execute(update(Profile).where(Profile.member_id == kenji.member_id)
                              .values(rate_min=45000, currency="JPY"))
    answer = await match(services, alice, trades="SEO", max_rate="500")
    chosen = answer.team.slots[0].chosen
    assert chosen is not None and chosen.member_id == kenji.member_id
    assert not chosen.rate and not chosen.blockers
    assert "rate above the budget" not in answer_card(services.catalog, "en", answer).fields[0].value


async def test_requester_and_opted_out_members_are_not_proposed(services: Services) -> None:
    me = await member(services, "V0", "Me", trades=("Développement",), skills=("Python",))
    await member(services, "V1", "Vic", trades=("Développement",))
    answer = await match(services, me, trades="Développement", skills="python")
    assert names(answer) == ["Vic"]
    answer = await match(services, me, trades="Développement, SEO", include_me=True)
    assert answer.team.slots[0].requester
    with pytest.raises(InvalidInput):
        await match(services, me, trades="SEO", include_me=True)


async def test_rotation_spreads_ten_equal_designers(services: Services, alice: Caller) -> None:
    """Twenty members ask: each designer is proposed to two of them. A member asking again and again
    counts once for each designer they were shown: nobody's count runs away."""
    people = [await member(services, f"D{i}", f"Designer {i}", trades=("Design graphique",))
              for i in range(10)]
    requesters = [alice, *[await make_caller(services, f"R{i}", name=f"Requester {i}") for i in range(19)]]
    counts = {p.display_name: 0 for p in people}
    for requester in requesters:
        (name,) = names(await match(services, requester, trades="Design graphique"))
        assert name is not None
        counts[name] += 1
    assert sorted(counts.values()) == [2] * 10, counts
    for _ in range(30):
        await match(services, alice, trades="Design graphique")
    async with services.db.transaction() as session:
        recent = await recent_proposals(session, alice.community_id, datetime(2000, 1, 1, tzinfo=UTC))
    assert set(recent.values()) <= {2, 3}, recent


async def test_same_request_same_data_same_team(services: Services, alice: Caller) -> None:
    for i in range(6):
        await member(services, f"D{i}", f"Designer {i}", trades=("Design graphique",))
    first = await match(services, alice, trades="Design graphique")
    async with services.db.transaction() as session:  # forget the rotation: same data again
        await session.execute(ProposedMember.__table__.delete())
    assert names(await match(services, alice, trades="Design graphique")) == names(first)


async def test_privacy_export_and_delete(services: Services, alice: Caller) -> None:
    team = await website_team(services)
    await match(services, alice, pack=PACK)
    async with services.db.transaction() as session:
        mine = await export_member(session, alice.community_id, alice.member_id)
        theirs = await export_member(session, alice.community_id, team["seo"].member_id)
        assert len(mine["requests"]) == 1 and not mine["proposed"]
        assert len(theirs["proposed"]) == 1 and "requester" not in str(theirs)
        await delete_member(session, alice.community_id, team["seo"].member_id)
        assert await session.scalar(select(func.count()).select_from(ProposedMember)) == 3
        await delete_member(session, alice.community_id, alice.member_id)
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 0
        assert await session.scalar(select(func.count()).select_from(ProposedMember)) == 0


def test_slack_arguments() -> None:
    typed = parse_args("pack:Site vitrine compétences:wordpress, seo ville:Lyon tjm:450 € distance moi")
    assert typed == MatchInput(pack="Site vitrine", skills="wordpress, seo", city="Lyon", max_rate="450 €",
                               remote=True, include_me=True)
    assert parse_args("Site vitrine").pack == "Site vitrine"
    assert parse_args("metiers:SEO, Développement dispo:15/12").trades == "SEO, Développement"
    with pytest.raises(InvalidInput):
        parse_args("couleur:bleu")


def test_slack_note_takes_the_rest_of_the_text() -> None:
    typed = parse_args("offre:Site vitrine moi mot:Client : boulangerie, https://exemple.fr ville:Lyon")
    assert typed.pack == "Site vitrine" and typed.include_me and not typed.city
    assert typed.note == "Client : boulangerie, https://exemple.fr ville:Lyon"
    assert parse_args("trades:SEO note:").note == ""


def test_slack_keys_with_a_space_before_the_colon() -> None:
    """French typography puts a space (often a no-break or narrow one) before the colon, as the directory
    reads it: "ville : Lyon" was no key, so the whole text was taken for the pack's name."""
    assert parse_args("pack : Site vitrine ville : Lyon") == MatchInput(pack="Site vitrine", city="Lyon")
    typed = parse_args("offre\u00a0: Site vitrine tjm\u202f: 450 mot : Client : boulangerie")
    assert typed == MatchInput(pack="Site vitrine", max_rate="450", note="Client : boulangerie"), typed


async def test_the_note_goes_with_the_request_not_into_the_seed(services: Services, alice: Caller) -> None:
    await website_team(services)
    plain = await match(services, alice, pack=PACK)
    noted = await match(services, alice, pack=PACK, note="  Un site pour une boulangerie  ")
    assert noted.resolved.note == "Un site pour une boulangerie"
    assert noted.resolved.seed(1, 1) == plain.resolved.seed(1, 1)
    with pytest.raises(InvalidInput) as error:
        await match(services, alice, pack=PACK, note="x" * 501)
    assert error.value.problems["note"][0] == "errors.text_too_long"
    with pytest.raises(InvalidInput) as error:
        await match(services, alice, pack=PACK, note="bad\x00note")
    assert error.value.problems["note"][0] == "errors.control_characters"


def test_slack_multi_word_flags_after_a_value_are_flags_not_part_of_the_value() -> None:
    """"avec moi", "à distance", "include me" after a value were read word by word: "avec" stayed
    glued to the value (`tjm:450 avec moi` refused as the rate "450 avec")."""
    typed = parse_args("offre:Site vitrine tjm:450 avec moi")
    assert typed.include_me and typed.max_rate == "450", typed
    typed = parse_args("offre:Site vitrine ville:Lyon à distance")
    assert typed.remote and typed.city == "Lyon", typed
    typed = parse_args("pack:Showcase website city:Lyon include me")
    assert typed.include_me and typed.city == "Lyon", typed
    typed = parse_args("Site vitrine à distance")  # the pack first, then the flag
    assert typed.remote and typed.pack == "Site vitrine", typed
    typed = parse_args("inclure moi Site vitrine ville:Saint-Malo remote avec moi")
    assert typed == MatchInput(pack="Site vitrine", city="Saint-Malo", remote=True, include_me=True), typed


@pytest.mark.parametrize("typed", ["5²", "²", "٤٥٠", "4.5"])
async def test_a_rate_with_other_than_ascii_digits_is_refused_not_a_crash(
        services: Services, alice: Caller, typed: str) -> None:
    """`/match max_rate:5²`: "²".isdigit() is True and int("²") raised ValueError ("unexpected error")."""
    with pytest.raises(InvalidInput) as refused:
        await run(services, alice, find_team, MatchInput(trades="Développement", max_rate=typed), write=False)
    assert refused.value.problems["max_rate"][0] == "matching.errors.rate"


@pytest.mark.parametrize(("typed", "rate"), [
    ("500 euros", 500), ("500 euros/jour", 500), ("500 Euro", 500), ("500 EUR", 500), ("500 €", 500),
    ("500€/j", 500), ("1 000 € / day", 1000), ("", None),
])
def test_a_budget_written_in_euros_is_read(typed: str, rate: int | None) -> None:
    """"eur" was removed from "euros", leaving "500os": refused as an invalid rate."""
    assert parse_rate(typed) == rate


async def test_repeating_match_does_not_let_a_member_bury_a_competitor(
        services: Services, alice: Caller) -> None:
    """Rotation counted every proposal: Eve running the same /match ten times (inviting nobody) gave Bob,
    the better fit, ten "recent proposals" (-20), and everyone else's /match proposed Eve instead."""
    async def dev(user: str, name: str, rate: int | None) -> Caller:
        caller = await make_caller(services, user, name=name)
        async with services.db.transaction() as session:
            profile = await add_profile(session, caller, trades=("Développement",))
            profile.rate_min = profile.rate_max = rate
        return caller

    bob = await dev("BOB", "Bob", 400)
    eve = await dev("EVE", "Eve", None)
    request = MatchInput(trades="Développement", max_rate="500")
    before = await run(services, alice, find_team, request, write=False)
    assert before.team.slots[0].chosen is not None
    assert before.team.slots[0].chosen.member_id == bob.member_id  # within the budget: +10
    for _ in range(10):
        await run(services, eve, find_team, request, write=False)
    after = await run(services, alice, find_team, MatchInput(trades="Développement", max_rate="500",
                                                             note="un autre jour"), write=False)
    chosen = after.team.slots[0].chosen
    assert chosen is not None and chosen.member_id == bob.member_id, "Eve buried Bob"
    assert chosen.recent_proposals == 2  # Alice and Eve, each once
    async with services.db.transaction() as session:
        counts = await recent_proposals(session, alice.community_id, datetime(2000, 1, 1, tzinfo=UTC))
    assert counts == {bob.member_id: 2}


async def test_the_export_lists_the_proposals_a_member_is_an_alternative_in(
        services: Services, alice: Caller) -> None:
    """A slot's alternatives are stored as `reserve` invitations naming the member, deleted with their
    data, but the export left them out: Val, shown as Vic's alternative, read nothing about it."""
    await member(services, "V1", "Vic", trades=("Développement",), skills=("Python", "Django"))
    val = await member(services, "V2", "Val", trades=("Développement",), skills=("Python",))
    answer = await match(services, alice, trades="Développement", skills="python, django",
                         note="Pour la boulangerie d'Alice")
    assert [f.member_id for f in answer.team.slots[0].alternatives] == [val.member_id]
    async with services.db.transaction() as session:
        exported = await export_member(session, alice.community_id, val.member_id)
        dev = await session.scalar(select(Trade.id).where(Trade.community_id == alice.community_id,
                                                         Trade.name == "Développement"))
    [reserve] = exported["invitations"]
    assert reserve == {"status": "reserve", "trade_id": dev, "trade": "Développement",
                       "proposed_at": reserve["proposed_at"], "invited_at": None, "answered_at": None}
    assert reserve["proposed_at"] is not None
    assert not exported["requests"] and not exported["proposed"]
    assert "Alice" not in str(exported) and "boulangerie" not in str(exported)  # not who asked, nor why
