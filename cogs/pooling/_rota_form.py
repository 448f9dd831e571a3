"""What a moderator types for a rota task, read and checked: every problem named, nothing saved."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bot.errors import InvalidInput
from bot.text import is_number
from cogs.pooling._rota_time import CADENCES, WEEKDAYS

MAX_NAME = 80
MAX_DESCRIPTION = 500
MAX_TRADES_TEXT = 300
MAX_TRADES = 10
MAX_TASKS = 20  # a community's active tasks: each gets a button on the /tasks card (Discord holds 25)
Problems = dict[str, tuple[str, dict[str, Any]]]


@dataclass
class TaskForm:
    """The typed values: trades as names typed (Discord) or as trade ids chosen (Slack)."""

    name: str = ""
    description: str = ""
    cadence: str = ""
    weekday: str = ""
    trades: str = ""
    trade_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskDetails:
    name: str
    key: str
    description: str
    cadence: str
    weekday: str
    trade_ids: tuple[int, ...]


def task_key(name: str) -> str:
    """The folded form of a task's name (case, accents, spacing): one task per key."""
    decomposed = unicodedata.normalize("NFKD", " ".join(name.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))[:MAX_NAME]


def _trades(form: TaskForm, known: list[tuple[int, str]]) -> tuple[tuple[int, ...], Problems]:
    """The chosen trades, from names typed ("Design, Développement") or ids chosen; none: anyone."""
    by_key = {task_key(name): tid for tid, name in known}
    ids = {tid for tid, _ in known}
    chosen: list[int] = []
    text = form.trades.strip()
    if len(text) > MAX_TRADES_TEXT:
        too_long = {"max": MAX_TRADES_TEXT, "length": len(text)}
        return (), {"trades": ("pooling.tasks.problems.too_long", too_long)}
    for piece in text.replace(";", ",").split(","):
        if not piece.strip():
            continue
        found = by_key.get(task_key(piece.strip().lstrip("#")))
        if found is None:
            return (), {"trades": ("pooling.tasks.problems.trade_unknown", {"name": piece.strip()[:50]})}
        chosen.append(found)
    for value in form.trade_ids[:MAX_TRADES + 1]:
        if not (is_number(value) and len(value) <= 9 and int(value) in ids):
            return (), {"trades": ("pooling.tasks.problems.trade_unknown", {"name": value[:50]})}
        chosen.append(int(value))
    unique = tuple(dict.fromkeys(chosen))
    if len(unique) > MAX_TRADES:
        return (), {"trades": ("pooling.tasks.problems.trades_too_many", {"max": MAX_TRADES})}
    return unique, {}


def validate_task(form: TaskForm, known_trades: list[tuple[int, str]]) -> TaskDetails:
    """The form read, or InvalidInput naming every field to fix."""
    problems: Problems = {}
    name = " ".join(form.name.split())
    if not name:
        problems["name"] = ("pooling.tasks.problems.name_missing", {})
    elif len(name) > MAX_NAME:
        problems["name"] = ("pooling.tasks.problems.too_long", {"max": MAX_NAME, "length": len(name)})
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = (
            "pooling.tasks.problems.too_long", {"max": MAX_DESCRIPTION, "length": len(description)})
    if form.cadence not in CADENCES:
        problems["cadence"] = ("pooling.tasks.problems.cadence", {})
    if form.weekday not in WEEKDAYS:
        problems["weekday"] = ("pooling.tasks.problems.weekday", {})
    trade_ids, found = _trades(form, known_trades)
    problems.update(found)
    if problems:
        raise InvalidInput(problems)
    return TaskDetails(name, task_key(name), description, form.cadence, form.weekday, trade_ids)
