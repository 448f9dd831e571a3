"""At the platforms' limits: /kudos top in a community with more trades (each with thanked reviewers)
than a card has fields.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.rendering.discord import render_embed
from bot.services import Services
from bot.usecase import run
from cogs.feedback._feedback import kudos_top
from cogs.feedback.models import KudosMonth
from storage.models import Trade
from tests.fakes.callers import make_caller


async def test_kudos_top_lists_every_trade_and_the_feedback_channel(services: Services) -> None:
    """30 trades with kudos this month, plus the feedback channel's: the card keeps the first 25
    groups (trades alphabetically, the feedback channel last), so the feedback channel's reviewers and
    trades late in the alphabet are silently left out."""
    viewer = await make_caller(services, "viewer")
    reviewers = [await make_caller(services, f"R{i}", name=f"Reviewer {i:02}") for i in range(31)]
    async with services.db.transaction() as session:
        extra = [
            Trade(
                community_id=viewer.community_id,
                key=f"zz metier {i:02}",
                name=f"Zz métier {i:02}",
                position=100 + i,
            )
            for i in range(20)
        ]
        session.add_all(extra)
        await session.flush()
        trade_ids = list(
            await session.scalars(select(Trade.id).where(Trade.community_id == viewer.community_id))
        )
        keys = [*trade_ids, 0]
        for key, who in zip(keys, reviewers, strict=False):
            session.add(
                KudosMonth(
                    community_id=viewer.community_id,
                    month="2026-11",
                    trade_key=key,
                    receiver_id=who.member_id,
                    n=3,
                )
            )
    card = await run(services, viewer, kudos_top, write=False)
    embed = render_embed(card)
    shown = "\n".join(f"{f.name}\n{f.value}" for f in embed.fields)
    missing = [who.display_name for who in reviewers[: len(keys)] if who.display_name not in shown]
    assert missing == [], f"{len(missing)} of {len(keys)} thanked reviewers left out of /kudos top: {missing}"


async def test_the_feedback_request_card_shows_every_link_to_review(services, notifier, alice) -> None:
    """3 links of 500 characters are accepted (MAX_LINKS x MAX_LINK) but the links field is cut at
    1,024: the third link, which reviewers must open to answer, is cut into a dead URL on both platforms."""
    from bot.rendering.slack import escape, render_blocks
    from cogs.feedback._feedback import ask
    from cogs.feedback._validation import MAX_LINK, MAX_LINKS
    from tests.feedback.conftest import FEEDBACK_CHANNEL, good_request

    links = []
    for n in range(1, MAX_LINKS + 1):
        head = f"https://www.figma.com/proto/{n}/maquette?"
        links.append(head + "p" * (MAX_LINK - len(head) - 4) + f"&n={n}")
    done = await run(services, alice, ask, good_request(links="\n".join(links)))
    assert done.published is not None and done.published.posted
    [card] = notifier.in_channel(FEEDBACK_CHANNEL)
    discord_text = "\n".join(f.value for f in render_embed(card).fields)
    slack_text = "\n".join(
        b["text"]["text"] for b in render_blocks(card) if b["type"] == "section" and "text" in b
    )
    lost = {
        "discord": [n for n, link in enumerate(links, 1) if link not in discord_text],
        "slack": [n for n, link in enumerate(links, 1) if escape(link) not in slack_text],
    }
    assert lost == {"discord": [], "slack": []}, f"links cut from the request card: {lost}"
