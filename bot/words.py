"""Words members type (Slack subcommands, search filters) matched to values, in French or English."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.config import SUPPORTED_LOCALES
from bot.i18n import Catalog
from storage.text import fold

MAX_WORD = 100  # longer than any spelling: refused before folding


def _key(text: str) -> str:
    # "occupé·e" (inclusive writing) is typed with or without its middle dot.
    return fold(text).replace("·", "")


def match_word(text: str, choices: Mapping[str, Iterable[str]]) -> str | None:
    """The value `text` names, or None: {"busy": ["occupé·e", "busy"]} reads "Occupée" as "busy".

    Case, accents, ligatures, spacing and middle dots are ignored; a value is always one of its own
    spellings. The first value listing a spelling wins.
    """
    if len(text) > MAX_WORD:
        return None
    wanted = _key(text)
    if not wanted:
        return None
    for value, spellings in choices.items():
        if wanted == _key(value) or any(wanted == _key(spelling) for spelling in spellings):
            return value
    return None


def catalog_words(catalog: Catalog, keys: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """{value: its name in every language} for `match_word`, from {value: catalog key}."""
    return {value: tuple(catalog.t(loc, key) for loc in SUPPORTED_LOCALES) for value, key in keys.items()}
