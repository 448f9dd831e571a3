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


def texts(catalog: Catalog, locale: str):
    """(key, text) for every message of `locale`, each form of a plural table."""
    for key, message in catalog.messages[locale].items():
        for text in message.forms.values() if isinstance(message, Plural) else [message]:
            yield key, text


def test_counts_use_plural_tables_not_parenthesised_plurals(catalog):
    """"1 réponse(s)", "relecteur·rice(s) anonyme(s)": a plural table chooses the form (not "http(s)")."""
    found = [(locale, key) for locale in SUPPORTED_LOCALES for key, text in texts(catalog, locale)
             if re.search(r"(?<!http)\(s\)", text)]
    assert found == []


def test_french_writes_the_typographic_apostrophe(catalog):
    """Every French catalog writes ’ (l’aide, n’est…): one DM never mixes it with ' (d'abord)."""
    assert sorted({key for key, text in texts(catalog, "fr") if re.search(r"\w'\w", text)}) == []


def test_french_says_vous(catalog):
    """French says vous (« vos données », « votre profil »): never « ta publication », « tes messages »."""
    tu = re.compile(r"\b(tu|ta|tes|toi|te|tien|tienne|tiens)\b|\bt’|\bton\s+\w", re.IGNORECASE)
    assert [key for key, text in texts(catalog, "fr") if tu.search(text)] == []


COMMAND_IN_TEXT = re.compile(r"(?<![\w/{}:.])/([a-zé][\w-]*)(?: ([a-zé][\w-]*))?")


async def test_french_texts_name_commands_as_french_discord_shows_them(services, catalog):
    """"relancez /match" where French Discord shows /equipe, "/config history" for /config historique:
    the names come from the payloads synced to Discord (name_localizations), so they are exactly right."""
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.sync import command_payloads

    bot = CollectifBot(services)
    try:
        await bot.setup_hook()
        payloads = await command_payloads(bot.tree)
    finally:
        await bot.http.close()
    french: dict[str, tuple[str, dict[str, str]]] = {}
    for p in payloads:
        if p.get("type", 1) == 1:
            subs = {o["name"]: (o.get("name_localizations") or {}).get("fr", o["name"])
                    for o in p.get("options") or () if o.get("type") in (1, 2)}
            french[p["name"]] = ((p.get("name_localizations") or {}).get("fr", p["name"]), subs)
    assert french["match"][0] == "equipe" and french["config"][1]["history"] == "historique"
    english = []
    for key, text in texts(catalog, "fr"):
        for found in COMMAND_IN_TEXT.finditer(text):
            command, sub = found[1], found[2]
            if command not in french:
                continue
            name, subs = french[command]
            if name != command or (sub in subs and subs[sub] != sub):
                english.append((key, found[0]))
    assert english == []
