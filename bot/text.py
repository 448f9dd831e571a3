"""What every piece of user text must pass where it enters: no control characters, a bounded length.

PostgreSQL refuses a NUL character in text (SQLite stores it), and other control characters are
invisible in a card: both platforms check every typed value here before any parser or use case sees
it (Slack: the command text and form values; Discord: command options and modal values).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from bot.errors import InvalidInput

# C0 controls but tab, newline and carriage return; DEL and C1 controls; lone surrogates (not UTF-8);
# the bidirectional embeddings, overrides and isolates (U+202A–202E, U+2066–2069: one left open in a
# title mirrored the bot's own text after it on a card; the marks U+200E/200F stay allowed); and the
# private-use characters that delimit a date (`bot.cards.when`) or a command (`bot.i18n`) in a text:
# typed, they would be read as one by the renderers.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ue000-\ue003]")
CONTROL_KEY = "errors.control_characters"
TOO_LONG_KEY = "errors.text_too_long"


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def refuse_control_characters(values: Mapping[str, object]) -> None:
    """InvalidInput naming every field (key of `values`) whose text holds a control character."""
    problems: dict[str, tuple[str, dict[str, object]]] = {
        name: (CONTROL_KEY, {}) for name, value in values.items()
                if any(has_control_characters(text) for text in _texts(value))}
    if problems:
        raise InvalidInput(problems)


def is_number(text: str) -> bool:
    """Whether `text` is a whole number int() reads: ASCII digits only.

    str.isdigit() also takes "²" (a key of French keyboards) or "٣", which int() refuses: an
    "unexpected error" instead of the field's answer. The one check for typed or sent-back numbers.
    """
    return text.isascii() and text.isdigit()


def bounded(text: str, limit: int, field: str = "text") -> str:
    """`text` when at most `limit` characters, else InvalidInput: call it before parsing free text."""
    if len(text) > limit:
        raise InvalidInput({field: (TOO_LONG_KEY, {"max": limit, "length": len(text)})})
    return text


def web_link(url: str) -> bool:
    r"""Whether `url` may be shown as a link: http(s), a host, nothing disguising where it goes.

    Refused: whitespace and invisible characters; a user part (`https://www.paypal.com@evil.example`
    reads as one site and opens another); a backslash (`https://evil.example\@paypal.com`: browsers
    read it as a slash, Python's parser does not); a host that is not a valid name; anything the URL
    parser cannot read (an unclosed `[`). Every feature's link field calls this.
    """
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True
