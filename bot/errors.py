"""Domain errors that carry what the user must be told (a catalog key and its values)."""

from __future__ import annotations

from typing import Any

# Exceptions that mean a bug in the bot, not a platform outage: raised where a platform failure is
# caught to retry or tell the member (the outbox, a card's post), since no retry would mend them.
BUGS = (TypeError, AttributeError, LookupError, ValueError, AssertionError, NameError)


class UserError(Exception):
    """A known problem the user can fix; shown as a localized ephemeral message."""

    key = "errors.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class NotFound(UserError):
    """The object does not exist in this community (same answer whether it exists elsewhere or not)."""

    key = "errors.not_found"


class Forbidden(UserError):
    """The caller may not do this (e.g. a moderator-only action)."""

    key = "errors.forbidden"


class InvalidInput(UserError):
    """One or more fields are wrong: `problems` maps a field name to (catalog key, values)."""

    key = "errors.invalid_input"

    def __init__(self, problems: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__(self.key)
        self.problems = problems
