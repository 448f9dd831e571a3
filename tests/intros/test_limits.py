"""At the platforms' limits: an intro whose fields are at the maximum the form accepts: the card must
still show them.
"""

from __future__ import annotations

from datetime import date

from bot.context import Caller
from bot.rendering.discord import render_embed
from bot.rendering.slack import escape, render_blocks
from bot.services import Services
from bot.usecase import run
from cogs.intros._cards import intro_card
from cogs.intros._publish import profile_of, submit_intro
from cogs.intros._validation import MAX_LINK, MAX_LINKS
from tests.fakes.notifier import RecordingNotifier
from tests.intros.conftest import good_form


def _link(n: int) -> str:
    head = f"https://portfolio{n}.example/case-studies?"
    return head + "x" * (MAX_LINK - len(head) - 4) + f"&n={n}"


async def test_the_intro_card_shows_every_link_the_form_accepted(
    services: Services, notifier: RecordingNotifier, alice: Caller
) -> None:
    """3 links of 500 characters are accepted (MAX_LINKS x MAX_LINK) but the links field is cut at 1,024:
    the third link is lost (a dead, cut URL ending in "…") on both platforms (channel card, /profile)."""
    links = [_link(n) for n in range(1, MAX_LINKS + 1)]
    assert all(len(link) == MAX_LINK for link in links)
    await run(
        services,
        alice,
        submit_intro,
        await good_form(services, alice, links="\n".join(links)),
        origin_channel_id=None,
    )
    view = await run(services, alice, profile_of, write=False)
    assert view.links == tuple(links)  # saved whole
    card = intro_card(services.catalog, "fr", view, date(2026, 11, 26))
    discord_text = "\n".join(f.value for f in render_embed(card).fields)
    slack_text = "\n".join(
        b["text"]["text"] for b in render_blocks(card) if "text" in b and b["type"] == "section"
    )
    lost = {
        "discord": [n for n, link in enumerate(links, 1) if link not in discord_text],
        "slack": [n for n, link in enumerate(links, 1) if escape(link) not in slack_text],
    }
    assert lost == {"discord": [], "slack": []}, f"links missing from the intro card: {lost}"
