"""Settings a feature declares (test feature `probe`): set, validated, audited, exported, typed on read."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.errors import InvalidInput
from bot.features import Feature, load_features
from bot.settings_registry import Number, SettingSpec, declared_settings, read_setting
from cogs.config import FEATURE as CONFIG
from cogs.config._audit import history
from cogs.config._context import run
from cogs.config._settings import set_setting
from cogs.config._show import show
from cogs.config._transfer import export_settings, import_settings
from storage.models import Community, CommunitySettings, FeatureSetting
from storage.settings import get_settings
from tests.config.conftest import snapshot, with_probe
from tests.e2e.probe import FEATURE as PROBE
from tests.e2e.probe import GROUP_SIZE, NUDGE_DELAY


@pytest.fixture
async def config_services(services):
    """The real features plus `probe`, and its messages."""
    return with_probe(services)


def _text(card) -> str:
    return "\n".join([card.title, card.text or "", *(f"{f.name}: {f.value}" for f in card.fields)])


def test_config_declares_the_core_settings_with_the_defaults_of_their_columns():
    for spec in CONFIG.settings:
        assert spec.column is not None, spec.key
        model = Community if spec.on_community else CommunitySettings
        column = model.__table__.c[spec.column]
        default = column.default.arg if column.default is not None else None
        if callable(default):
            default = default(None)
        assert default == spec.default, spec.key


def test_every_feature_setting_is_namespaced_by_its_feature_and_declared_once():
    features = [*load_features(), PROBE]
    declared_settings(features)  # raises on a key or a file place declared twice
    for feature in features:
        for spec in feature.settings:
            if feature.name != "config":
                assert spec.key.startswith(f"{feature.name}.") and spec.column is None, spec.key
    twice = SettingSpec("probe.group_size", Number(1, 2), 1)
    clash = Feature(name="other", package="tests", settings=(twice,))
    with pytest.raises(ValueError, match="declared twice"):
        declared_settings([*features, clash])


def test_config_channel_sets_every_channel_setting_a_feature_declares():
    """`/config channel` (Discord choices, Slack `config channel <kind>`) names each channel setting,
    config's and features' (pooling's, which /pool's refusal sends moderators to), with a Slack word
    in both languages."""
    from bot.config import SUPPORTED_LOCALES
    from bot.features import locale_folders
    from bot.i18n import Catalog
    from bot.settings_registry import Channel
    from cogs.config._declared import CHANNEL_KINDS

    specs = declared_settings(load_features())
    channels = {key for key, spec in specs.items() if type(spec.kind) is Channel}
    assert set(CHANNEL_KINDS.values()) == channels and "pooling.channel" in channels
    catalog = Catalog.load(locale_folders(load_features()))
    for kind in CHANNEL_KINDS:
        assert all(catalog.has(f"config.slack.channels.{kind}", locale) for locale in SUPPORTED_LOCALES)
    assert catalog.t("fr", "config.slack.channels.pooling") == "achats"


def test_a_default_its_kind_refuses_fails_at_declaration():
    with pytest.raises(ValueError):
        SettingSpec("probe.bad", Number(2, 3), default=9)


async def test_a_declared_setting_is_shown_set_typed_and_audited(config_services, mod):
    shown = _text(await run(config_services, mod, show))
    assert "Réglages des fonctionnalités" in shown
    assert "Délai de relance de la sonde : 2 j" in shown
    assert "Rythme de la sonde : chaque semaine" in shown

    card = await run(config_services, mod, set_setting, "probe.nudge_delay", "3 jours")
    assert "Délai de relance de la sonde: 2 j → 3 j" in _text(card)
    await run(config_services, mod, set_setting, "probe.enabled", "activé")
    # by its name, and a choice by its label
    await run(config_services, mod, set_setting, "Rythme de la sonde", "toutes les deux semaines")
    async with config_services.db.transaction() as s:
        assert await read_setting(s, mod.community_id, NUDGE_DELAY) == 3 * 1440
        assert await read_setting(s, mod.community_id, GROUP_SIZE) == 2  # never set: the default
        assert (await get_settings(s, mod.community_id)).version == 4  # each change bumps the version
    shown = _text(await run(config_services, mod, show))
    assert "Tours de sonde : activé" in shown and "toutes les deux semaines" in shown
    logged = _text(await run(config_services, mod, history))
    assert "Délai de relance de la sonde : 2 j → 3 j" in logged
    assert "Tours de sonde : désactivé → activé" in logged


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("probe.group_size", "9", "un nombre entier entre 2 et 3 est attendu"),
        ("probe.nudge_delay", "8 j", "une durée entre 0 et 7 j est attendue"),
        ("probe.nudge_delay", "bientôt", "n’est pas un délai"),
        ("probe.cadence", "daily", "« daily » n’est pas l’une des valeurs possibles (chaque semaine"),
        ("probe.enabled", "peut-être", "« activé » ou « désactivé » est attendu"),
        ("probe.unknown", "1", "réglage inconnu"),
    ],
)
async def test_bad_values_are_refused_with_a_localized_reason(config_services, mod, name, raw, message):
    before = await snapshot(config_services)
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod, set_setting, name, raw)
    [(key, params)] = caught.value.problems.values()
    assert message in config_services.t("fr", key, **params)
    assert await snapshot(config_services) == before


async def test_a_member_cannot_change_one(config_services, member):
    from bot.errors import Forbidden

    with pytest.raises(Forbidden):
        await run(config_services, member, set_setting, "probe.group_size", "3")


async def test_a_stored_value_that_no_longer_fits_reads_as_the_default(config_services, mod, mod_b):
    await run(config_services, mod, set_setting, "probe.group_size", "3")
    async with config_services.db.transaction() as s:
        assert await read_setting(s, mod_b.community_id, GROUP_SIZE) == 2  # the other community's own
        await s.execute(update(FeatureSetting).values(value="three"))  # e.g. a release changed the kind
        assert await read_setting(s, mod.community_id, GROUP_SIZE) == 2


async def test_export_and_import_round_trip(config_services, mod, mod_b):
    await run(config_services, mod, set_setting, "probe.nudge_delay", "1h30")
    await run(config_services, mod, set_setting, "probe.group_size", "3")
    exported = (await run(config_services, mod, export_settings)).content.decode()
    assert '[probe]\nenabled = false\ncadence = "weekly"\ngroup_size = 3\nnudge_delay = "1h30m"' in exported

    card = await run(config_services, mod_b, import_settings, exported)
    assert "setting" in card.text
    async with config_services.db.transaction() as s:
        assert await read_setting(s, mod_b.community_id, NUDGE_DELAY) == 90
        assert await read_setting(s, mod_b.community_id, GROUP_SIZE) == 3

    before = await snapshot(config_services)
    bad = '[probe]\ngroup_size = 7\ncolour = 1\nenabled = "x"'
    with pytest.raises(InvalidInput) as caught:
        await run(config_services, mod_b, import_settings, bad)
    found = caught.value.problems.items()
    problems = {where: config_services.t("en", key, **params) for where, (key, params) in found}
    assert "a whole number between 2 and 3" in problems["probe.group_size"]
    assert "unknown key" in problems["probe.colour"]
    assert "“on” or “off” is expected" in problems["probe.enabled"]
    assert await snapshot(config_services) == before


async def test_rows_are_scoped_by_community(config_services, mod, mod_b):
    await run(config_services, mod, set_setting, "probe.group_size", "3")
    await run(config_services, mod_b, set_setting, "probe.group_size", "2")  # the default: nothing written
    async with config_services.db.transaction() as s:
        rows = (await s.execute(select(FeatureSetting.community_id, FeatureSetting.key))).all()
    assert rows == [(mod.community_id, "probe.group_size")]
