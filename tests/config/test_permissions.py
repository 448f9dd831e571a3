"""A member who is not a moderator is refused by every config action, on both platforms; nothing changes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import cogs.config
from bot.errors import Forbidden
from cogs.config._context import ACTIONS, ConfigContext, run
from cogs.config._refs import IdDirectory
from tests.config.conftest import INTROS, make_caller, snapshot

EXPORTED = 'timezone = "Europe/London"'
# Valid arguments for each action: a moderator would succeed with them.
ARGS = {
    "show": (),
    "form": (),
    "history": (),
    "export": (),
    "import": (EXPORTED,),
    "import_check": (EXPORTED,),
    "set": ("timezone", "Europe/London"),
    "update": ({"timezone": "Europe/London"},),
    "update_check": ({"timezone": "Europe/London"},),
    "trade_add": ("Illustration",),
    "trade_rename": ("Conseil", "Stratégie"),
    "trade_remove": ("Conseil",),
    "trade_channel": ("Conseil", "-"),
    "sector_add": ("Luxe",),
    "sector_rename": ("Mode", "Mode & luxe"),
    "sector_remove": ("Mode",),
    "pack_set": ("Pack", "Conseil"),
    "pack_remove": ("Site vitrine",),
    "remove_post": (INTROS, "1", "spam"),
    "remove_post_check": (INTROS, "1", "spam"),
    "remove_post_link": (f"https://discord.com/channels/1/{INTROS}/1", "spam"),
}


# Every module of the feature, bindings included: an @action registers itself when its module is
# imported, so ACTIONS is complete whatever ran before (alone, this file used to see only a few).
MODULES = [
    importlib.import_module(f"cogs.config.{m.name}") for m in pkgutil.iter_modules(cogs.config.__path__)
]


def test_every_action_is_listed_here():
    """A use case added later (an @action anywhere in cogs/config) fails here until ARGS covers it."""
    assert len(ACTIONS) >= 18
    assert set(ARGS) == set(ACTIONS)


@pytest.mark.parametrize("binding", ["cogs.config._discord", "cogs.config._slack"])
def test_the_bindings_reach_only_guarded_actions(binding):
    """A use case the bindings call (first parameter a ConfigContext) must be an @action, so it is
    refused to members by itself and walked by the parametrized test below."""
    module = importlib.import_module(binding)
    reachable = {
        name
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and obj.__module__.startswith("cogs.config")
        and (params := list(inspect.signature(obj).parameters.values()))
        and params[0].annotation in ("ConfigContext", ConfigContext)
    }
    assert reachable, f"{binding} calls no config use case?"
    unguarded = sorted(n for n in reachable if vars(module)[n] not in ACTIONS.values())
    assert unguarded == []


@pytest.mark.parametrize("platform", ["discord", "slack"])
@pytest.mark.parametrize("name", sorted(ARGS))
async def test_a_member_is_refused_and_nothing_changes(config_services, notifier, platform, name):
    guild = "900000000000000001" if platform == "discord" else "T1"
    await make_caller(config_services, "admin", guild=guild, platform=platform)
    member = await make_caller(config_services, "member", guild=guild, platform=platform, moderator=False)
    before = await snapshot(config_services)
    with pytest.raises(Forbidden):
        await run(config_services, member, ACTIONS[name], *ARGS[name])
    # The use case itself refuses too, should a binding ever call it without `run`.
    async with config_services.db.transaction() as session:
        ctx = ConfigContext(services=config_services, session=session, caller=member,
                            directory=IdDirectory(platform))
        with pytest.raises(Forbidden):
            await ACTIONS[name](ctx, *ARGS[name])
    assert await snapshot(config_services) == before
    assert notifier.posts == [] and notifier.dms == [] and notifier.deleted == []


@pytest.mark.parametrize("name", ["show", "history", "export", "set", "trade_add", "pack_set", "import"])
async def test_the_same_arguments_work_for_a_moderator(config_services, name):
    moderator = await make_caller(config_services, "admin")
    await run(config_services, moderator, ACTIONS[name], *ARGS[name])
