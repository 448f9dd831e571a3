"""A member of community A can neither see nor change anything of community B, even by guessing ids.

Every use case or button handler that takes an id from the outside (a custom_id, an option) is a
`Case`: called as a member of A with the id of B's object, it must fail exactly like with an id that
exists nowhere (same error class and catalog key), and no row of any table may change.

Each feature declares its cases next to its tests, in tests/<feature>/tenant_cases.py (the registry
and its fields: tests/tenant.py). Like the privacy coverage check, `test_every_id_pattern_has_a_case`
reads what the features register on both platforms and fails when an id pattern carrying an id has
no case. The same check through the platforms: a cross-community click in
tests/e2e/test_directory_discord.py and tests/e2e/test_directory_slack.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import select

from bot.discord_bot.client import CollectifBot
from bot.features import load_features
from bot.models import metadata
from bot.services import Services
from bot.slack_app.app import build_router
from tests.fakes.callers import caller_for
from tests.fakes.notifier import RecordingNotifier
from tests.tenant import Case, World, case_module

MODULES = [m for m in map(case_module, load_features()) if m is not None]
CASES: list[Case] = [case for module in MODULES for case in module.CASES]
WITHOUT_OBJECT_IDS: dict[str, str] = {
    example: why for module in MODULES for example, why in getattr(module, "WITHOUT_OBJECT_IDS", {}).items()
}

Pattern = tuple[str, re.Pattern[str]]  # (where it is registered, the pattern)


@pytest.fixture
async def world(services: Services) -> World:
    services.notifiers["discord"] = RecordingNotifier()
    async with services.db.transaction() as session:
        built = World(
            a=await caller_for(session, "alice", guild="A"),
            a_other=await caller_for(session, "anna", guild="A"),
            b=await caller_for(session, "bob", guild="B"),
            b_other=await caller_for(session, "bea", guild="B"),
        )
    built.ids["b_member"] = built.b.member_id
    for module in MODULES:  # registry order: a feature's seed may use an earlier one's objects
        if hasattr(module, "seed"):
            await module.seed(services, built)
    return built


async def dump(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: "nothing changed" is one comparison."""
    async with services.db.transaction() as session:
        return {name: sorted(tuple(map(repr, row)) for row in await session.execute(select(table)))
                for name, table in metadata.tables.items()}


def _answer(error: BaseException) -> tuple[type, str]:
    return type(error), getattr(error, "key", "")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_an_object_of_another_community_is_like_no_object(
    case: Case, world: World, services: Services
) -> None:
    before = await dump(services)

    with pytest.raises(case.error) as theirs:
        await case.call(services, world.a, world.ids[case.target])
    with pytest.raises(case.error) as nowhere:
        await case.call(services, world.a, case.missing)

    assert _answer(theirs.value) == _answer(nowhere.value)
    assert await dump(services) == before


async def test_the_world_is_seeded_as_the_cases_expect(world: World) -> None:
    assert {c.target for c in CASES} <= set(world.ids)
    assert world.a.community_id != world.b.community_id


# -- coverage: every registered id pattern that carries an id has a case --------------------------


def slack_patterns(services: Services) -> list[Pattern]:
    """Slack: the action and view (form) patterns of the router `collectif run` builds."""
    router = build_router(services.settings, services.features)
    return [*(("Slack action", p) for p, _ in router.actions), *(("Slack view", p) for p, _ in router.views)]


async def discord_patterns(services: Services) -> list[Pattern]:
    """Discord: what the extensions register once loaded by a real CollectifBot (no login).

    Buttons, selects and forms registered on `bot.router` (bot/discord_bot/router.py), and any
    persistent `DynamicItem` an extension still adds (its custom_id template).
    """
    bot = CollectifBot(services)
    dynamic: list[type[Any]] = []
    register = bot.add_dynamic_items

    def recording(*items: type[Any]) -> None:
        dynamic.extend(items)
        register(*items)

    bot.add_dynamic_items = recording  # type: ignore[method-assign]
    try:
        await bot.setup_hook()
    finally:
        await bot.http.close()  # never logged in: bot.close() would expect running shards
    found: list[Pattern] = [("Discord DynamicItem", item.__discord_ui_compiled_template__)
                            for item in dynamic]
    router = getattr(bot, "router", None)
    for kind in ("actions", "selects", "modals"):
        found += [(f"Discord {kind[:-1]}", p) for p, _ in getattr(router, kind, [])]
    return found


def uncovered(patterns: Iterable[Pattern], examples: Iterable[str]) -> list[str]:
    """The patterns with a capture group that none of the example ids matches."""
    examples = list(examples)
    return [f"{where} {pattern.pattern!r}" for where, pattern in patterns
            if pattern.groups and not any(pattern.fullmatch(e) for e in examples)]


def stale(patterns: Iterable[Pattern], examples: Iterable[str]) -> list[str]:
    """The example ids no registered pattern matches any more (an id renamed under its case)."""
    compiled = [p for _, p in patterns]
    return [e for e in examples if not any(p.fullmatch(e) for p in compiled)]


async def test_every_id_pattern_has_a_case(services: Services) -> None:
    patterns = [*slack_patterns(services), *await discord_patterns(services)]
    examples = [*(e for c in CASES for e in c.covers), *WITHOUT_OBJECT_IDS]

    assert patterns, "no interaction registered: the loading above is broken"
    missing = uncovered(patterns, examples)
    assert not missing, (
        "an id pattern takes an id from the outside but no tenant case tries another community's id "
        "with it; add a Case covering an example id in tests/<feature>/tenant_cases.py "
        "(tests/tenant.py):\n" + "\n".join(missing)
    )
    assert not stale(patterns, examples), "example ids matching no registered pattern"


def test_the_coverage_check_catches_a_pattern_without_a_case() -> None:
    patterns = [("Slack action", re.compile(r"^(?:missions:interest:(?P<id>[0-9]+))$")),
                ("Slack view", re.compile(r"^(?:missions:form)$"))]
    assert uncovered(patterns, ["intros:edit:42"]) == [
        "Slack action '^(?:missions:interest:(?P<id>[0-9]+))$'"]
    assert uncovered(patterns, ["missions:interest:42"]) == []
    assert stale(patterns, ["missions:interest:42", "missions:old:1"]) == ["missions:old:1"]
