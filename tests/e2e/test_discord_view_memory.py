"""Cards with buttons and forms sent by the real bot leave no view alive in discord.py.

The router answers every component and modal by custom_id (bot.router). discord.py would keep each
unfinished view it sends in a response: an ephemeral one under a 15-minute timeout task, which holds
the view and its items. That made the bot's memory grow by a fifth in the 5 minutes of
`benchmarks.load`; the views are now stopped before they are sent (bot.rendering.discord).
"""

from __future__ import annotations

import asyncio
import gc

import discord

from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_directory_discord import buttons, names, seed


def alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


async def test_ephemeral_cards_and_forms_leave_no_view_alive(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    expected = await seed(h, 7, skills=("Figma",), city="Lyon")
    before = alive(discord.ui.View)

    for _ in range(3):
        answer = await h.fake.invoke_slash(h.guild, h.member, "members", {"skill": "figma"})
        assert answer.ephemeral and names(answer.data) == expected[:5]
        assert answer.original is not None
        clicked = await h.fake.click(answer.original, buttons(answer.original)[h.t("fr", "common.next")],
                                     h.member)
        assert names(clicked.data) == expected[5:]
    form = await h.fake.invoke_slash(h.guild, h.member, "intro")
    assert form.data.get("components"), form.data  # the form's menus went out as components
    await asyncio.sleep(0.05)  # whatever discord.py started for them has started

    assert alive(discord.ui.View) == before
    timeouts = [t for t in asyncio.all_tasks() if "timeout" in repr(t.get_coro()).lower()]
    assert timeouts == []
