"""/missions filters: reading what was typed, resolving it, every filter, ranking, paging by token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.context import Caller
from bot.errors import InvalidInput, NotFound
from bot.services import Services
from bot.usecase import run
from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from cogs.missions._publish import find_missions, show_interest, submit_mission, turn_missions_page
from cogs.missions._search import ListFilters, Query, parse_list_args
from cogs.missions.models import MissionSearch
from storage.models import Sector, Trade
from tests.fakes.notifier import RecordingNotifier
from tests.missions.conftest import channels, form


async def post(services: Services, caller: Caller, trade_ids: list[int], **changes: str) -> int:
    done = await run(services, caller, submit_mission, form(trade_ids, **changes), origin_channel_id="C")
    return done.mission_id


async def found(services: Services, caller: Caller, **typed: str) -> str:
    card = await run(services, caller, find_missions, ListFilters(**typed), write=False)
    return card.text


def test_slack_arguments_are_read_in_both_languages() -> None:
    assert parse_list_args("") == ListFilters()
    assert parse_list_args("Design graphique") == ListFilters(trade="Design graphique")
    assert parse_list_args("miennes") == ListFilters(scope="mine")
    assert parse_list_args("candidat Développement ville: Lyon  compétence:SEO tjm:450 €/j") == ListFilters(
        scope="candidate", trade="Développement", city="Lyon", skill="SEO", rate="450 €/j"
    )
    assert parse_list_args("city:Paris mode:remote start:2027-01-15 status:open sector:Santé") == ListFilters(
        city="Paris", mode="remote", start="2027-01-15", status="open", sector="Santé"
    )
    with pytest.raises(InvalidInput) as refused:
        parse_list_args("couleur:bleu")
    assert refused.value.problems["args"][0] == "missions.errors.unknown_filter"
    with pytest.raises(InvalidInput):
        parse_list_args("x" * 401)


async def test_each_bad_filter_is_named_and_nothing_is_searched(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    await channels(services, alice)
    with pytest.raises(InvalidInput) as refused:
        await found(
            services,
            alice,
            trade="Plomberie",
            sector="Spatial",
            mode="sous l'eau",
            rate="beaucoup",
            start="2020-01-01",
            status="perdue",
        )
    problems = {name: key for name, (key, _) in refused.value.problems.items()}
    assert problems == {
        "trade": "missions.errors.unknown_trade_filter",
        "sector": "missions.errors.unknown_sector_filter",
        "mode": "missions.errors.unknown_mode_filter",
        "rate": "missions.errors.bad_rate_filter",
        "start": "missions.errors.start_filter_past",
        "status": "missions.errors.unknown_status_filter",
    }
    with pytest.raises(InvalidInput) as closed:
        await found(services, alice, status="closed")
    assert closed.value.problems["status"][0] == "missions.errors.status_not_live"
    with pytest.raises(InvalidInput) as long:
        await found(services, alice, city="x" * 101)
    assert "city" in long.value.problems
    assert await found(services, alice, scope="mine", status="closed") == services.t(
        "fr", "missions.list.filters", filters="mes missions · " + services.t("fr", "missions.status.closed")
    ) + "\n" + services.t("fr", "missions.list.none")


async def test_every_filter_finds_only_its_missions(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        sector = await session.scalar(
            select(Sector).where(Sector.community_id == alice.community_id).limit(1)
        )
    assert sector is not None
    seo = await post(services, alice, trades[:1], title="Audit SEO", skills="SEO", budget="500-700 €/j")
    lyon = await post(
        services,
        alice,
        trades[1:2],
        title="Atelier à Lyon",
        description="Sur place",
        skills="Figma",
        work_mode="onsite",
        city="Lyon",
        budget="3000 €",
        sector_id=str(sector.id),
        start_date="2026-12-20",
    )
    hybrid = await post(
        services,
        bob,
        trades[:2],
        title="Refonte hybride",
        description="Deux jours sur place",
        skills="WordPress",
        work_mode="hybrid",
        city="Saint-Étienne",
        budget="300-400 €/j",
        start_date="2027-02-01",
    )

    def titles(text: str) -> set[str]:
        return {t for t in ("Audit SEO", "Atelier à Lyon", "Refonte hybride") if t in text}

    assert titles(await found(services, bob)) == {"Audit SEO", "Atelier à Lyon", "Refonte hybride"}
    assert titles(await found(services, bob, skill="référencement")) == {"Audit SEO"}  # a synonym of SEO
    assert titles(await found(services, bob, city="lyon")) == {"Atelier à Lyon"}
    assert titles(await found(services, bob, city="saint etienne")) == {"Refonte hybride"}
    assert titles(await found(services, bob, mode="à distance")) == {"Audit SEO", "Refonte hybride"}
    assert titles(await found(services, bob, mode="hybride")) == {"Refonte hybride"}
    assert titles(await found(services, bob, sector=sector.name.upper())) == {"Atelier à Lyon"}
    assert titles(await found(services, bob, rate="450")) == {"Audit SEO"}
    assert titles(await found(services, bob, rate="350 €/j")) == {"Audit SEO", "Refonte hybride"}
    assert titles(await found(services, bob, start="2027-01-15")) == {"Audit SEO", "Refonte hybride"}
    assert titles(await found(services, alice, scope="mine")) == {"Audit SEO", "Atelier à Lyon"}
    await run(services, alice, show_interest, hybrid)
    assert titles(await found(services, alice, scope="candidate")) == {"Refonte hybride"}
    # Two filters together, and what the card says was searched.
    both = await found(services, bob, mode="remote", rate="450")
    assert titles(both) == {"Audit SEO"}
    assert services.t("fr", "missions.list.filters", filters="À distance · TJM ≥ 450") in both
    assert (seo, lyon) != (0, 0)


async def test_missions_needing_my_trade_come_first(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    trades = await channels(services, alice)
    mine = await post(services, alice, trades[1:2], title="Logo", description="Identité")
    newer = await post(services, alice, trades[:1], title="Rédaction", description="Articles")
    async with services.db.transaction() as session:
        await save_profile(session, bob, IntroForm(trade_ids=[str(trades[1])]), services.clock)
    text = await found(services, bob)
    assert text.index(f"n°{mine} ") < text.index(f"n°{newer} ")
    other = await found(services, alice)  # no profile: newest first
    assert other.index(f"n°{newer} ") < other.index(f"n°{mine} ")


async def test_pages_carry_a_stored_search_that_survives_and_is_scoped(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        from storage.settings import get_settings

        (await get_settings(session, alice.community_id)).missions_per_week = 50
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima".split()  # noqa: SIM905
    for word in words:
        await post(services, alice, trades[:1], title=f"Projet {word * 3}", description="")
    async with services.db.transaction() as session:
        name = await session.scalar(select(Trade.name).where(Trade.id == trades[0]))
    assert name is not None
    first = await run(services, alice, find_missions, ListFilters(trade=name), write=False)
    [next_button] = first.actions
    token = next_button.id.split(":")[3]
    assert next_button.id.startswith(f"missions:page:1:{token}:a0-")
    assert first.text.count("n°") == 10
    async with services.db.transaction() as session:
        [stored] = list(await session.scalars(select(MissionSearch)))
        assert Query.from_json(stored.filters).trade_id == trades[0]
    second = await turn(services, alice, next_button.id)
    assert second.text.count("n°") == 2
    assert [a.id.rsplit(":", 1)[0] for a in second.actions] == [f"missions:page:0:{token}"]
    with pytest.raises(NotFound):
        await run(services, alice, turn_missions_page, "0" * 16, 1, write=False)
    # The same search again reuses the stored row.
    await run(services, alice, find_missions, ListFilters(trade=name.upper()), write=False)
    async with services.db.transaction() as session:
        assert len(list(await session.scalars(select(MissionSearch)))) == 1


def test_a_stored_search_is_trusted_for_nothing() -> None:
    assert Query.from_json("x") == Query()
    assert Query.from_json({"scope": "everything"}) == Query()
    assert Query.from_json({"trade_id": "1; drop"}).trade_id == 0
    query = Query(scope="mine", trade_id=3, city_key="lyon", shown=(("city", "Lyon"),))
    assert Query.from_json(query.to_json()) == query


async def test_ranked_pages_continue_across_the_missions_needing_my_trade(
    services: Services, notifier: RecordingNotifier, alice: Caller, bob: Caller
) -> None:
    """3 missions need Bob's trade, 9 do not: page 1 = those 3 then the 7 newest others, page 2 = the rest."""
    from datetime import date

    from cogs.missions.models import Mission, MissionTrade

    trades = await channels(services, alice)
    async with services.db.transaction() as session:
        await save_profile(session, bob, IntroForm(trade_ids=[str(trades[1])]), services.clock)
        ids: dict[int, int] = {}
        for i in range(12):
            mission = Mission(
                community_id=alice.community_id,
                author_member_id=alice.member_id,
                title=f"M{i}",
                title_key=f"m{i}",
                answer_by=date(2026, 12, 20),
            )
            session.add(mission)
            await session.flush()
            trade = trades[1] if i < 3 else trades[0]  # the oldest three need Bob's trade
            session.add(MissionTrade(community_id=alice.community_id, mission_id=mission.id, trade_id=trade))
            ids[i] = mission.id
    first = await run(services, bob, find_missions, ListFilters(), write=False)
    order = [int(line.split()[0][2:]) for line in first.text.splitlines() if line.startswith("n°")]
    assert order == [ids[2], ids[1], ids[0], *(ids[i] for i in range(11, 4, -1))]
    token = first.actions[0].id.split(":")[3]
    second = await turn(services, bob, first.actions[0].id)
    order = [int(line.split()[0][2:]) for line in second.text.splitlines() if line.startswith("n°")]
    assert order == [ids[4], ids[3]]
    assert [a.id.rsplit(":", 1)[0] for a in second.actions] == [f"missions:page:0:{token}"]
    # A button of an older version (no cursor) still counts its page from the start.
    legacy = await run(services, bob, turn_missions_page, token, 1, write=False)
    assert listed_ids(legacy.text) == [ids[4], ids[3]]


def listed_ids(text: str) -> list[int]:
    return [int(line.split()[0][2:]) for line in text.splitlines() if line.startswith("n°")]


async def turn(services: Services, caller: Caller, button_id: str):  # type: ignore[no-untyped-def]
    """A Previous / Next click, read as the bindings read its id."""
    import re

    from cogs.missions import _ids

    match = re.fullmatch(_ids.PAGE, button_id)
    assert match is not None, button_id
    return await run(services, caller, turn_missions_page, match["token"], int(match["page"]),
                     match["cursor"], write=False)


async def test_next_shows_the_missions_after_the_ones_read_even_when_the_list_changed(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """/missions shows the 10 newest of 11 open missions; meanwhile the newest is closed. Next counted
    10 missions into the list as it is now: the 11th, never shown, was skipped (page 2 empty); a new
    mission posted instead repeated one of page 1. Next continues after the last one shown, Previous
    before the first."""
    from cogs.missions._publish import close_mission
    from tests.fakes.callers import make_caller

    trades = await channels(services, alice)
    authors, ids = [], []
    for i in range(11):
        author = await make_caller(services, user=f"A{i}", name=f"Author {i}")
        ids.append(await post(services, author, trades[:1], title=f"Mission numéro {i} " + "x" * i,
                              description=f"d{i}"))
        authors.append(author)
    reader = await make_caller(services, user="reader", name="Reader")
    first = await run(services, reader, find_missions, ListFilters(), write=False)
    assert listed_ids(first.text) == ids[:0:-1]
    [next_id] = [a.id for a in first.actions]
    await run(services, authors[-1], close_mission, ids[-1], "won")  # the newest: gone from the list
    second = await turn(services, reader, next_id)
    assert listed_ids(second.text) == [ids[0]]
    assert second.footer == services.t("fr", "missions.list.page", page=2)

    newer = await post(services, alice, trades[:1], title="Une toute nouvelle mission", description="n")
    again = await turn(services, reader, next_id)
    assert listed_ids(again.text) == [ids[0]]  # not a mission of page 1 again
    [previous_id] = [a.id for a in again.actions]
    back = await turn(services, reader, previous_id)
    assert listed_ids(back.text) == [newer, *ids[-2:0:-1]]
    assert back.footer == services.t("fr", "missions.list.page", page=1)
