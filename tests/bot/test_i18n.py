import re

import pytest

from bot.config import SUPPORTED_LOCALES
from bot.features import all_commands, load_features, locale_folders
from bot.i18n import COMMAND, Catalog, Plural, expand_commands, placeholders, resolve_locale
from storage.text import fold

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


COMMAND_IN_TEXT = re.compile(r"(?<![\w/{}:.<])/([a-zé][\w-]*)")


async def discord_names(services) -> dict[str, dict[str, tuple[str, dict]]]:
    """Per locale, each command's name as Discord shows it -> its subcommands and groups, nested."""
    from bot.discord_bot.client import CollectifBot
    from bot.discord_bot.sync import command_payloads

    bot = CollectifBot(services)
    try:
        await bot.setup_hook()
        payloads = await command_payloads(bot.tree)
    finally:
        await bot.http.close()

    def named(items, locale: str) -> dict[str, tuple[str, dict]]:
        return {(o.get("name_localizations") or {}).get(DISCORD[locale], o["name"]):
                (o["name"], named([s for s in o.get("options") or () if s.get("type") in (1, 2)], locale))
                for o in items}

    return {locale: named([p for p in payloads if p.get("type", 1) == 1], locale) for locale in DISCORD}


DISCORD = {"fr": "fr", "en": "en-US"}


async def test_texts_name_commands_as_discord_shows_them_in_their_language(services, catalog):
    """"relancez {/equipe}", "{/config historique}": a command in a text is written `{/…}` with the words
    the text's language shows on Discord (name_localizations of the synced payloads), so it is exactly
    right there, and on Slack too, whose router accepts the localized names (`/collectif equipe`)."""
    names = await discord_names(services)
    assert "equipe" in names["fr"] and "historique" in names["fr"]["config"][1]
    wrong = []
    for locale in SUPPORTED_LOCALES:
        for key, text in texts(catalog, locale):
            for found in COMMAND.finditer(text):
                level = names[locale]
                for word in found[2].split():
                    if word not in level:
                        wrong.append((locale, key, found[2]))
                        break
                    level = level[word][1]
    assert wrong == []


async def test_every_command_a_text_names_is_written_as_a_command(services, catalog):
    """A bare "/config" or "/intro" in a text would read as a Discord command on Slack too."""
    names = await discord_names(services)
    every = {name for locale in SUPPORTED_LOCALES for name in names[locale]}
    bare = [(locale, key, found[0]) for locale in SUPPORTED_LOCALES for key, text in texts(catalog, locale)
            for found in COMMAND_IN_TEXT.finditer(COMMAND.sub("", text)) if found[1] in every]
    assert bare == []


def test_every_command_in_a_text_shows_as_each_platform_types_it(catalog):
    """Each text naming a command, as Discord shows it ("/presentation") and as Slack does
    ("/collectif presentation", the words its router reads as that command)."""
    from bot.rendering.discord import flat, rich
    from bot.rendering.slack import escape, plain

    commands = all_commands(load_features())
    slack_words = {fold(catalog.t(locale, c.name_key)) for c in commands for locale in SUPPORTED_LOCALES}
    seen = 0
    for locale in SUPPORTED_LOCALES:
        for key, text in texts(catalog, locale):
            words = [found[2] for found in COMMAND.finditer(text)]
            if not words:
                continue
            seen += 1
            for discord_text in (rich(text, 6000), flat(text, 6000)):
                assert all(f"/{w}" in discord_text for w in words), (locale, key, discord_text)
                assert "/collectif" not in discord_text, (locale, key, discord_text)
                assert not MARKS.search(discord_text), (locale, key, discord_text)
            for slack_text in (escape(text), plain(text, 6000)["text"]):
                assert all(f"/collectif {w}" in slack_text for w in words), (locale, key, slack_text)
                assert not MARKS.search(slack_text), (locale, key, slack_text)
            assert all(fold(w.split()[0]) in slack_words for w in words), (locale, key, words)
    assert seen >= 40  # about 25 texts in each language


MARKS = re.compile("[\ue002\ue003]")


def test_a_command_in_a_text_follows_the_slack_command_and_survives_formatting():
    catalog = Catalog({"fr": {"a": "Relancez {/equipe} pour {name}."}, "en": {}}, slack_command="/coll")
    text = catalog.t("fr", "a", name="Ada")
    assert expand_commands(text, "discord") == "Relancez /equipe pour Ada."
    assert expand_commands(text, "slack") == "Relancez /coll equipe pour Ada."
    assert placeholders(catalog.messages["fr"]["a"]) == {"name"}


def test_discord_form_labels_fit_without_being_cut(catalog: Catalog) -> None:
    """Discord cuts a text input's label at 45 characters: « Compétences (séparées par des virgules,
    15 m… » lost its limit."""
    label = re.compile(r"^\w+\.form\.\w+_label$")
    too_long = [(locale, key, len(text)) for locale in SUPPORTED_LOCALES
                for key, text in catalog.messages[locale].items()
                if label.match(key) and isinstance(text, str) and len(text) > 45]
    assert too_long == []


@pytest.mark.parametrize("key", ["config.errors.import_kept_trades", "config.errors.import_kept_sectors"])
def test_the_imports_count_of_trades_is_pluralised(catalog: Catalog, key: str) -> None:
    fr = catalog.t("fr", key, count=1, names="SEO", max=25)
    en = catalog.t("en", key, count=1, names="SEO", max=25)
    assert "1 métiers" not in fr and "1 secteurs" not in fr and "1 trades" not in en and "1 sectors" not in en
