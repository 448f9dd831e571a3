import re

import pytest

from bot.config import SUPPORTED_LOCALES
from bot.features import all_commands, load_features, locale_folders
from bot.i18n import Catalog, Plural, placeholders, resolve_locale

DISCORD_NAME = re.compile(r"^[-_\w]{1,32}$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def test_every_key_exists_in_every_language(catalog):
    keys = {locale: set(catalog.messages[locale]) for locale in SUPPORTED_LOCALES}
    every = set().union(*keys.values())
    missing = {locale: sorted(every - found) for locale, found in keys.items() if every - found}
    assert not missing, f"keys missing per language: {missing}"


def test_placeholders_are_the_same_in_every_language(catalog):
    differ = []
    for key, text in catalog.messages["en"].items():
        for locale in SUPPORTED_LOCALES:
            other = catalog.messages[locale].get(key)
            if other is not None and placeholders(other) != placeholders(text):
                differ.append((key, locale))
    assert not differ


def test_every_command_is_named_and_described_in_both_languages(catalog):
    for command in all_commands(load_features()):
        for locale in SUPPORTED_LOCALES:
            name = catalog.messages[locale].get(command.name_key)
            description = catalog.messages[locale].get(command.description_key)
            assert name and DISCORD_NAME.match(name) and name == name.lower(), (command.name, locale, name)
            assert description and len(description) <= 100, (command.name, locale)
        assert catalog.messages["en"][command.name_key] == command.name


def test_translation_and_fallbacks():
    catalog = Catalog({"fr": {"a": "Bonjour {name}"}, "en": {"a": "Hello {name}", "b": "Only English"}})
    assert catalog.t("fr", "a", name="Ada") == "Bonjour Ada"
    assert catalog.t("fr", "b") == "Only English"
    assert catalog.t("en", "unknown.key") == "unknown.key"
    assert catalog.t("fr", "a") == "Bonjour {name}"  # a missing value never crashes a reply


def test_a_clash_between_two_catalog_files_is_refused(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "en.toml").write_text('[x]\ny = "z"\n')
    with pytest.raises(ValueError, match="already defined"):
        Catalog.load([tmp_path / "one", tmp_path / "two"])


@pytest.mark.parametrize(
    ("platform", "community", "expected"),
    [("fr", "en", "fr"), ("en-US", "fr", "en"), ("en-GB", "fr", "en"), ("fr-FR", "en", "fr"),
     ("de", "fr", "fr"), (None, "en", "en"), ("pt-BR", "xx", "en")],
)
def test_resolve_locale(platform, community, expected):
    assert resolve_locale(platform, community) == expected


def test_plural_messages_follow_each_language_rules():
    catalog = Catalog({
        "fr": {"n": Plural({"one": "{count} salon", "other": "{count} salons"})},
        "en": {"n": Plural({"one": "{count} channel", "other": "{count} channels"})},
    })
    assert [catalog.t("fr", "n", count=n) for n in (0, 1, 2)] == ["0 salon", "1 salon", "2 salons"]
    assert [catalog.t("en", "n", count=n) for n in (0, 1, 2)] == ["0 channels", "1 channel", "2 channels"]
