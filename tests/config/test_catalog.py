"""Every message key the config feature names exists in French and English, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from bot.features import load_features, locale_folders
from bot.i18n import Catalog, placeholders

CATALOG = Catalog.load(locale_folders(load_features()))
SOURCES = Path(__file__).parents[2] / "cogs" / "config"
LITERAL = re.compile(r"""(?<![{\w])["'](config\.[a-z_.]+[a-z_])["']""")


def test_literal_keys_exist_in_both_languages():
    keys = {key for path in SOURCES.glob("*.py") for key in LITERAL.findall(path.read_text())}
    assert len(keys) > 50
    def known(key: str, locale: str) -> bool:  # a key, or the prefix of some (Choice labels)
        return CATALOG.has(key, locale) or any(k.startswith(key + ".") for k in CATALOG.messages[locale])

    missing = sorted(k for k in keys for loc in ("fr", "en") if not known(k, loc))
    assert missing == []


def test_both_catalogs_have_the_same_keys_and_placeholders():
    fr = {k: v for k, v in CATALOG.messages["fr"].items() if k.startswith("config.")}
    en = {k: v for k, v in CATALOG.messages["en"].items() if k.startswith("config.")}
    assert set(fr) == set(en)
    assert [k for k in fr if placeholders(fr[k]) != placeholders(en[k])] == []


def test_every_declared_setting_has_its_names_in_both_languages():
    """Its label (history and modlog lines name it `config.setting.<key>`), each choice, its unit."""
    from bot.settings_registry import Choice, Number, declared_settings

    for spec in declared_settings(load_features()).values():
        keys = [spec.label_key]
        if isinstance(spec.kind, Choice):
            keys += [f"{spec.kind.labels}.{value}" for value in spec.kind.values]
        if isinstance(spec.kind, Number) and spec.kind.unit:
            keys.append(spec.kind.unit)
        for key in keys:
            assert CATALOG.has(key, "fr") and CATALOG.has(key, "en"), (spec.key, key)


def test_every_audited_change_has_a_label():
    audited = {
        "trade.add",
        "trade.rename",
        "trade.remove",
        "trade.channel",
        "sector.add",
        "sector.rename",
        "sector.remove",
        "pack.set",
        "pack.remove",
        "post.remove",
        "import",
    }
    for name in audited:
        assert CATALOG.has(f"config.setting.{name}", "fr") and CATALOG.has(f"config.setting.{name}", "en")
