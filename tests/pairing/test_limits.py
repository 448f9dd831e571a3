"""At the platforms' limits: /pairing history of a member who uses the "don't pair me with" list up to
its limit.
"""

from __future__ import annotations

from bot.rendering.discord import render_embed
from bot.services import Services
from bot.usecase import run
from cogs.pairing._pairing import MAX_AVOIDED, avoid, history
from tests.fakes.callers import make_caller


async def test_history_lists_every_avoided_member(services: Services) -> None:
    """MAX_AVOIDED is 50 and the history card is the only place that lists them (to undo with
    /pairing unavoid); the field is cut at 1,024 characters, so with ordinary full names (about 25
    characters) the last ~10 avoided members are not shown and cannot be found again."""
    me = await make_caller(services, "me")
    others = [
        await make_caller(services, f"O{i}", name=f"Marie-Charlotte Dupont {i:02}")
        for i in range(MAX_AVOIDED)
    ]
    for other in others:
        await run(services, me, avoid, other.user_id)
    card = await run(services, me, history, write=False)
    shown = "\n".join(f.value for f in render_embed(card).fields)
    missing = [o.display_name for o in others if o.display_name not in shown]
    assert missing == [], f"{len(missing)} of {MAX_AVOIDED} avoided members not listed: {missing[:3]}…"
