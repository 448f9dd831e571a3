"""Every feature, loaded together the way the runtimes load them: no clash, nothing missing on a platform.

The Discord side is a real CollectifBot whose `setup_hook` loads every extension (no login, no
network); the Slack side is the router `collectif run` builds. Things are attributed to a feature by
the module that defines them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

import discord
import pytest

from bot.config import SUPPORTED_LOCALES
from bot.discord_bot.client import CollectifBot
from bot.discord_bot.sync import command_payloads
from bot.features import Feature, all_commands
from bot.services import Services
from bot.slack_app.app import build_router
from bot.slack_app.router import SlackRouter
from storage.text import fold

DISCORD_LOCALES = ("fr", "en-US", "en-GB")
# Discord's rule for command and option names (CHAT_INPUT): lowercase where a letter has a case.
_NAME_CHARS = re.compile(r"^[-_'\w]{1,32}$")


def owner(features: Iterable[Feature], module: str) -> Feature | None:
    return next((f for f in features if module == f.package or module.startswith(f.package + ".")), None)


@pytest.fixture
async def loaded(services: Services) -> AsyncIterator[CollectifBot]:
    """A CollectifBot after its setup_hook: every extension loaded, its router filled."""
    bot = CollectifBot(services)
    try:
        await bot.setup_hook()
        yield bot
    finally:
        await bot.http.close()  # never logged in: bot.close() would expect running shards


@pytest.fixture
def router(services: Services) -> SlackRouter:
    return build_router(services.settings, services.features)


def test_every_feature_is_loaded(services: Services) -> None:
    names = [f.name for f in services.features]
    assert len(names) == len(set(names))
    assert all(f.discord_extension and f.slack_listeners for f in services.features if f.commands)


def test_command_names_are_unique_and_belong_to_their_feature(services: Services) -> None:
    specs = all_commands(services.features)
    clashes = [name for name, n in Counter(s.name for s in specs).items() if n > 1]
    assert clashes == [], f"declared by two features: {clashes}"
    for feature in services.features:
        for spec in feature.commands:
            assert spec.feature == feature.name, f"{spec.name}: catalog keys would point at {spec.feature}"


async def test_every_command_has_a_discord_app_command_of_its_feature(
    services: Services, loaded: CollectifBot
) -> None:
    bot = loaded
    tree = {c.name: c for c in bot.tree.get_commands(type=discord.AppCommandType.chat_input)}
    for spec in services.commands:
        assert spec.name in tree, f"{spec.feature}: /{spec.name} has no Discord app command"
        feature = owner(services.features, tree[spec.name].module or "")
        assert feature is not None and feature.name == spec.feature, (spec.name, tree[spec.name].module)
    undeclared = set(tree) - {s.name for s in services.commands}
    assert undeclared == set(), f"app commands without a CommandSpec (missing from /help): {undeclared}"


def test_every_command_has_a_slack_subcommand(services: Services, router: SlackRouter) -> None:
    missing = [s.name for s in services.commands if s.name not in router.subcommands]
    assert missing == [], f"no `{router.command} <name>` registered for {missing}"


def _clashes(items: list[dict[str, Any]], where: str) -> list[str]:
    """Sibling names that are the same for a reader of some locale, and invalid names, recursively.

    Slash commands and their options follow Discord's name rule; context menus (types 2 and 3) may
    hold spaces and capitals, and each command type has its own namespace.
    """
    found = []
    for locale in DISCORD_LOCALES:
        seen: dict[tuple[int, str], str] = {}
        for item in items:
            kind = item.get("type", 1) if not where else 1
            name = (item.get("name_localizations") or {}).get(locale) or item["name"]
            if kind == 1 and (not _NAME_CHARS.match(name) or name != name.lower()):
                found.append(f"{where}: {name!r} ({locale}) is not a valid Discord name")
            if (kind, name) in seen:
                found.append(f"{where}: {name!r} ({locale}) names both {seen[kind, name]} and {item['name']}")
            seen[kind, name] = item["name"]
    for item in items:
        found += _clashes(item.get("options") or [], f"{where}/{item['name']}")
    return found


async def test_localized_discord_names_do_not_clash(loaded: CollectifBot) -> None:
    bot = loaded
    payloads = await command_payloads(bot.tree)
    assert all(p["name_localizations"].get("fr") for p in payloads), "a command without a French name"
    assert _clashes(payloads, "") == []


def test_localized_slack_subcommands_do_not_clash(services: Services) -> None:
    """`/collectif <name>` accepts every language's name: one spelling must not mean two commands."""
    owners: dict[str, str] = {}
    for spec in services.commands:
        for spelling in {spec.name, *(services.t(loc, spec.name_key) for loc in SUPPORTED_LOCALES)}:
            other = owners.setdefault(fold(spelling), spec.name)
            assert other == spec.name, f"Slack: {spelling!r} names both {other} and {spec.name}"


async def test_discord_ids_are_routed_and_namespaced_by_feature(services: Services,
                                                                 loaded: CollectifBot) -> None:
    routes = loaded.router.routes()
    assert routes, "no button, select or form routed: they would die with a restart"
    assert not loaded._connection._view_store._dynamic_items, "a DynamicItem beside the router"
    for pattern, handler in routes:
        feature = owner(services.features, handler.__module__)
        assert feature is not None, f"{handler.__module__}.{handler.__qualname__} belongs to no feature"
        assert pattern.pattern.startswith(f"(?:{feature.name}:"), f"{handler.__qualname__}: {pattern.pattern}"


def test_slack_action_view_and_shortcut_ids_are_namespaced_by_feature(services: Services,
                                                                     router: SlackRouter) -> None:
    registered = [("action", p, h) for p, h in router.actions] + [("view", p, h) for p, h in router.views]
    registered += [("shortcut", re.compile(f"^(?:{re.escape(s.callback_id)})$"), s.handler)
                   for s in getattr(router, "shortcuts", ())]
    assert registered
    for kind, pattern, handler in registered:
        module = getattr(getattr(handler, "func", handler), "__module__", "")
        feature = owner(services.features, module)
        assert feature is not None, f"{kind} {pattern.pattern!r} of {module} belongs to no feature"
        template = pattern.pattern.removeprefix("^(?:")
        assert template.startswith(f"{feature.name}:"), f"{kind} of {feature.name}: {pattern.pattern!r}"


def test_app_home_sections_belong_to_a_feature_and_each_has_its_own_place(services: Services,
                                                                           router: SlackRouter) -> None:
    """Two sections at the same `order` would be placed by the registry's order: say where each goes."""
    sections = router.home.sections
    assert sections, "no App Home section: the Home tab would be empty"
    shared = [order for order, n in Counter(s.order for s in sections).items() if n > 1]
    assert shared == [], f"App Home sections sharing a place: {shared}"
    commands = {c.name for c in services.commands}
    for section in sections:
        module = getattr(getattr(section.build, "func", section.build), "__module__", "")
        assert owner(services.features, module) is not None, f"Home section of {module} belongs to no feature"
        assert section.more is None or section.more in commands, f"{module}: no command {section.more!r}"


def test_the_checks_catch_a_clash() -> None:
    """The clash finder itself: a French name equal to a sibling's, and an invalid name."""
    payload = [
        {"name": "members", "name_localizations": {"fr": "membres"}},
        {"name": "people", "name_localizations": {"fr": "membres"}},
        {"name": "x", "name_localizations": {"fr": "Grand Nom"},
         "options": [{"name": "a"}, {"name": "b", "name_localizations": {"fr": "a"}}]},
    ]
    found = _clashes(payload, "")
    assert any("'membres' (fr) names both members and people" in f for f in found)
    assert any("'Grand Nom' (fr) is not a valid" in f for f in found)
    assert any("/x: 'a' (fr) names both a and b" in f for f in found)
    menus = [{"name": "Remove post", "type": 3, "name_localizations": {"fr": "Retirer la publication"}},
             {"name": "remove-post", "type": 1}]
    assert _clashes(menus, "") == []


def test_trade_and_sector_ids_without_a_foreign_key_are_declared() -> None:
    """A merge or removal of a trade (or sector) walks the foreign keys and the features' `held_ids`:
    a column named for them with neither would keep naming a trade that no longer exists."""
    from bot.features import load_features
    from bot.models import metadata

    declared = {(h.table, h.column) for f in load_features() for h in f.held_ids}
    for feature in load_features():
        for held in feature.held_ids:
            assert held.target in ("trades", "sectors"), held
            table = metadata.tables[held.table]
            assert {held.column, "id", "community_id"} <= set(table.c.keys()), held
    named = re.compile(r"(^|_)(trade|sector)_(id|ids|key|keys)$")
    missed = [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if named.search(column.name) and not column.foreign_keys and (table.name, column.name) not in declared
    ]
    # Not listed: match_proposals.request keeps the ids a /match asked for beside their names, and only
    # the names are read back (what was asked stays what was asked).
    assert missed == [], f"trade or sector ids without a foreign key, not in a feature's held_ids: {missed}"
