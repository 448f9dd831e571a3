"""The feature use cases (intros, directory, privacy, config) on SQLite AND PostgreSQL, from the same code.

The feature suites under tests/<feature>/ run on SQLite only; dialect differences (NULL ordering,
collation, booleans, dates, RETURNING, ON CONFLICT, concurrent transactions…) would hide there.
`db` is overridden here by `any_db`, so the shared `services` fixture and every helper reused from
the feature suites run once per backend (the PostgreSQL run is marked `postgres`).
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Secrets, Settings
from bot.errors import InvalidInput, NotFound, UserError
from bot.lifecycle import PURGE_KIND, deactivate
from bot.models import metadata
from bot.services import Services
from bot.usecase import run as run_use_case
from cogs.config._audit import history
from cogs.config._context import run
from cogs.config._moderation import remove_post
from cogs.config._packs import packs, remove_pack, set_pack
from cogs.config._settings import set_setting, settings_form, update_settings
from cogs.config._show import show
from cogs.config._trades import (
    add_sector,
    add_trade,
    bind_trade,
    remove_sector,
    remove_trade,
    rename_sector,
    rename_trade,
)
from cogs.config._transfer import export_settings, import_settings
from cogs.config.models import AuditEntry
from cogs.directory._complete import sector_choices, trade_choices
from cogs.directory._filters import Filters
from cogs.directory._search import search_members, search_page
from cogs.directory._values import VALUES
from cogs.directory.models import DirectoryQuery
from cogs.intros._profile import export_member, get_profile, set_availability, view_profile
from cogs.intros._publish import submit_intro, update_availability
from cogs.intros.models import Profile, ProfileLink, ProfileSector, ProfileSkill, ProfileTrade
from cogs.privacy._privacy import delete_member_data, export_member_data
from storage.communities import sectors, trades
from storage.defaults import DEFAULT_SECTORS, DEFAULT_TRADES
from storage.engine import Database
from storage.models import Community, Job, Member, Post
from storage.settings import get_settings
from tests.config.conftest import GUILD_A, GUILD_B, INTROS, MODLOG, directory_a
from tests.config.conftest import make_caller as config_caller
from tests.directory.factory import add_profile, city_choices, sector_id, skill_choices, trade_id
from tests.fakes.callers import caller_for, make_caller
from tests.fakes.notifier import RecordingNotifier
from tests.intros.conftest import good_form

TODAY = date(2026, 11, 26)  # tests/conftest.NOW in Europe/Paris


@pytest.fixture
def db(any_db: Database) -> Database:
    """Overrides tests/conftest.py's SQLite `db`: `services` and the helpers run on both backends."""
    VALUES.forget()  # the autocomplete cache is per engine; another test's engine may reuse its address
    return any_db


@pytest.fixture
def notifier(services: Services) -> RecordingNotifier:
    recording = RecordingNotifier()
    services.notifiers["discord"] = recording
    return recording


@pytest.fixture
async def config_services(services: Services) -> Services:
    services.notifiers["discord"] = RecordingNotifier()
    return services


def names(page) -> list[str]:
    return [h.display_name for h in page.hits]


async def count(db: Database, table, **where: object) -> int:
    async with db.transaction() as s:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(await s.scalar(query) or 0)


# -- first contact, profiles, availability ------------------------------------------------------------


async def test_first_contact_creates_the_community_member_and_defaults(services: Services) -> None:
    alice = await make_caller(services, "U1", guild="G1", name="Alice", locale="fr")
    again = await make_caller(services, "U1", guild="G1", name="Alice B.", locale="en")
    bob = await make_caller(services, "U2", guild="G1", name="Bob")
    assert (again.community_id, again.member_id) == (alice.community_id, alice.member_id)
    assert bob.community_id == alice.community_id and bob.member_id != alice.member_id
    assert not alice.is_moderator and alice.community_locale == "fr" and alice.timezone == "Europe/Paris"
    assert again.locale == "en"  # this request's language
    await services.settle()  # the new name and language are stored after the answer
    async with services.db.transaction() as s:
        community = await s.get(Community, alice.community_id)
        assert (community.platform, community.external_id, community.active) == ("discord", "G1", True)
        member = await s.get(Member, alice.member_id)
        assert (member.display_name, member.locale) == ("Alice B.", "en")
        assert [t.name for t in await trades(s, alice.community_id)] == list(DEFAULT_TRADES["fr"])
        assert [x.name for x in await sectors(s, alice.community_id)] == list(DEFAULT_SECTORS["fr"])
        settings = await get_settings(s, alice.community_id)
        assert settings.intro_channel_id is None and settings.purge_grace_days == 30
    assert await count(services.db, Member.__table__, community_id=alice.community_id) == 2


async def test_save_edit_profile_and_availability(services: Services, notifier: RecordingNotifier,
                                                  clock) -> None:
    alice = await make_caller(services, name="Alice")
    form = await good_form(services, alice, available_from="")
    first = await run_use_case(services, alice, submit_intro, form, origin_channel_id="C-here")
    view = first.view
    assert first.created and first.published.result.posted == ["C-here"]
    assert [k for k, _ in view.skills] == ["wordpress", "seo", "copywriting"]
    assert [name for _, name, _ in view.trades] == ["Rédaction web", "SEO / SEA"]
    assert [name for _, name in view.sectors] == [DEFAULT_SECTORS["fr"][0]]
    assert view.links == ("https://alice.example", "http://blog.example/alice")
    assert (view.city, view.work_mode, view.languages) == ("Lyon", "hybrid", ("fr", "en"))
    assert (view.rate_min, view.rate_max, view.currency) == (400, 600, "EUR")
    assert view.opt_directory is True and view.opt_pairing is False
    assert view.updated_at == clock.now() and view.updated_at.tzinfo is not None

    clock.advance(timedelta(hours=2))
    edited = await good_form(services, alice, skills="Figma, WordPress", links="", city="Paris",
                             work_mode="remote", rate="500")
    edited.trade_ids = edited.trade_ids[1:]
    second = await run_use_case(services, alice, submit_intro, edited, origin_channel_id="C-elsewhere")
    assert not second.created and second.view.id == view.id
    assert second.published.result.edited == ["C-here"] and second.published.result.posted == []
    assert [name for _, name, _ in second.view.trades] == ["SEO / SEA"]
    assert [k for k, _ in second.view.skills] == ["figma", "wordpress"]
    assert second.view.links == () and second.view.city == "Paris" and second.view.rate_max == 500
    assert second.view.updated_at == clock.now()
    assert await count(services.db, Profile.__table__) == 1
    assert await count(services.db, ProfileTrade.__table__) == 1
    assert await count(services.db, ProfileLink.__table__) == 0
    assert await count(services.db, Post.__table__) == 1

    soon = TODAY + timedelta(days=10)
    updated = await run_use_case(services, alice, update_availability, "from_date", soon.isoformat())
    assert (updated.availability, updated.available_from) == ("from_date", soon)
    async with services.db.transaction() as s:
        stored = await s.scalar(select(Profile.available_from).where(Profile.id == view.id))
        assert stored == soon and type(stored) is date
        busy = await set_availability(s, alice, "busy", None, services.clock)
        assert (busy.availability, busy.available_from) == ("busy", None)
        with pytest.raises(InvalidInput):
            await set_availability(s, alice, "from_date", (TODAY - timedelta(days=1)).isoformat(),
                                   services.clock)
    async with services.db.transaction() as s:
        assert (await get_profile(s, alice.community_id, alice.member_id)).availability == "busy"
        exported = await export_member(s, alice.community_id, alice.member_id)
    assert exported["profile"]["skills"] == ["Figma", "WordPress"]
    assert exported["profile"]["updated_at"] == clock.now().isoformat()
    assert [c["channel_id"] for c in exported["intro_cards"]] == ["C-here"]


async def test_unlisted_profiles_and_other_communities_stay_hidden(services: Services,
                                                                   notifier: RecordingNotifier) -> None:
    alice = await make_caller(services, name="Alice")
    bob = await make_caller(services, user="U2", name="Bob")
    await run_use_case(services, alice, submit_intro, await good_form(services, alice, opt_directory=False),
                       origin_channel_id=None)
    stranger = await make_caller(services, guild="G2", user="U1")
    async with services.db.transaction() as s:
        assert (await view_profile(s, alice, alice.member_id)).opt_directory is False
        with pytest.raises(NotFound):
            await view_profile(s, bob, alice.member_id)
        with pytest.raises(NotFound):
            await get_profile(s, stranger.community_id, alice.member_id)


# -- directory ----------------------------------------------------------------------------------------


async def _seed_directory(db: Database) -> dict[str, object]:
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    async with db.transaction() as s:
        me = await caller_for(s, "me", name="Me")
        day = timedelta(days=1)

        async def person(name: str, **fields: object) -> None:
            await add_profile(s, await caller_for(s, name.lower(), name=name), **fields)

        await person("Alice", trades=("Développement",), skills=("WordPress", "SEO"), city="Lyon",
                     work_mode="hybrid", sectors=("Santé",), updated_at=t0)
        await person("Bob", trades=("Développement", "Conseil"), skills=("Référencement",), city="Paris",
                     availability="from_date", available_from=TODAY + 5 * day, updated_at=t0 + day)
        await person("Carol", trades=("Design graphique",), skills=("seo", "wordpress", "Figma"),
                     city="lyon", work_mode="onsite", availability="busy", updated_at=t0 + 2 * day)
        await person("Dan", trades=("Développement",), skills=("Python",), city="Lille",
                     availability="from_date", available_from=TODAY - 2 * day, sectors=("Santé", "Mode"),
                     updated_at=t0 + 3 * day)
        await person("Eve", trades=("Rédaction web",), skills=("SEO",), city="Lyon",
                     availability="from_date", available_from=TODAY + 40 * day, updated_at=t0 + 4 * day)
        await person("Hidden", trades=("Développement",), skills=("seo",), city="Lyon", listed=False)
        other = await caller_for(s, "x", guild="g2", name="Elsewhere")
        await add_profile(s, other, trades=("Développement",), skills=("seo",), city="Lyon")
        dev = await trade_id(s, me.community_id, "Développement")
        health = await sector_id(s, me.community_id, "Santé")
    return {"me": me, "other": other, "dev": dev, "health": health}


async def test_directory_each_filter(db: Database) -> None:
    seeded = await _seed_directory(db)
    me = seeded["me"]

    async def search(**filters: object) -> list[str]:
        async with db.transaction() as s:
            return names(await search_members(s, me, Filters(**filters), today=TODAY))

    # Ranking of a search without skills: available now, then by date (sooner first), then busy;
    # within a rank the most recently updated first.
    assert await search() == ["Dan", "Alice", "Bob", "Eve", "Carol"]
    assert await search(trade="développement") == ["Dan", "Alice", "Bob"]
    assert await search(trade=str(seeded["dev"])) == ["Dan", "Alice", "Bob"]
    assert await search(trade="DESIGN") == ["Carol"]  # unambiguous start, case and accents ignored
    # Skills: synonyms meet ("référencement" is seo), then the number of skills matched ranks first.
    assert await search(skills=("référencement",)) == ["Alice", "Bob", "Eve", "Carol"]
    assert await search(skills=("seo, wordpress",)) == ["Alice", "Carol", "Bob", "Eve"]
    assert await search(sector="santé") == ["Dan", "Alice"]
    assert await search(sector=str(seeded["health"])) == ["Dan", "Alice"]
    assert await search(sector="Mode") == ["Dan"]
    assert await search(city="LYON") == ["Alice", "Eve", "Carol"]  # "lyon" and "Lyon" are one city
    assert await search(city="lyon", skills=("wordpress",)) == ["Alice", "Carol"]
    assert await search(work_mode="télétravail") == ["Dan", "Alice", "Bob", "Eve"]
    assert await search(work_mode="onsite") == ["Alice", "Carol"]
    assert await search(work_mode="hybride") == ["Alice"]
    assert await search(available="now") == ["Dan", "Alice"]
    assert await search(available=(TODAY + timedelta(days=5)).isoformat()) == ["Dan", "Alice", "Bob"]
    assert await search(available=(TODAY + timedelta(days=60)).strftime("%d/%m/%Y")) == [
        "Dan", "Alice", "Bob", "Eve"]
    assert await search(trade="développement", city="Lille", available="now", sector="Mode") == ["Dan"]
    with pytest.raises(InvalidInput) as caught:
        await search(trade=str(seeded["dev"] + 1000), sector="Espace", work_mode="moon")
    assert set(caught.value.problems) == {"trade", "sector", "work_mode"}

    async with db.transaction() as s:
        page = await search_members(s, me, Filters(trade=str(seeded["dev"]), sector="Santé"), today=TODAY)
        assert (page.query.trade_name, page.query.sector_name) == ("Développement", "Santé")
        [alice] = [h for h in page.hits if h.display_name == "Alice"]
        assert alice.trades == ("Développement",) and alice.sectors == ("Santé",)
        assert set(alice.skills) == {"WordPress", "SEO"} and alice.city == "Lyon"
        assert alice.updated_at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        [bob] = (await search_members(s, me, Filters(city="paris"), today=TODAY)).hits
        assert (bob.availability, bob.available_from) == ("from_date", TODAY + timedelta(days=5))
        assert bob.trades == ("Développement", "Conseil")


async def test_directory_paging_tokens(db: Database, clock) -> None:
    seeded = await _seed_directory(db)
    me, other = seeded["me"], seeded["other"]
    async with db.transaction() as s:
        first = await search_members(s, me, Filters(), page_size=2, today=TODAY, now=clock.now())
        assert (first.total, first.pages, first.has_next, names(first)) == (5, 3, True, ["Dan", "Alice"])
        again = await search_members(s, me, Filters(), page_size=2, today=TODAY, now=clock.now())
        assert again.token == first.token
    assert await count(db, DirectoryQuery.__table__) == 1  # one stored search, not two
    clock.advance(timedelta(minutes=3))
    async with db.transaction() as s:
        second = await search_page(s, me, first.token, 2, page_size=2, today=TODAY, now=clock.now())
        assert names(second) == ["Bob", "Eve"] and second.has_previous and second.has_next
        last = await search_page(s, me, first.token, 3, page_size=2, today=TODAY)
        assert names(last) == ["Carol"] and not last.has_next
        beyond = await search_page(s, me, first.token, 9, page_size=2, today=TODAY)
        assert beyond.page == 3 and names(beyond) == ["Carol"]
        used = await s.scalar(select(DirectoryQuery.used_at))
        assert used == clock.now()
        with pytest.raises(NotFound):
            await search_page(s, other, first.token, 2, page_size=2, today=TODAY)
        single = await search_members(s, me, Filters(city="Lille"), page_size=2, today=TODAY)
        assert single.total == 1
    assert await count(db, DirectoryQuery.__table__) == 1  # one page: nothing stored


async def test_autocomplete_providers(db: Database) -> None:
    seeded = await _seed_directory(db)
    cid = seeded["me"].community_id
    async with db.transaction() as s:
        assert [c.name for c in await trade_choices(s, cid, "DÉ")] == [
            "Développement", "Design graphique", "Vidéo / motion design", "UX / UI design"]
        assert [c.value for c in await trade_choices(s, cid, "dév")] == [str(seeded["dev"])]
        assert [c.name for c in await sector_choices(s, cid, "sante")] == ["Santé"]
        skills = await skill_choices(s, cid, "fr", "")
        assert skills[0].value == "seo"  # the most used first; hidden and other communities' not counted
        assert {c.value for c in skills} == {"seo", "wordpress", "figma", "python"}
        # An alias finds its tag; the label shown is the smallest spelling (min(), C collation in tests).
        assert [(c.name, c.value) for c in await skill_choices(s, cid, "fr", "référ")] == [
            ("Référencement", "seo")]
        assert [c.value for c in await skill_choices(s, cid, "fr", "python, wor")] == ["python, wordpress"]
        cities = await city_choices(s, cid, "")
        assert [c.name for c in cities] == ["Lyon", "Lille", "Paris"]  # most used first
        assert [c.name for c in await city_choices(s, cid, "li")] == ["Lille"]


# -- privacy ------------------------------------------------------------------------------------------


async def test_privacy_export_delete_export(services: Services, notifier: RecordingNotifier) -> None:
    alice = await make_caller(services, name="Alice")
    bob = await make_caller(services, user="U2", name="Bob")
    await run_use_case(services, alice, submit_intro, await good_form(services, alice, bio="Moi <@everyone>"),
                       origin_channel_id="C-1")
    await run_use_case(services, bob, submit_intro, await good_form(services, bob, skills="Python"),
                       origin_channel_id="C-1")
    before = json.loads((await run_use_case(services, alice, export_member_data)).content)
    assert before["member"]["user_id"] == "U1" and before["member"]["display_name"] == "Alice"
    assert before["community"] == {"platform": "discord", "id": "g1", "name": "Guild g1"}
    assert [p["channel_id"] for p in before["posts"]] == ["C-1"]
    profile = before["features"]["intros"]["profile"]
    assert profile["bio"] == "Moi <@everyone>" and profile["city"] == "Lyon"
    assert profile["skills"] == ["WordPress", "Référencement", "rédaction"]
    assert before["exported_at"] == services.clock.now().isoformat()

    await delete_member_data(services, alice, alice.member_id)
    assert len(notifier.in_channel("C-1")) == 1  # Bob's card stays
    async with services.db.transaction() as s:
        assert await s.get(Member, alice.member_id) is None
        assert list(await s.scalars(select(Profile.member_id))) == [bob.member_id]
        assert list(await s.scalars(select(Post.member_id))) == [bob.member_id]
        assert list(await s.scalars(select(ProfileSkill.label))) == ["Python"]
    after = json.loads((await run_use_case(services, alice, export_member_data)).content)
    assert after["member"] is None and after["posts"] == [] and after["features"]["intros"] == {}


# -- config -------------------------------------------------------------------------------------------


async def test_settings_compare_and_set_show_and_history(config_services: Services, clock) -> None:
    mod = await config_caller(config_services, "mod-a")
    directory = directory_a()
    form = await run(config_services, mod, settings_form)
    card = await run(config_services, mod, set_setting, "channel.intros", f"<#{INTROS}>",
                     directory=directory)
    assert card.fields
    clock.advance(timedelta(minutes=5))
    await run(config_services, mod, update_settings,
              {"timezone": "america/montreal", "reminders": "2d, 1h30", "limit.missions_per_week": "5"},
              expected_version=form.version + 1)
    with pytest.raises(UserError) as stale:  # a form read before the last change
        await run(config_services, mod, update_settings, {"timezone": "Europe/Berlin"},
                  expected_version=form.version)
    assert stale.value.key == "config.errors.conflict"
    async with config_services.db.transaction() as s:
        row = await get_settings(s, mod.community_id)
        community = await s.get(Community, mod.community_id)
        assert (row.version, row.intro_channel_id, row.missions_per_week) == (form.version + 2, INTROS, 5)
        assert row.reminder_offsets_minutes == [2880, 90]
        assert community.timezone == "America/Montreal"
        assert row.updated_at == clock.now()
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == 4
    shown = await run(config_services, mod, show, directory=directory)
    fields = {f.name: f.value for f in shown.fields}
    assert "Salon des présentations : #presentations" in fields["Salons"]
    assert fields["Fuseau horaire"] == "America/Montreal"
    assert f"Version {form.version + 2}" in shown.footer
    latest = await run(config_services, mod, history, directory=directory)
    # Newest first, at the community's time (Montreal, UTC-5 in November): the aware UTC times
    # stored on either backend come back as the same instants.
    assert [f.name for f in latest.fields] == ["2026-11-26 05:05"] * 3 + ["2026-11-26 05:00"]
    assert latest.fields[-1].value == "User mod-a · Salon des présentations : — → #presentations"
    assert "Rappels d’afterwork : 24 h, 1 h → 2 j, 1 h 30" in [f.value.split(" · ")[1] for f in latest.fields]


async def test_trades_and_sectors_add_rename_remove_merge(config_services: Services) -> None:
    mod = await config_caller(config_services, "mod-a")
    member = await config_caller(config_services, "member-a", moderator=False)
    await run(config_services, mod, add_trade, "  Motion   design ")
    with pytest.raises(InvalidInput):
        await run(config_services, mod, add_trade, "MOTION DESIGN")  # same key: ON CONFLICT DO NOTHING
    await run(config_services, mod, rename_trade, "motion design", "Motion")
    with pytest.raises(InvalidInput):  # the unique key, caught in a savepoint
        await run(config_services, mod, rename_trade, "Motion", "développement")
    await run(config_services, mod, bind_trade, "Motion", INTROS)
    async with config_services.db.transaction() as s:
        listed = [(t.name, t.channel_id, t.position) for t in await trades(s, mod.community_id)]
        assert listed[-1] == ("Motion", INTROS, 10)
        cid = mod.community_id
        motion, dev = (await trade_id(s, cid, "Motion"), await trade_id(s, cid, "Développement"))
        health, fashion = await sector_id(s, cid, "Santé"), await sector_id(s, cid, "Mode")
        profile = Profile(community_id=cid, member_id=member.member_id)
        s.add(profile)
        await s.flush()
        s.add_all([ProfileTrade(community_id=cid, profile_id=profile.id, trade_id=motion, position=0),
                   ProfileTrade(community_id=cid, profile_id=profile.id, trade_id=dev, position=1),
                   ProfileSector(community_id=cid, profile_id=profile.id, sector_id=health),
                   ProfileSector(community_id=cid, profile_id=profile.id, sector_id=fashion)])
    with pytest.raises(UserError) as in_use:
        await run(config_services, mod, remove_trade, "Motion")
    assert in_use.value.key == "config.errors.trade_in_use"
    await run(config_services, mod, remove_trade, "Motion", "Développement")  # merge: one row kept
    await run(config_services, mod, add_sector, "Jeux vidéo")
    await run(config_services, mod, rename_sector, "jeux video", "Jeu vidéo")
    await run(config_services, mod, remove_sector, "Mode", "Santé")
    await run(config_services, mod, remove_sector, "Jeu vidéo")
    async with config_services.db.transaction() as s:
        assert list(await s.scalars(select(ProfileTrade.trade_id))) == [dev]
        assert list(await s.scalars(select(ProfileSector.sector_id))) == [health]
        assert "Motion" not in [t.name for t in await trades(s, cid)]
        kept = [x.name for x in await sectors(s, cid)]
        assert "Mode" not in kept and "Jeu vidéo" not in kept and "Santé" in kept
        actions = list(await s.scalars(select(AuditEntry.setting).order_by(AuditEntry.id)))
    assert actions == ["trade.add", "trade.rename", "trade.channel", "trade.remove", "sector.add",
                       "sector.rename", "sector.remove", "sector.remove"]


async def test_concurrent_trade_additions_are_both_kept(config_services: Services, settings: Settings,
                                                        any_db_url: str, clock) -> None:
    other_db = Database.from_url(any_db_url)
    try:
        other = Services.build(settings, Secrets(), clock=clock, db=other_db)
        first = await config_caller(config_services, "mod-1")
        second = await config_caller(other, "mod-2")
        await asyncio.gather(run(config_services, first, add_trade, "Illustration"),
                             run(other, second, add_trade, "Podcast"),
                             run(config_services, first, add_sector, "Jeux vidéo"),
                             run(other, second, add_sector, "Musique"))
    finally:
        await other_db.dispose()
    async with config_services.db.transaction() as s:
        names_ = [t.name for t in await trades(s, first.community_id)]
        assert set(names_[-2:]) == {"Illustration", "Podcast"} and len(names_) == 12
        assert {"Jeux vidéo", "Musique"} <= {x.name for x in await sectors(s, first.community_id)}


async def test_packs_export_import_round_trip_and_remove_post(config_services: Services) -> None:
    mod = await config_caller(config_services, "mod-a")
    mod_b = await config_caller(config_services, "mod-b", guild=GUILD_B, locale="fr")
    directory = directory_a()
    await run(config_services, mod, add_trade, "Illustration")
    await run(config_services, mod, set_pack, "Livre", "illustration, Rédaction web")
    await run(config_services, mod, remove_pack, "Site vitrine")
    with pytest.raises(InvalidInput):
        await run(config_services, mod, set_pack, "Espace", "Astrologie")
    await run(config_services, mod, set_setting, "channel.modlog", MODLOG, directory=directory)
    await run(config_services, mod, set_setting, "purge_grace_days", "7")
    await run(config_services, mod, set_setting, "moderators.role", "@Modos", directory=directory)
    await run(config_services, mod, remove_trade, "Conseil")
    async with config_services.db.transaction() as s:
        assert await packs(s, mod.community_id, "fr") == [
            ("Identité visuelle", ["Design graphique", "Rédaction web", "Photographie"]),
            ("Livre", ["Illustration", "Rédaction web"]),
        ]
    exported = await run(config_services, mod, export_settings, directory=directory)
    data = tomllib.loads(exported.content.decode())
    assert data["purge_grace_days"] == 7 and data["channels"]["modlog"] == f"#modlog ({MODLOG})"
    assert {"name": "Livre", "trades": ["Illustration", "Rédaction web"]} in data["packs"]
    assert {"name": "Conseil"} not in data["trades"]
    card = await run(config_services, mod_b, import_settings, exported.content.decode(),
                     directory=directory)
    assert card.title
    async with config_services.db.transaction() as s:
        a_trades = [t.name for t in await trades(s, mod.community_id)]
        assert [t.name for t in await trades(s, mod_b.community_id)] == a_trades
        assert await packs(s, mod_b.community_id, "fr") == await packs(s, mod.community_id, "fr")
        row_b = await get_settings(s, mod_b.community_id)
        assert (row_b.modlog_channel_id, row_b.purge_grace_days) == (MODLOG, 7)
        assert row_b.moderator_role_id == "300000000000000001"
    member = await config_caller(config_services, "member-a", moderator=False)
    async with config_services.db.transaction() as s:  # a member's card, that a moderator removes
        s.add(Post(community_id=mod.community_id, member_id=member.member_id, feature="intros",
                   object_id=7, channel_id=INTROS, message_id="42", posted_at=config_services.clock.now()))
    notifier = config_services.notifiers["discord"]
    await run(config_services, mod, remove_post, INTROS, "42", "spam")
    assert [(r.channel_id, r.message_id) for r in notifier.deleted] == [(INTROS, "42")]
    assert [user for user, _, _ in notifier.dms] == ["member-a"]
    assert notifier.posts and notifier.posts[-1][1] == MODLOG  # the modlog heard of it
    with pytest.raises(NotFound):
        await run(config_services, mod, remove_post, INTROS, "42", "again")
    assert await count(config_services.db, Post.__table__) == 0
    async with config_services.db.transaction() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.setting == "post.remove"))
        assert (entry.subject_member_id, entry.new_value) == (member.member_id, "spam")


async def test_deactivate_then_purge_leaves_nothing(config_services: Services,
                                                    notifier: RecordingNotifier, clock) -> None:
    mod = await config_caller(config_services, "mod-a")
    mod_b = await config_caller(config_services, "mod-b", guild=GUILD_B)
    member = await make_caller(config_services, "member-a", guild=GUILD_A, name="Member")
    await run_use_case(config_services, member, submit_intro, await good_form(config_services, member),
                       origin_channel_id="C-1")
    await run(config_services, mod, set_pack, "Duo", "Développement, Design graphique")
    await run(config_services, mod, set_setting, "locale", "en")
    async with config_services.db.transaction() as s:
        await add_profile(s, mod, trades=("Conseil",), skills=("seo",))
        await add_profile(s, mod_b, trades=("Développement",), skills=("seo",))
        await search_members(s, mod, Filters(), page_size=1, today=TODAY, now=clock.now())
    scoped = [t for t in metadata.sorted_tables if "community_id" in t.c]

    async def rows(community_id: int) -> dict[str, int]:
        return {t.name: await count(config_services.db, t, community_id=community_id) for t in scoped}

    before = await rows(mod.community_id)
    assert all(before[name] for name in ("members", "trades", "sectors", "profiles", "profile_trades",
                                         "profile_skills", "profile_links", "posts", "packs",
                                         "audit_entries", "community_settings", "directory_queries"))
    others = await rows(mod_b.community_id)

    assert await deactivate(config_services, "discord", GUILD_A)
    assert await deactivate(config_services, "discord", GUILD_A)  # a repeated signal: still one purge
    async with config_services.db.transaction() as s:
        jobs = list(await s.execute(select(Job.state, Job.due_at).where(Job.kind == PURGE_KIND)))
        community = await s.get(Community, mod.community_id)
    assert len(jobs) == 1 and jobs[0].due_at == clock.now() + timedelta(days=30)
    assert community.active is False and community.deactivated_at == clock.now()
    clock.advance(timedelta(days=29))
    assert await config_services.scheduler.run_due() == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert await config_services.scheduler.run_due() == 1
    assert set((await rows(mod.community_id)).values()) == {0}
    async with config_services.db.transaction() as s:
        assert await s.get(Community, mod.community_id) is None
    assert await rows(mod_b.community_id) == others
