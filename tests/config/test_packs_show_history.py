"""Packs, the /config show card and /config history."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput, NotFound
from cogs.config._audit import history
from cogs.config._context import run
from cogs.config._packs import packs, remove_pack, set_pack
from cogs.config._settings import set_setting
from cogs.config._show import show
from cogs.config._trades import add_trade, bind_trade
from tests.config.conftest import DEV, INTROS, directory_a, snapshot


async def _packs(services, caller, locale=None):
    async with services.db.transaction() as s:
        return await packs(s, caller.community_id, locale)


async def test_default_packs_in_each_language(config_services, mod, mod_b):
    assert await _packs(config_services, mod, "fr") == [
        ("Site vitrine", ["Rédaction web", "Design graphique", "SEO / SEA", "Développement"]),
        ("Identité visuelle", ["Design graphique", "Rédaction web", "Photographie"]),
    ]
    assert await _packs(config_services, mod_b, "en") == [
        ("Showcase website", ["Web writing", "Graphic design", "SEO / SEA", "Development"]),
        ("Visual identity", ["Graphic design", "Web writing", "Photography"]),
    ]


async def test_set_replace_and_remove_a_pack(config_services, mod):
    await run(config_services, mod, add_trade, "UX writing")
    card = await run(
        config_services, mod, set_pack, "Application", "ux writing, Développement, UX / UI design"
    )
    assert "UX writing, Développement, UX / UI design" in card.text
    await run(config_services, mod, set_pack, "application", ["Développement"])
    await run(config_services, mod, remove_pack, "Site vitrine")
    assert await _packs(config_services, mod, "fr") == [
        ("Identité visuelle", ["Design graphique", "Rédaction web", "Photographie"]),
        ("application", ["Développement"]),
    ]  # the removed default does not come back


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (
            ("Pack", "Développement, Astrologie, Alchimie"),
            ["le pack cite « Astrologie »", "le pack cite « Alchimie »"],
        ),
        (("Pack", ""), ["au moins un métier"]),
        (("", "Développement"), ["le nom est vide"]),
        (("P" * 51, "Développement"), ["50 au plus"]),
    ],
)
async def test_a_pack_naming_an_unknown_trade_is_refused(config_services, mod, args, messages):
    await _packs(config_services, mod, "fr")
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, set_pack, *args)
    texts = [config_services.t("fr", k, **p) for k, p in caught.value.problems.values()]
    assert all(any(m in t for t in texts) for m in messages)
    assert await snapshot(config_services) == before


async def test_remove_unknown_pack(config_services, mod, mod_b):
    await run(config_services, mod_b, set_pack, "B only", "Development")
    with pytest.raises(NotFound):
        await run(config_services, mod, remove_pack, "B only")


async def test_show_has_everything(config_services, mod):
    directory = directory_a()
    await run(config_services, mod, set_setting, "channel.intros", INTROS, directory=directory)
    await run(config_services, mod, bind_trade, "Développement", DEV, directory=directory)
    card = await run(config_services, mod, show, directory=directory)
    fields = {f.name: f.value for f in card.fields}
    assert card.title == "Réglages de Guild 1"
    assert "Salon des présentations : #presentations" in fields["Salons"]
    assert fields["Langue"] == "Français"
    assert fields["Fuseau horaire"] == "Europe/Paris"
    assert fields["Rappels d’afterwork"] == "24 h, 1 h"
    assert "Missions par membre et par semaine : 3" in fields["Limites de publication"]
    assert "Développement → #dev" in fields["Métiers (10)"]
    assert "Mode" in fields["Secteurs (10)"]
    assert (
        "Site vitrine : Rédaction web + Design graphique + SEO / SEA + Développement"
        in fields["Packs de collaboration"]
    )
    assert "30 jours" in fields["Données conservées après retrait (jours)"]
    assert "Version 2" in card.footer  # trades are rows of their own: they do not bump the version


async def test_history_lists_the_latest_changes_newest_first(config_services, mod, clock):
    from datetime import timedelta

    await run(config_services, mod, set_setting, "locale", "en")
    clock.advance(timedelta(minutes=5))
    await run(config_services, mod, set_setting, "reminders", "2h")
    card = await run(config_services, mod, history)
    assert card.title == "Derniers changements de réglages"
    assert [f.name for f in card.fields] == ["2026-11-26 11:05", "2026-11-26 11:00"]
    assert card.fields[0].value == "User mod-a · Rappels d’afterwork : 24 h, 1 h → 2 h"
    assert card.fields[1].value == "User mod-a · Langue : Français → English"
