"""The tenant-isolation case registry: what a feature declares so that tests/test_tenant_isolation.py
tries every id it accepts from the outside against another community's objects.

A feature adds `tests/<feature>/tenant_cases.py` next to its tests (found through the feature
registry, bot/features.py) with:

- `CASES: list[Case]`: each calls one use case as a member of community A with the id of an object
  of community B (`target`, a key of `World.ids`), and with an id of nothing (`missing`); both must
  fail alike and change no row. `covers` names example interaction ids the case stands for (e.g.
  `"intros:edit:42"`): every action, select and form id pattern registered on Slack or Discord with a
  capture group must match one of them.
- `async def seed(services, world)` (optional): creates the feature's objects, A's and B's, and
  records B's in `world.ids`. Seeds run in registry order (intros' profiles before the directory's
  searches).
- `WITHOUT_OBJECT_IDS: dict[str, str]` (optional): example ids of patterns whose groups name no stored
  object (a page number, a form field), with the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bot.community_time import community_today
from bot.context import Caller
from bot.errors import NotFound, UserError
from bot.features import Feature
from bot.services import Services

NOWHERE = 987_654  # an id of nothing at all


@dataclass
class World:
    """Community A (the caller's) and B (the target's), two members each; B's objects by name."""

    a: Caller  # the member of A who tries
    a_other: Caller
    b: Caller
    b_other: Caller
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # key of World.ids: B's object
    call: Callable[[Services, Caller, Any], Awaitable[object]]
    missing: Any = NOWHERE
    error: type[UserError] = NotFound
    covers: tuple[str, ...] = ()  # example interaction ids this case stands for


async def in_session(services: Services, use: Callable[[Any], Awaitable[object]]) -> object:
    async with services.db.transaction() as session:
        return await use(session)


def today(services: Services, caller: Caller) -> Any:
    return community_today(services.clock.now(), caller.timezone)


async def as_coroutine(value: object) -> object:
    return value


def case_module(feature: Feature) -> ModuleType | None:
    """tests/<feature>/tenant_cases.py, if the feature has one."""
    name = f"tests.{feature.name}.tenant_cases"
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # no tests/<feature>/ package at all
        return None
    return importlib.import_module(name) if found else None
