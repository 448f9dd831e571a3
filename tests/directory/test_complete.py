from __future__ import annotations

from datetime import date

import pytest

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from cogs.directory._complete import available_choices, sector_choices, trade_choices
from tests.directory.factory import add_profile, city_choices, skill_choices
from tests.fakes.callers import caller_for

CATALOG = Catalog.load(locale_folders(load_features()))


@pytest.fixture
def db(any_db):
    """Every test here once on SQLite and once on PostgreSQL (the same SQL must run on both)."""
    return any_db


async def test_trades_prefix_then_contains_with_ids(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        choices = await trade_choices(s, me.community_id, "de")
        assert [c.name for c in choices] == ["Développement", "Design graphique", "Vidéo / motion design",
                                                 "UX / UI design"]
        assert all(c.value.isdigit() for c in choices)
        assert len(await trade_choices(s, me.community_id, "")) == 10
        assert [c.name for c in await sector_choices(s, me.community_id, "SANTE")] == ["Santé"]


async def test_skills_and_cities_come_from_listed_profiles_of_this_community(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a"), skills=("SEO", "Webflow", "Wordpress"), city="Lyon")
        await add_profile(s, await caller_for(s, "b"), skills=("Web design",), city="Lille")
        await add_profile(s, await caller_for(s, "h"), skills=("Webpack",), city="Lorient", listed=False)
        await add_profile(s, await caller_for(s, "x", guild="g2"), skills=("Webgl",), city="Lens")

        web = await skill_choices(s, me.community_id, "fr", "web")
        assert [c.value for c in web] == ["web design", "webflow"]
        # an alias prefix finds its canonical tag ("référ" -> seo); the value is the searchable key
        assert [(c.name, c.value) for c in await skill_choices(s, me.community_id, "fr", "référ")] == [
            ("SEO", "seo")]
        assert [c.value for c in await skill_choices(s, me.community_id, "fr", "press")] == ["wordpress"]
        assert len(await skill_choices(s, me.community_id, "fr", "")) == 4
        assert [c.name for c in await city_choices(s, me.community_id, "l")] == ["Lille", "Lyon"]
        assert [c.name for c in await city_choices(s, me.community_id, "yo")] == ["Lyon"]


async def test_at_most_25_choices(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        for i in range(40):
            await add_profile(s, await caller_for(s, f"u{i}"), skills=(f"tool{i:02d}",),
                              city=f"Ville {i:02d}")
        assert len(await skill_choices(s, me.community_id, "fr", "tool")) == 25
        assert len(await skill_choices(s, me.community_id, "fr", "")) == 25
        assert len(await city_choices(s, me.community_id, "ville")) == 25
        assert len(await city_choices(s, me.community_id, "")) == 25


def test_available_choices_offer_now_and_dates():
    today = date(2026, 11, 26)
    choices = available_choices(CATALOG, "fr", "", today)
    assert choices[0].value == "now"
    assert choices[0].name == "Disponible maintenant"
    assert choices[1].value == "2026-12-03"
    assert choices[1].name == "D’ici une semaine (3 décembre 2026)"
    assert [c.value for c in available_choices(CATALOG, "en", "now", today)] == ["now"]
    assert [c.value for c in available_choices(CATALOG, "en", "2027-01-05", today)] == ["2027-01-05"]


async def test_several_skills_complete_the_last_one(db):
    async with db.transaction() as s:
        me = await caller_for(s, "me")
        await add_profile(s, await caller_for(s, "a"), skills=("SEO", "WordPress"))
        choices = await skill_choices(s, me.community_id, "fr", "seo , word")
    assert [(c.name, c.value) for c in choices] == [("seo, WordPress", "seo, wordpress")]
