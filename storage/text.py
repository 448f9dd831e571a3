"""Folding of names for uniqueness and search: case, accents, ligatures and spacing ignored."""

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii  # 2 MiB RSS at import (measured), used on the first non-ASCII letter

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def _latin(char: str) -> str:
    """A Latin letter NFKD leaves whole ("œ", "æ", "ø", "ł") spelled in ASCII; other scripts kept.

    Only Latin letters are transliterated: a city or skill typed in Cyrillic or Arabic must still be
    found as typed, not under a romanization nobody types.
    """
    return anyascii(char) if unicodedata.name(char, "").startswith("LATIN") else char


def fold(text: str) -> str:
    """"  Rédaction   Web " -> "redaction web"; "Œuvre" -> "oeuvre"."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(_latin(c) if ord(c) > 127 else c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().casefold()


def city_key(city: str) -> str:
    """The folded words of a city: "Saint-Étienne", "saint etienne" and "Saint Etienne" are one place.

    Hyphens, apostrophes and other punctuation count as spaces ("L'Isle-d'Abeau" is "l isle d abeau").
    """
    return " ".join("".join(c if c.isalnum() else " " for c in fold(city[:200])).split())[:100]
