"""At the platforms' limits: /config show in a community that grew: its 25 trades (the most allowed,
a Discord menu's choices) each with its channel, and as many packs as allowed.

The trades, sectors and packs each went in one embed field (1,024 characters on Discord): long lists
were cut. They now go on over several fields (`bot.cards.fields_for`).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.errors import UserError
from bot.rendering.discord import render_embed
from cogs.config import _packs, _show, _trades  # noqa: F401  (their @actions register on import)
from cogs.config._context import ACTIONS, run
from storage.models import Trade
from tests.config.conftest import make_caller


async def _grown(services):
    moderator = await make_caller(services, "admin")
    for i in range(30):
        try:
            await run(services, moderator, ACTIONS["trade_add"], f"Métier numéro {i:02}")
        except UserError:  # MAX_PER_KIND reached (the defaults count)
            break
    async with services.db.transaction() as session:
        rows = list(await session.scalars(select(Trade).where(Trade.community_id == moderator.community_id)))
        for n, trade in enumerate(rows):
            await session.execute(
                update(Trade).where(Trade.id == trade.id).values(channel_id=str(100000000000000100 + n))
            )
    names = [t.name for t in rows]
    for i in range(25):
        try:
            await run(services, moderator, ACTIONS["pack_set"], f"Pack {i:02}", ", ".join(names[i : i + 4]))
        except UserError:  # MAX_PACKS reached (the defaults count)
            break
    return moderator, names


async def test_config_show_on_discord_lists_every_trade_and_keeps_the_feature_settings(
    config_services,
) -> None:
    moderator, names = await _grown(config_services)
    card = await run(config_services, moderator, ACTIONS["show"])
    embed = render_embed(card)
    shown = "\n".join(f"{f.name}\n{f.value}" for f in embed.fields)
    missing_trades = [n for n in names if n not in shown]
    missing_packs = [f"Pack {i:02}" for i in range(15) if f"Pack {i:02}" not in shown]
    missing_fields = [f.name for f in card.fields  # a list going on has no name: Discord shows "\u200b"
                      if (f.name or "\u200b") not in [e.name for e in embed.fields]]
    assert (missing_trades, missing_packs, missing_fields) == ([], [], []), (
        f"{len(missing_trades)} of {len(names)} trades cut from the trades field; "
        f"packs cut: {missing_packs}; "
        f"{len(missing_fields)} of {len(card.fields)} fields dropped from the embed: {missing_fields}"
    )


async def test_a_trade_past_the_most_a_menu_offers_is_refused_clearly(config_services) -> None:
    """Past 25 trades, Discord's forms (a select of 25 choices) could not offer them all."""
    from bot.errors import InvalidInput
    from cogs.config._trades import MAX_PER_KIND

    moderator, names = await _grown(config_services)
    assert len(names) == MAX_PER_KIND
    with pytest.raises(InvalidInput) as refused:
        await run(config_services, moderator, ACTIONS["trade_add"], "Un métier de plus")
    assert refused.value.problems["name"][0] == "config.errors.too_many_trades"
