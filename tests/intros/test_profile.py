from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.services import Services
from cogs.intros._profile import (
    export_member,
    form_from_view,
    get_profile,
    save_profile,
    set_availability,
    view_profile,
)
from cogs.intros.models import Profile, ProfileLink, ProfileSkill, ProfileTrade
from tests.fakes.callers import make_caller
from tests.intros.conftest import good_form, sector_ids, trade_ids


async def count(services: Services, model: type) -> int:
    async with services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def save(services: Services, caller: Caller, **changes: object):
    form = await good_form(services, caller, **changes)
    async with services.db.transaction() as session:
        return await save_profile(session, caller, form, services.clock)


async def test_save_creates_then_replaces(services: Services, alice: Caller) -> None:
    first = await save(services, alice)
    assert first.created
    assert [k for k, _ in first.view.skills] == ["wordpress", "seo", "copywriting"]
    assert first.view.display_name == "Alice"
    trades = await trade_ids(services, alice.community_id)
    second = await save(services, alice, trade_ids=[str(trades[0])], skills="Figma", links="", city="Paris")
    assert not second.created
    assert second.view.id == first.view.id
    assert [t[0] for t in second.view.trades] == [trades[0]]
    assert second.view.skills == (("figma", "Figma"),)
    assert second.view.links == ()
    assert (await count(services, Profile), await count(services, ProfileTrade)) == (1, 1)
    assert (await count(services, ProfileSkill), await count(services, ProfileLink)) == (1, 0)


async def test_a_profile_reads_back_each_list_in_its_order(services: Services, alice: Caller, bob: Caller
                                                           ) -> None:
    """One statement reads the member and the four lists: none mixes with another's or another member's."""
    trades = await trade_ids(services, alice.community_id)
    sectors = await sector_ids(services, alice.community_id)
    await save(services, alice, trade_ids=[str(trades[3]), str(trades[0]), str(trades[2])],
               sector_ids=[str(sectors[2]), str(sectors[0])], skills="Zapier, Airtable, Notion",
               links="https://c.example\nhttps://a.example\nhttps://b.example")
    await save(services, bob, trade_ids=[str(trades[1])], sector_ids=[], skills="Figma", links="")
    async with services.db.transaction(write=False) as session:
        view = await get_profile(session, alice.community_id, alice.member_id)
        other = await get_profile(session, bob.community_id, bob.member_id)
    assert [t[0] for t in view.trades] == [trades[3], trades[0], trades[2]]  # as chosen
    assert [s[0] for s in view.sectors] == [sectors[0], sectors[2]]  # in the community's order
    assert view.skills == (("zapier", "Zapier"), ("airtable", "Airtable"), ("notion", "Notion"))
    assert view.links == ("https://c.example", "https://a.example", "https://b.example")
    assert (view.user_id, view.display_name, view.member_id) == ("U1", "Alice", alice.member_id)
    assert [t[0] for t in other.trades] == [trades[1]] and other.sectors == () and other.links == ()
    assert (other.skills, other.user_id, other.display_name) == ((("figma", "Figma"),), "U2", "Bob")


async def test_invalid_input_saves_nothing(services: Services, alice: Caller) -> None:
    with pytest.raises(InvalidInput):
        await save(services, alice, bio="x" * 1001)
    assert await count(services, Profile) == 0
    await save(services, alice)
    with pytest.raises(InvalidInput):
        await save(services, alice, city="Paris", rate="700-500")
    async with services.db.transaction() as session:
        assert (await get_profile(session, alice.community_id, alice.member_id)).city == "Lyon"


async def test_a_trade_of_another_community_is_unknown(services: Services, alice: Caller) -> None:
    other = await make_caller(services, guild="G2", user="U9")
    foreign = await trade_ids(services, other.community_id)
    with pytest.raises(InvalidInput) as caught:
        await save(services, alice, trade_ids=[str(foreign[0])])
    assert caught.value.problems["trades"][0] == "intros.problems.trades_unknown"


async def test_skills_snap_to_the_community_tags(services: Services, alice: Caller, bob: Caller) -> None:
    await save(services, alice, skills="Tricot circulaire")
    saved = await save(services, bob, skills="tricot circulair, wordpres")
    assert [k for k, _ in saved.view.skills] == ["tricot circulaire", "wordpress"]
    assert [label for _, label in saved.view.skills] == ["tricot circulair", "wordpres"]


async def test_profile_of_another_community_is_not_found(services: Services, alice: Caller) -> None:
    await save(services, alice)
    stranger = await make_caller(services, guild="G2", user="U1")  # same person, other server
    async with services.db.transaction() as session:
        with pytest.raises(NotFound):
            await get_profile(session, stranger.community_id, alice.member_id)
        with pytest.raises(NotFound):
            await view_profile(session, stranger, alice.member_id)


async def test_unlisted_profiles_only_for_owner_and_moderators(
    services: Services, alice: Caller, bob: Caller
) -> None:
    await save(services, alice, opt_directory=False)
    moderator = await make_caller(services, user="U3", name="Mod", moderator=True)
    async with services.db.transaction() as session:
        assert (await view_profile(session, alice, alice.member_id)).member_id == alice.member_id
        assert (await view_profile(session, moderator, alice.member_id)).member_id == alice.member_id
        with pytest.raises(NotFound) as caught:
            await view_profile(session, bob, alice.member_id)
        assert caught.value.key == "intros.errors.no_profile"


async def test_no_profile_of_ones_own_says_so_to_its_owner(
    services: Services, clock: FrozenClock, alice: Caller, bob: Caller
) -> None:
    """/profile and /availability before any /intro: "You have no profile yet: … /intro", not
    "This member has no profile here yet"; someone else's missing profile still reads so."""
    async with services.db.transaction() as session:
        with pytest.raises(NotFound) as own:
            await view_profile(session, alice, alice.member_id)
        with pytest.raises(NotFound) as availability:
            await set_availability(session, alice, "busy", None, clock)
        with pytest.raises(NotFound) as other:
            await view_profile(session, bob, alice.member_id)
    assert own.value.key == availability.value.key == "intros.errors.no_own_profile"
    assert other.value.key == "intros.errors.no_profile"


async def test_set_availability(services: Services, clock: FrozenClock, alice: Caller, bob: Caller) -> None:
    saved = await save(services, alice)
    async with services.db.transaction() as session:
        view = await set_availability(session, alice, "from_date", "2027-01-04", clock)
    assert (view.availability, view.available_from) == ("from_date", date(2027, 1, 4))
    async with services.db.transaction() as session:
        with pytest.raises(InvalidInput):
            await set_availability(session, alice, "from_date", "2026-11-01", clock)
        with pytest.raises(Forbidden):
            await set_availability(session, bob, "busy", None, clock, profile_id=saved.view.id)
    stranger = await make_caller(services, guild="G2", user="U1")
    async with services.db.transaction() as session:
        with pytest.raises(NotFound):
            await set_availability(session, stranger, "busy", None, clock, profile_id=saved.view.id)
        assert (await get_profile(session, alice.community_id, alice.member_id)).availability == "from_date"


async def test_today_is_the_community_day(services: Services, clock: FrozenClock, alice: Caller) -> None:
    await save(services, alice)
    # 23:30 UTC on 30 Nov is already 1 Dec in Paris: 1 Dec is today there, not the past.
    clock.set(clock.now().replace(day=30, hour=23, minute=30))
    async with services.db.transaction() as session:
        view = await set_availability(session, alice, "from_date", "01/12/2026", clock)
    assert view.available_from == date(2026, 12, 1)


async def test_form_round_trip(services: Services, alice: Caller) -> None:
    saved = await save(services, alice, rate="500 USD", availability="from_date", available_from="2027-03-01")
    form = form_from_view(saved.view)
    assert form.rate == "500 USD"
    again = await save(services, alice, **vars(form))
    assert again.view.skills == saved.view.skills
    assert again.view.available_from == saved.view.available_from


async def test_the_leaderboards_choice_is_saved_shown_and_exported(services: Services, alice: Caller) -> None:
    """On by default; saved off it stays off on the next edit (the form is pre-filled with it), and the
    privacy export says it. It is a choice of its own: the directory listing does not change with it."""
    assert (await save(services, alice)).view.opt_leaderboards is True
    saved = await save(services, alice, opt_leaderboards=False)
    assert (saved.view.opt_leaderboards, saved.view.opt_directory) == (False, True)
    form = form_from_view(saved.view)
    assert form.opt_leaderboards is False
    assert (await save(services, alice, **vars(form))).view.opt_leaderboards is False
    async with services.db.transaction() as session:
        stored = await session.scalar(select(Profile).where(Profile.member_id == alice.member_id))
        assert stored is not None and stored.opt_leaderboards is False
        exported = await export_member(session, alice.community_id, alice.member_id)
    assert (exported["profile"]["shown_on_leaderboards"], exported["profile"]["listed_in_directory"]) == (
        False, True
    )
    hidden = await save(services, alice, opt_directory=False)
    assert (hidden.view.opt_directory, hidden.view.opt_leaderboards) == (False, True)


async def test_export_lists_the_profile(services: Services, alice: Caller, bob: Caller) -> None:
    async with services.db.transaction() as session:
        assert await export_member(session, alice.community_id, alice.member_id) == {}
    await save(services, alice)
    async with services.db.transaction() as session:
        exported = await export_member(session, alice.community_id, alice.member_id)
        assert await export_member(session, bob.community_id, bob.member_id) == {}
    assert exported["profile"]["skills"] == ["WordPress", "Référencement", "rédaction"]
    assert exported["profile"]["portfolio_links"] == ["https://alice.example", "http://blog.example/alice"]
    assert exported["intro_cards"] == []


async def test_clock_moves_updated_at(services: Services, clock: FrozenClock, alice: Caller) -> None:
    first = await save(services, alice)
    clock.advance(timedelta(days=2))
    second = await save(services, alice)
    assert second.view.updated_at - first.view.updated_at == timedelta(days=2)


async def test_two_first_submits_racing_make_one_profile(
    services: Services, alice: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second of two racing first submits saw no profile yet: it updates the winner's row.

    Simulated deterministically: the row is committed by "the other submit" right after this one
    looked and found nothing (what READ COMMITTED on PostgreSQL allows).
    """
    import cogs.intros._profile as profile_module

    real = profile_module._profile_row
    looked = False

    async def first_look_misses(session, community_id, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal looked
        if not looked and kwargs.get("member_id") is not None:
            looked = True
            return None
        return await real(session, community_id, **kwargs)

    first = await save(services, alice, city="Lyon")
    monkeypatch.setattr(profile_module, "_profile_row", first_look_misses)
    second = await save(services, alice, city="Paris")
    assert not second.created
    assert second.view.id == first.view.id
    assert second.view.city == "Paris"
    assert await count(services, Profile) == 1


async def test_a_city_is_found_however_its_hyphens_and_accents_are_typed(services: Services, alice: Caller):
    """Saved as "Saint-Étienne", found by /members, /match and /afterworks as "saint etienne"."""
    from cogs.directory._filters import Filters
    from cogs.directory._search import search_members

    await save(services, alice, city="Saint-Étienne")
    async with services.db.transaction() as session:
        assert await session.scalar(select(Profile.city_key)) == "saint etienne"
        found = await search_members(session, alice, Filters(city="saint etienne"), today=date(2026, 11, 26))
    assert [hit.member_id for hit in found.hits] == [alice.member_id]
