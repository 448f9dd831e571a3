from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from bot.errors import InvalidInput, NotFound
from cogs.directory._filters import Filters, Query, parse_args, parse_available, parse_work_mode
from cogs.directory._search import search_members, search_page
from cogs.directory.models import DirectoryQuery
from storage.models import Trade
from tests.directory.factory import T0, add_profile, trade_id
from tests.fakes.callers import caller_for

TODAY = date(2026, 11, 26)


def names(result) -> list[str]:
    return [h.display_name for h in result.hits]


@pytest.fixture
def db(any_db):
    """Every test here once on SQLite and once on PostgreSQL (the same SQL must run on both)."""
    return any_db


async def test_filters_trade_skill_city_mode_and_listing(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        alice = await caller_for(s, "a", name="Alice")
        await add_profile(s, alice, trades=("Développement",), skills=("WordPress", "SEO"), city="Lyon",
                          work_mode="hybrid")
        bob = await caller_for(s, "b", name="Bob")
        await add_profile(s, bob, trades=("Développement",), skills=("Référencement",), city="Paris")
        carol = await caller_for(s, "c", name="Carol")
        await add_profile(s, carol, trades=("Design graphique",), skills=("seo",), city="lyon",
                          work_mode="onsite")
        hidden = await caller_for(s, "h", name="Hidden")
        await add_profile(s, hidden, trades=("Développement",), skills=("seo",), city="Lyon", listed=False)
        other = await caller_for(s, "x", guild="g2", name="Elsewhere")
        await add_profile(s, other, trades=("Développement",), skills=("seo",), city="Lyon")

    async with db.transaction() as s:
        # "référencement" is the French synonym of seo: everyone holding seo matches.
        result = await search_members(s, me, Filters(skills=("référencement",)), today=TODAY)
        assert sorted(names(result)) == ["Alice", "Bob", "Carol"]
        result = await search_members(s, me, Filters(trade="développement", city="LYON"), today=TODAY)
        assert names(result) == ["Alice"]
        dev = await trade_id(s, me.community_id, "Développement")
        result = await search_members(s, me, Filters(trade=str(dev)), today=TODAY)
        assert sorted(names(result)) == ["Alice", "Bob"]
        # remote finds hybrid workers too; onsite finds onsite and hybrid
        result = await search_members(s, me, Filters(work_mode="télétravail"), today=TODAY)
        assert sorted(names(result)) == ["Alice", "Bob"]
        result = await search_members(s, me, Filters(work_mode="sur site"), today=TODAY)
        assert sorted(names(result)) == ["Alice", "Carol"]
        result = await search_members(s, me, Filters(sector="Mode"), today=TODAY)
        assert result.total == 0
        assert result.hits == ()


async def test_unknown_values_are_reported_together(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        with pytest.raises(InvalidInput) as error:
            await search_members(s, me, Filters(trade="Plombier", sector="Espace", work_mode="moon",
                                                 available="bientot"), today=TODAY)
    assert set(error.value.problems) == {"trade", "sector", "work_mode", "available"}
    assert error.value.problems["trade"] == ("directory.errors.unknown_trade", {"value": "Plombier"})


async def test_trade_ids_of_another_community_are_unknown(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        stranger = await caller_for(s, "x", guild="g2")
        their_trade = await trade_id(s, stranger.community_id, "Développement")
        with pytest.raises(InvalidInput):
            await search_members(s, me, Filters(trade=str(their_trade)), today=TODAY)


async def test_availability_filters(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        for uid, availability, when in (
            ("now", "available", None),
            ("past", "from_date", TODAY - timedelta(days=1)),
            ("soon", "from_date", TODAY + timedelta(days=5)),
            ("later", "from_date", TODAY + timedelta(days=40)),
            ("busy", "busy", None),
        ):
            await add_profile(s, await caller_for(s, uid, name=uid), availability=availability,
                              available_from=when)
    async with db.transaction() as s:
        now = await search_members(s, me, Filters(available="maintenant"), today=TODAY)
        assert sorted(names(now)) == ["now", "past"]
        by = await search_members(s, me, Filters(available="10/12/2026"), today=TODAY)
        assert sorted(names(by)) == ["now", "past", "soon"]
        everyone = await search_members(s, me, Filters(), today=TODAY)
        # available now (most recent first, then id) > sooner date > busy
        assert names(everyone) == ["now", "past", "soon", "later", "busy"]


async def test_ranking_skills_then_availability_then_recency_and_stable(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        specs = [
            ("one-skill-recent", ("seo",), "available", T0 + timedelta(days=3)),
            ("two-skills-busy", ("seo", "wordpress"), "busy", T0),
            ("one-skill-old", ("seo",), "available", T0),
            ("one-skill-old-2", ("seo",), "available", T0),
            ("one-skill-busy", ("seo",), "busy", T0 + timedelta(days=9)),
        ]
        for uid, skills, availability, updated in specs:
            await add_profile(s, await caller_for(s, uid, name=uid), skills=skills,
                              availability=availability, updated_at=updated)
    async with db.transaction() as s:
        result = await search_members(s, me, Filters(skills=("SEO, Word Press",)), page_size=10, today=TODAY)
    assert names(result) == ["two-skills-busy", "one-skill-recent", "one-skill-old", "one-skill-old-2",
                             "one-skill-busy"]
    assert [h.matched_skills for h in result.hits] == [2, 1, 1, 1, 1]
    assert result.hits[0].skills[:2] == ("seo", "wordpress")


async def test_paging_with_stored_token(db, clock):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        for i in range(12):
            await add_profile(s, await caller_for(s, f"u{i:02d}", name=f"m{i:02d}"), skills=("figma",),
                              updated_at=T0 + timedelta(hours=i))
    async with db.transaction() as s:
        first = await search_members(s, me, Filters(skills=("figma",)), today=TODAY, now=clock.now())
    assert (first.total, first.pages, first.page) == (12, 3, 1)
    assert names(first) == ["m11", "m10", "m09", "m08", "m07"]
    assert first.has_next
    assert not first.has_previous
    async with db.transaction() as s:
        second = await search_page(s, me, first.token, 2, today=TODAY)
        last = await search_page(s, me, first.token, 99, today=TODAY)  # clamped to the last page
        again = await search_members(s, me, Filters(skills=("figma",)), today=TODAY)
        stored = await s.scalar(select(func.count()).select_from(DirectoryQuery))
    assert names(second) == ["m06", "m05", "m04", "m03", "m02"]
    assert (last.page, names(last)) == (3, ["m01", "m00"])
    assert again.token == first.token
    assert stored == 1


async def test_single_page_searches_store_nothing(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a"), skills=("figma",))
        result = await search_members(s, me, Filters(skills=("figma",)), today=TODAY)
        assert result.total == 1
        assert not result.has_next
        assert await s.scalar(select(func.count()).select_from(DirectoryQuery)) == 0


async def test_token_of_another_community_is_not_found(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        stranger = await caller_for(s, "x", guild="g2")
        for i in range(7):
            await add_profile(s, await caller_for(s, f"b{i}", guild="g2"), skills=("figma",))
        theirs = await search_members(s, stranger, Filters(skills=("figma",)), today=TODAY)
        assert theirs.has_next
        with pytest.raises(NotFound):
            await search_page(s, me, theirs.token, 2, today=TODAY)
        with pytest.raises(NotFound):
            await search_page(s, me, "0123456789abcdef", 2, today=TODAY)


def test_query_round_trips_and_tokens_are_scoped():
    query = Query(trade_id=3, trade_name="Dev", skill_keys=("seo",), skill_labels=("SEO",),
                  city_key="lyon", city="Lyon", work_mode="remote", available_by=date(2026, 12, 1))
    assert Query.from_json(query.to_json()) == query
    assert query.token(1) != query.token(2)
    assert len(query.token(1)) == 16


@pytest.mark.parametrize(("typed", "expected"), [
    ("", (False, None)), ("now", (True, None)), ("Maintenant", (True, None)),
    ("2026-12-15", (False, date(2026, 12, 15))), ("15/12/2026", (False, date(2026, 12, 15))),
    ("2026-11-01", (True, None)),
])
def test_parse_available(typed, expected):
    assert parse_available(typed, TODAY) == expected


@pytest.mark.parametrize("typed", ["soon", "2026-13-45", "31/02/2026"])
def test_parse_available_rejects(typed):
    with pytest.raises(InvalidInput):
        parse_available(typed, TODAY)


@pytest.mark.parametrize(("typed", "expected"), [
    ("remote", "remote"), ("À distance", "remote"), ("présentiel", "onsite"), ("Hybride", "hybrid"), ("", ""),
])
def test_parse_work_mode(typed, expected):
    assert parse_work_mode(typed) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", Filters()),
    ("trade:Development skill:seo,wordpress city:Lyon",
     Filters(trade="Development", skills=("seo,wordpress",), city="Lyon")),
    ("métier:Rédaction web compétence:seo ville:Saint Étienne mode:distance dispo:maintenant",
     Filters(trade="Rédaction web", skills=("seo",), city="Saint Étienne", work_mode="distance",
             available="maintenant")),
    ("figma secteur:Mode", Filters(skills=("figma",), sector="Mode")),
    ("Ville:Paris available:2026-12-15", Filters(city="Paris", available="2026-12-15")),
    # French typography: a space, a no-break space or a narrow one before the colon.
    ("ville : Lyon", Filters(city="Lyon")),
    ("figma métier\u00a0: Design ville\u202f:Lyon", Filters(skills=("figma",), trade="Design", city="Lyon")),
])
def test_parse_slack_args(text, expected):
    assert parse_args(text) == expected


def test_parse_slack_args_names_an_unknown_key():
    with pytest.raises(InvalidInput) as error:
        parse_args("colour:blue")
    assert error.value.problems["args"] == ("directory.errors.unknown_filter", {"value": "colour"})


async def test_trades_resolve_by_unambiguous_start(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a", name="Alice"), trades=("SEO / SEA",))
        await add_profile(s, await caller_for(s, "b", name="Bob"), trades=("Développement",))
        assert names(await search_members(s, me, Filters(trade="seo /"), today=TODAY)) == ["Alice"]
        assert names(await search_members(s, me, Filters(trade="DÉV"), today=TODAY)) == ["Bob"]
        with pytest.raises(InvalidInput):  # Développement or Design graphique
            await search_members(s, me, Filters(trade="d"), today=TODAY)
        with pytest.raises(InvalidInput):  # a LIKE wildcard is a plain character
            await search_members(s, me, Filters(trade="%"), today=TODAY)


async def test_a_trade_id_names_the_trade_even_without_results(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        dev = await trade_id(s, me.community_id, "Développement")
        result = await search_members(s, me, Filters(trade=str(dev), city="Lyon"), today=TODAY)
    assert (result.total, result.query.trade_id, result.query.trade_name) == (0, dev, "Développement")


async def test_a_trade_named_with_digits_is_found_by_name(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        s.add(Trade(community_id=me.community_id, key="2024", name="2024", position=99))
        await s.flush()
        await add_profile(s, await caller_for(s, "a", name="Alice"), trades=("2024",))
        await add_profile(s, await caller_for(s, "b", name="Bob"), trades=("Développement",))
        result = await search_members(s, me, Filters(trade="2024"), today=TODAY)
    assert (names(result), result.query.trade_name) == (["Alice"], "2024")


async def test_a_trade_id_is_checked_when_another_filter_is_wrong(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        dev = await trade_id(s, me.community_id, "Développement")
        with pytest.raises(InvalidInput) as error:
            await search_members(s, me, Filters(trade=str(dev), work_mode="moon"), today=TODAY)
        assert set(error.value.problems) == {"work_mode"}
        with pytest.raises(InvalidInput) as error:
            await search_members(s, me, Filters(trade="987654", work_mode="moon"), today=TODAY)
        assert set(error.value.problems) == {"trade", "work_mode"}


async def test_a_stored_search_is_not_written_again(db, clock):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        dev = await trade_id(s, me.community_id, "Développement")
        for i in range(7):
            await add_profile(s, await caller_for(s, f"u{i}"), trades=("Développement",))
    written: list[str] = []

    def spy(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("INSERT"):
            written.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", spy)
    try:
        for _ in range(2):
            async with db.transaction() as s:
                result = await search_members(s, me, Filters(trade=str(dev)), today=TODAY, now=clock.now())
            assert result.has_next
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", spy)
    assert len(written) == 1
    async with db.transaction() as s:
        assert names(await search_page(s, me, result.token, 2, today=TODAY)) == ["User u5", "User u6"]


async def test_a_misspelt_skill_snaps_to_the_community_tag(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a", name="Alice"), skills=("Airtable", "Notion"))
        await add_profile(s, await caller_for(s, "b", name="Bob"), skills=("Notion",))
    async with db.transaction() as s:
        result = await search_members(s, me, Filters(skills=("airtablee, notion",)), today=TODAY)
        assert result.query.skill_keys == ("airtable", "notion")
        assert [(h.display_name, h.matched_skills) for h in result.hits] == [("Alice", 2), ("Bob", 1)]
        nobody = await search_members(s, me, Filters(skills=("zapier",)), today=TODAY)
        assert (nobody.total, nobody.query.skill_keys) == (0, ("zapier",))


@pytest.mark.parametrize("typed", ["²", "99999999999999999999"])
@pytest.mark.parametrize("field", ["trade", "sector"])
async def test_a_trade_or_sector_typed_as_odd_digits_is_an_unknown_name(services, field, typed):
    """"²" passes str.isdigit() but not int(), and a number past 64-bit integers does not bind: both are
    names to look up, so the member hears "unknown trade" (before: an unexpected error)."""
    async with services.db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a", name="Alice"), trades=("Développement",))
    async with services.db.transaction(write=False) as s:
        with pytest.raises(InvalidInput) as refused:
            await search_members(s, me, Filters(**{field: typed}), today=date(2026, 11, 26))
    assert set(refused.value.problems) == {field}


async def test_a_city_written_with_or_without_its_hyphens_is_one_city(db):
    """"saint etienne" finds the members of "Saint-Étienne" and "Saint Etienne", whose suggestions
    are one choice."""
    from tests.directory.factory import city_choices
    from tests.fakes.callers import caller_for

    async with db.transaction() as s:
        me = await caller_for(s, "me")
        a = await caller_for(s, "a", name="Anne")
        await add_profile(s, a, city="Saint-Étienne")
        b = await caller_for(s, "b", name="Bruno")
        await add_profile(s, b, city="Saint Etienne")
    async with db.transaction() as s:
        found = await search_members(s, me, Filters(city="saint etienne"), today=date(2026, 11, 26))
        choices = await city_choices(s, me.community_id, "saint")
    assert sorted(h.display_name for h in found.hits) == ["Anne", "Bruno"]
    assert len(choices) == 1, choices
