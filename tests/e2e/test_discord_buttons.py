"""Cards posted with buttons; clicks reach the feature's DynamicItem, even after a restart."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import FEATURE as PROBE

pytestmark = pytest.mark.parametrize("extra_features", [(PROBE,)])


async def test_a_posted_card_pings_nobody(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "probe_card", {"n": 7}, locale="fr")

    assert answer.content == h.t("fr", "probe.posted")
    posted = h.fake.channel_messages(h.guild.default_channel.id)[-1]
    assert posted["allowed_mentions"] == {"parse": []}
    assert posted["embeds"][0]["title"] == h.t("fr", "probe.card_title")
    button = posted["components"][0]["components"][0]
    assert button["custom_id"] == "probe:ping:7"
    assert button["label"] == "7"


async def test_a_click_survives_a_restart(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "probe_card", {"n": 42}, locale="fr")
    posted = h.fake.channel_messages(h.guild.default_channel.id)[-1]

    await h.restart()
    clicked = await h.fake.click(posted, "probe:ping:42", h.moderator, locale="en-US")

    assert clicked.content == h.t("en", "probe.pong", n=42)
    assert clicked.ephemeral


async def test_a_button_raising_a_user_error_shows_the_localized_message(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "probe_card", {"n": 0}, locale="fr")
    posted = h.fake.channel_messages(h.guild.default_channel.id)[-1]

    clicked = await h.fake.click(posted, "probe:ping:0", h.member, locale="fr")

    assert clicked.content == h.t("fr", "errors.not_found")
