"""Logging set-up: text for people, JSON lines for log collectors.

In JSON, everything that reaches stderr is one JSON object per line: library warnings (`warnings`),
uncaught exceptions (in the main thread or others) and their tracebacks go through the same handler.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from bot.config import LoggingSettings

# Start-up notices about features Collectif does not use (voice; Alembic's plugin registry), and Bolt
# noticing that the client it is given carries the token it found in the environment: noise.
_UNUSED = {
    "discord.client": ("voice will NOT be supported",),
    "alembic.runtime.plugins": ("setup plugin",),
    "bot.slack_app.bolt": ("`token` will be unused",),
}


# The interaction being handled by the current task: every log line it writes names it (JSON keys).
_INTERACTION: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("collectif_interaction", default=())
INTERACTION_FIELDS = ("community", "feature", "interaction")


def bind_interaction(*, community: str | None, feature: str | None, interaction: str | None) -> None:
    """From here on in this task (an interaction's handler), log lines carry these three fields."""
    _INTERACTION.set(tuple((key, str(value)) for key, value in
                           (("community", community), ("feature", feature), ("interaction", interaction))
                           if value))


class _InteractionFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _INTERACTION.get():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("error_id", "command", "community", "feature", "interaction", "user"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _DropUnused(logging.Filter):
    def __init__(self, needles: tuple[str, ...]) -> None:
        super().__init__()
        self.needles = needles

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not any(needle in message for needle in self.needles)


# The secret part of the platforms' callback URLs. discord.py logs each request's URL at DEBUG
# (`.../interactions/<id>/<token>/callback`, `.../webhooks/<application id>/<token>/messages/@original`),
# slack_sdk each response_url it posts to (`hooks.slack.com/actions/<team>/<id>/<token>`): such a
# token lets whoever reads the log answer and follow up as the bot (15 minutes on Discord, 30 on Slack).
_URL_TOKEN = re.compile(r"(/(?:interactions|webhooks)/\d+/|hooks\.slack\.com/(?:actions|commands)/\w+/\d+/)"
                        r"[^/\s?#'\",;)\]}>]+")
# The loggers that write those URLs (each module's own logger: a filter is not inherited by children).
_URL_LOGGERS = ("discord.http", "discord.webhook.async_", "discord.webhook.sync",
                "slack_sdk.webhook.async_client", "slack_sdk.webhook.client")


def redact_url_tokens(text: str) -> str:
    """Each callback URL's token as ****: `…/interactions/123/<token>/callback` -> `…/123/****/callback`."""
    return _URL_TOKEN.sub(r"\1****", text)


class _RedactUrlTokens(logging.Filter):
    """Keeps the request lines of discord.py's and slack_sdk's loggers, each URL's token as ****."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_url_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("collectif").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        logging.getLogger("collectif").critical(
            "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )


def setup_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_InteractionFields())
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_thread
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    logging.captureWarnings(True)  # `warnings` go through the handler (JSON too), not bare to stderr
    # Libraries are chatty at INFO; their warnings still show.
    for noisy in ("discord.gateway", "discord.client", "apscheduler", "aiosqlite", "slack_bolt"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
    for name, needles in _UNUSED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropUnused) for f in logger.filters):
            logger.addFilter(_DropUnused(needles))
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactUrlTokens) for f in logger.filters):
            logger.addFilter(_RedactUrlTokens())
