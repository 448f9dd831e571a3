"""A member who is not a moderator is refused by every config action, on both platforms; nothing changes."""

from __future__ import annotations

import pytest

from bot.errors import Forbidden
from cogs.config._context import ACTIONS, ConfigContext, run
from cogs.config._refs import IdDirectory
from storage.models import Community
from tests.config.conftest import INTROS, make_caller, snapshot

EXPORTED = 'timezone = "Europe/London"'
# Valid arguments for each action: a moderator would succeed with them.
ARGS = {
    "show": (),
    "form": (),
    "history": (),
    "export": (),
    "import": (EXPORTED,),
    "set": ("timezone", "Europe/London"),
    "update": ({"timezone": "Europe/London"},),
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
    "remove_post_link": (f"https://discord.com/channels/1/{INTROS}/1", "spam"),
}


def test_every_action_is_listed_here():

    assert set(ARGS) == set(ACTIONS)


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
        community = await session.get(Community, member.community_id)
        ctx = ConfigContext(
            session, member, config_services.catalog, config_services.clock, IdDirectory(platform), community
        )
        with pytest.raises(Forbidden):
            await ACTIONS[name](ctx, *ARGS[name])
    assert await snapshot(config_services) == before
    assert notifier.posts == [] and notifier.dms == [] and notifier.deleted == []


@pytest.mark.parametrize("name", ["show", "history", "export", "set", "trade_add", "pack_set", "import"])
async def test_the_same_arguments_work_for_a_moderator(config_services, name):
    moderator = await make_caller(config_services, "admin")
    await run(config_services, moderator, ACTIONS[name], *ARGS[name])
