"""a button whose id no installed feature handles any more (a feature removed, an old card)."""

from __future__ import annotations

from bot.features import FEATURE_PACKAGES, load_features
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_pooling_discord import OPTIONS, cards, use_channel


async def test_a_button_of_a_removed_feature_still_gets_an_answer(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    from cogs.pooling import FEATURE as POOLING

    await POOLING.on_start(h.services)
    channel = await use_channel(h)
    await h.fake.invoke_slash(h.guild, h.member, "pool", OPTIONS)
    [card] = cards(h, channel)
    join = card["components"][0]["components"][0]["custom_id"]

    # The operator removes pooling from FEATURE_PACKAGES (README, Permissions) and restarts.
    await h.restart(load_features([p for p in FEATURE_PACKAGES if p != "cogs.pooling"]))
    clicked = await h.fake.click(card, join, h.member, wait=False)
    try:
        await clicked.wait_answer(3.5)
    except TimeoutError:
        raise AssertionError("no answer at all: Discord shows 'This interaction failed'") from None
    assert clicked.ephemeral and clicked.content
