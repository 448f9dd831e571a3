"""The central error handler of the Discord runtime: every failed interaction ends here."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import TypeVar

import discord
from discord import app_commands

from bot.discord_bot.replies import answer_locale, expired, send_text
from bot.errors import InvalidInput, UserError

log = logging.getLogger(__name__)
T = TypeVar("T")


def _unwrap(error: BaseException) -> BaseException:
    """The error a command or transformer raised, out of discord.py's wrappers."""
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
            error = error.__cause__
        else:
            return error


def error_id() -> str:
    """A short id the user can quote and the moderators can find in the logs."""
    return secrets.token_hex(4)


def _where(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return "/" + interaction.command.qualified_name
    data: Mapping[str, object] = interaction.data or {}
    return str(data.get("custom_id") or data.get("name") or interaction.type.name)


def user_message(t: Callable[..., str], locale: str, error: UserError) -> str:
    """The localized text of a domain error; InvalidInput lists each problem on its own line."""
    text = t(locale, error.key, **error.params)
    if isinstance(error, InvalidInput):
        lines = [f"• {t(locale, key, **params)}" for key, params in error.problems.values()]
        text = "\n".join([text, *lines])
    return text


async def report_error(interaction: discord.Interaction, error: BaseException) -> str | None:
    """Tell the user what went wrong, exactly once, and log what they cannot fix.

    Errors are handled in this order:

    1. discord.py's wrappers are opened: `CommandInvokeError` gives its `original`,
       `TransformerError` its cause (a transformer may raise a `UserError`).
    2. `bot.errors.UserError` (NotFound, Forbidden, InvalidInput…): its localized message,
       InvalidInput listing each problem. Logged at DEBUG only: the user can fix it.
    3. `app_commands.CheckFailure` (a check refused the caller): `errors.forbidden`.
    4. The interaction expired (10062, or 50027 for a follow-up after 15 minutes): logged as a
       warning, nothing to answer (bot.discord_bot.replies already DMs an outcome it could not send).
    5. `app_commands.CommandNotFound` / `CommandSignatureMismatch` (the user's client still shows
       an old definition until the next sync): `errors.generic`, logged as a warning.
    6. Anything else: logged with the command or component, guild, user and a short error id;
       the user gets `errors.unexpected` with that id. The id is returned.

    The answer is ephemeral, in the caller's language. When the interaction was already answered
    or deferred, it goes as a follow-up, never as a second response; when Discord no longer
    accepts any answer (expired, unknown interaction) the failure is only logged.
    """
    services = interaction.client.services  # type: ignore[attr-defined]
    error = _unwrap(error)
    locale = answer_locale(interaction)
    reference: str | None = None
    if isinstance(error, UserError):
        log.debug("user error %s in %s", error.key, _where(interaction))
        text = user_message(services.t, locale, error)
    elif isinstance(error, app_commands.CheckFailure):
        text = services.t(locale, "errors.forbidden")
    elif expired(error):  # too late to answer at all: expected after a slow step, not a bug
        log.warning("interaction in %s expired before its answer (%s)", _where(interaction),
                    getattr(error, "code", None))
        interaction.extras["outcome"] = "expired"
        return None
    elif isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        log.warning("stale command %s in guild %s: %s", _where(interaction), interaction.guild_id, error)
        text = services.t(locale, "errors.generic")
    else:
        reference = error_id()
        log.error(
            "error %s in %s (guild %s, user %s)",
            reference,
            _where(interaction),
            interaction.guild_id,
            interaction.user.id if interaction.user else None,
            exc_info=error,
            extra={"error_id": reference, "guild_id": interaction.guild_id},
        )
        text = services.t(locale, "errors.unexpected", error_id=reference)
    interaction.extras["outcome"] = "error" if reference else "refused"  # for the metrics
    await _answer(interaction, text)
    return reference


async def _answer(interaction: discord.Interaction, text: str) -> None:
    try:
        await send_text(interaction, text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about an error in %s: %s", _where(interaction), exc)
