"""Command names and descriptions localized from the message catalogs (Discord's app_commands.Translator).

A cog names its texts by catalog key, never by literal sentence:

    @app_commands.command(**command_texts(SPEC))
    @app_commands.describe(member=keyed("profile.params.member"))

The message of a `keyed` string is its key; `sync.command_payloads` replaces that default by the
English text (Discord shows the default to every locale without a localization).
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextTypes, locale_str

from bot.features import CommandSpec
from bot.i18n import Catalog, expand_commands

# Discord's locales we answer in; other locales see the default (English) texts.
DISCORD_LOCALES: dict[Locale, str] = {
    Locale.french: "fr",
    Locale.american_english: "en",
    Locale.british_english: "en",
}


def keyed(key: str) -> locale_str:
    """A text that the Translator looks up in the catalog by `key`."""
    return locale_str(key, key=key)


def command_texts(spec: CommandSpec) -> dict[str, locale_str]:
    """`name` and `description` arguments for `app_commands.command` / `Group` of a CommandSpec."""
    return {"name": locale_str(spec.name, key=spec.name_key), "description": keyed(spec.description_key)}


class CatalogTranslator(app_commands.Translator):
    """Looks up `locale_str(..., key=...)` in the catalog for French and English."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def translate(
        self, string: locale_str, locale: Locale, context: TranslationContextTypes
    ) -> str | None:
        key = string.extras.get("key")
        language = DISCORD_LOCALES.get(locale)
        if key is None or language is None or not self.catalog.has(key, language):
            return None
        return expand_commands(self.catalog.t(language, key), "discord")
