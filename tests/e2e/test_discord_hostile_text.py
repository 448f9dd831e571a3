"""Members' text that would disguise a link or the bot's own words, through the real discord.py client.

Found by a hostile review: a masked link typed in a bio (or as a display name) showed one address and
opened another; a link with a user part (`https://www.paypal.com@evil.example`) was posted as typed; a
bracket in an afterwork's link was an unexpected error; a right-to-left override left open in a title
mirrored the bot's text after it.
"""

from __future__ import annotations

import logging
import re

import pytest

from cogs.afterworks import FEATURE as AFTERWORKS
from tests.e2e.conftest import DiscordHarness
from tests.e2e.test_afterworks_discord import OPTIONS, afterworks, cards, create, use_channel
from tests.e2e.test_intros_discord import card_messages, configure_channels, run_intro

# A masked link Discord would render: `[label](http…)` whose `[` is not escaped.
MASKED_LINK = re.compile(r"(?<!\\)\[[^\]\n]*\]\(\s*<?https?://")


async def test_a_masked_link_in_a_bio_shows_as_text_on_the_intro_card(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    channels = await configure_channels(h)
    bio = "Mon portfolio : [https://camille.example](https://evil.example/login) — à bientôt"
    submitted = await run_intro(h, h.member, texts={"bio": bio})
    await submitted.wait_followups(1)
    [message] = card_messages(h, channels["général"])
    description = message["embeds"][0]["description"]
    assert r"\[https://camille.example\](https://evil.example/login)" in description  # shown as typed
    assert not MASKED_LINK.search(description)


async def test_a_display_name_shaped_as_a_masked_link_is_no_link_on_the_afterwork_card(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    await AFTERWORKS.on_start(h.services)
    channel = await use_channel(h)
    await create(h, h.member)
    [card] = cards(h, channel)
    going = next(c["custom_id"] for row in card["components"] for c in row["components"]
                 if c["custom_id"].endswith(":going"))
    trickster = h.fake.add_user("[RSVP](https://ev.il/x)", locale="fr", guild=h.guild)  # 23 characters
    await h.fake.click(card, going, trickster)
    [card] = cards(h, channel)
    values = "\n".join(f["value"] for f in card["embeds"][0]["fields"])
    assert "ev.il" in values and not MASKED_LINK.search(values)


async def test_a_profile_link_with_a_user_part_is_refused_not_posted(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    spoof = "https://www.paypal.com@evil.example/login"  # reads as paypal.com, opens evil.example
    submitted = await run_intro(h, h.member, texts={"links": spoof})
    assert submitted.content.startswith(h.t("fr", "intros.problems.heading"))
    assert spoof in submitted.content  # the link is named in its problem
    assert h.fake.requests_to("POST", r"/channels/\d+/messages") == []


async def test_an_afterwork_link_with_a_bracket_gets_its_problem_not_an_error(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture,
) -> None:
    h = discord_harness
    await AFTERWORKS.on_start(h.services)
    caplog.set_level(logging.ERROR)
    answer = await h.fake.invoke_slash(h.guild, h.member, "afterwork create",
                                       {**OPTIONS, "where": "https://[salle-2/plan"})
    assert h.t("fr", "afterworks.problems.link_invalid") in answer.content
    assert [r.getMessage()[:120] for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert await afterworks(h) == []


async def test_a_right_to_left_override_in_a_title_is_refused(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await AFTERWORKS.on_start(h.services)
    await use_channel(h)
    answer = await h.fake.invoke_slash(h.guild, h.member, "afterwork create",
                                       {**OPTIONS, "title": "Apéro des rédacteurs\u202e"})
    assert h.t("fr", "errors.control_characters") in answer.content
    assert await afterworks(h) == []
