"""Message catalogs (fr, en): TOML files in bot/locales and in each feature's locales/ folder.

A message is a string, or a plural table chosen by the `count` value with CLDR's rules for the
locale (Babel): `posted = { one = "Posted in {count} channel.", other = "Posted in {count} channels." }`.
French says "0 salon" and "1 salon" (one), English "0 channels" (other): the rules, not `count == 1`,
decide. A missing form falls back to `other`.

A text names a command as `{/presentation}` or `{/taches ajouter}`: the words the locale's Discord
shows (tests/bot/test_i18n.py checks them against the synced commands). Members type it differently
on each platform, so `t()` gives a marker (`command_marker`) that each platform's renderer expands with
`expand_commands`: "/taches ajouter" on Discord, "/collectif taches ajouter" on Slack.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale  # 1.8 MiB RSS at import (measured); plural rules load per locale on use

from bot.config import SUPPORTED_LOCALES

log = logging.getLogger(__name__)
FALLBACK_LOCALE = "en"


PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})
# `{/intro}`, `{/tasks add}` in a catalog text.
COMMAND_TOKEN = re.compile(r"\{/([^{}/\s][^{}/]*)\}")
# What `t()` gives for one: the Slack invocation between two private-use characters that typed text
# cannot hold (bot.text refuses them), like the dates of `bot.cards.when`.
COMMAND = re.compile("\ue002([^\ue002\ue003 ]+) ([^\ue002\ue003]+)\ue003")
DEFAULT_SLACK_COMMAND = "/collectif"


def command_marker(words: str, slack_command: str = DEFAULT_SLACK_COMMAND) -> str:
    """A command in a text (`words` as the locale names it: "taches ajouter"), for the renderers."""
    return f"\ue002{slack_command} {words}\ue003"


def expand_commands(text: str, platform: str) -> str:
    """`text` with each command marker in `platform`'s form.

    Slack: "/collectif taches ajouter" (`SlackRequest.invocation`'s form); Discord: "/taches ajouter".
    """
    if "\ue002" not in text:
        return text
    return COMMAND.sub(r"\1 \2" if platform == "slack" else r"/\2", text)


@dataclass(frozen=True)
class Plural:
    """The forms of a message that depends on a count (CLDR categories: one, many, other…)."""

    forms: Mapping[str, str]

    def choose(self, locale: str, count: Any) -> str:
        try:
            form = _plural_rule(locale)(abs(count))
        except (TypeError, ValueError):
            form = "other"
        return self.forms.get(form) or self.forms["other"]


Message = str | Plural


@lru_cache(maxsize=8)
def _plural_rule(locale: str) -> Any:
    return Locale.parse(locale).plural_form


def _is_plural(value: Mapping[str, Any]) -> bool:
    return "other" in value and set(value) <= PLURAL_FORMS and all(isinstance(v, str) for v in value.values())


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, Message]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping) and _is_plural(value):
            out[full] = Plural(dict(value))
        elif isinstance(value, Mapping):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


def placeholders(text: Message) -> set[str]:
    """The `{name}` placeholders a message uses (a plural: those of all its forms, and `count`)."""
    if isinstance(text, Plural):
        return {"count"}.union(*(placeholders(form) for form in text.forms.values()))
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Catalog:
    """Translations by locale and dotted key; `t()` formats with named values."""

    def __init__(self, messages: Mapping[str, Mapping[str, Message]], *,
                 slack_command: str = DEFAULT_SLACK_COMMAND) -> None:
        def marked(text: str) -> str:
            return COMMAND_TOKEN.sub(lambda m: command_marker(" ".join(m[1].split()), slack_command), text)

        self.messages = {
            locale: {key: Plural({f: marked(v) for f, v in m.forms.items()}) if isinstance(m, Plural)
                     else marked(m) for key, m in table.items()}
            for locale, table in messages.items()
        }

    @classmethod
    def load(cls, folders: Iterable[Path], *, slack_command: str = DEFAULT_SLACK_COMMAND) -> Catalog:
        messages: dict[str, dict[str, Message]] = {locale: {} for locale in SUPPORTED_LOCALES}
        for folder in folders:
            for locale in SUPPORTED_LOCALES:
                path = folder / f"{locale}.toml"
                if not path.is_file():
                    continue
                with path.open("rb") as fh:
                    flat: dict[str, Message] = {}
                    _flatten("", tomllib.load(fh), flat)
                clash = set(flat) & set(messages[locale])
                if clash:
                    raise ValueError(f"{path}: keys already defined elsewhere: {sorted(clash)[:3]}")
                messages[locale].update(flat)
        return cls(messages, slack_command=slack_command)

    def has(self, key: str, locale: str = FALLBACK_LOCALE) -> bool:
        return key in self.messages.get(locale, {})

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        """The message `key` in `locale` (falling back to English, then to the key itself).

        A plural message takes its form from `count` (a missing count reads as "other").
        """
        message = self.messages.get(locale, {}).get(key)
        if message is None:
            log.warning("missing message %s for %s", key, locale)
            message, locale = self.messages[FALLBACK_LOCALE].get(key, key), FALLBACK_LOCALE
        text = message.choose(locale, params.get("count")) if isinstance(message, Plural) else message
        try:
            return text.format(**params) if params or "{" in text else text
        except (KeyError, IndexError, ValueError):
            log.exception("bad placeholders in message %s (%s)", key, locale)
            return text


    def problem_lines(self, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]],
                      feature: str) -> list[str]:
        """One line per field to fix ("Trades: choose between 1 and 3."), in a feature's own words.

        `<feature>.problems.line` with `<feature>.fields.<field>` and the problem's message.
        """
        return [
            self.t(locale, f"{feature}.problems.line", field=self.t(locale, f"{feature}.fields.{name}"),
                   problem=self.t(locale, key, **params))
            for name, (key, params) in problems.items()
        ]

    def problems_text(self, locale: str, problems: Mapping[str, tuple[str, dict[str, Any]]],
                      feature: str) -> str:
        """`<feature>.problems.heading`, then a line per field to fix."""
        return "\n".join([self.t(locale, f"{feature}.problems.heading"),
                          *self.problem_lines(locale, problems, feature)])
    def all_locales(self, key: str, /, **params: Any) -> dict[str, str]:
        return {locale: self.t(locale, key, **params) for locale in SUPPORTED_LOCALES}


def supported_locale(platform_locale: str | None) -> str | None:
    """The supported short form of a platform's locale ("fr-FR" -> "fr"), None when unsupported.

    Discord gives "fr", "en-US", "en-GB"; Slack gives "fr-FR", "en-US".
    """
    if platform_locale:
        short = platform_locale.replace("_", "-").split("-")[0].lower()
        if short in SUPPORTED_LOCALES:
            return short
    return None


def resolve_locale(platform_locale: str | None, community_locale: str) -> str:
    """The reply language: the user's when the platform gives a supported one, else the community's."""
    return supported_locale(platform_locale) or (
        community_locale if community_locale in SUPPORTED_LOCALES else FALLBACK_LOCALE
    )
