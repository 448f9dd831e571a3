"""What every piece of user text must pass where it enters: no control characters, a bounded length.

PostgreSQL refuses a NUL character in text (SQLite stores it), and other control characters are
invisible in a card: both platforms check every typed value here before any parser or use case sees
it (Slack: the command text and form values; Discord: command options and modal values).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.errors import InvalidInput

# C0 controls but tab, newline and carriage return; DEL and C1 controls; lone surrogates (not UTF-8);
# and the private-use characters that delimit a date (`bot.cards.when`) or a command (`bot.i18n`) in
# a text: typed, they would be read as one by the renderers.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\ue003]")
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


def bounded(text: str, limit: int, field: str = "text") -> str:
    """`text` when at most `limit` characters, else InvalidInput: call it before parsing free text."""
    if len(text) > limit:
        raise InvalidInput({field: (TOO_LONG_KEY, {"max": limit, "length": len(text)})})
    return text
