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
    missing = sorted(k for k in keys for loc in ("fr", "en") if not CATALOG.has(k, loc))
    assert missing == []


def test_both_catalogs_have_the_same_keys_and_placeholders():
    fr = {k: v for k, v in CATALOG.messages["fr"].items() if k.startswith("config.")}
    en = {k: v for k, v in CATALOG.messages["en"].items() if k.startswith("config.")}
    assert set(fr) == set(en)
    assert [k for k in fr if placeholders(fr[k]) != placeholders(en[k])] == []


def test_every_setting_and_audited_change_has_a_label():
    from cogs.config._settings import SETTINGS

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
    for name in [*SETTINGS, *audited]:
        assert CATALOG.has(f"config.setting.{name}", "fr") and CATALOG.has(f"config.setting.{name}", "en")
