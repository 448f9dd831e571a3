"""Commands named in answers, as each platform types them (the `{/intro}` texts of bot/i18n.py).

On Slack every command is a word after /collectif: a hint saying "/intro" or "/tasks add" there is
"not a valid command". The same texts name Discord's slash commands on Discord, in each language.
(Found by a review; each test failed before.)
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    DiscordHarness,
    discord_harness,
    discord_services,
    extra_features,
    fake_discord,
)
from tests.e2e.slack_harness import SlackHarness, fake_slack, slack, slack_services  # noqa: F401


@pytest.mark.parametrize(("typed", "fr", "hint"), [
    ("pairing join", False, "/collectif intro"),
    ("binomes participer", True, "/collectif presentation"),
    ("tasks", False, "/collectif tasks add"),
    ("taches", True, "/collectif taches ajouter"),
    ("afterworks", False, "/collectif afterwork create"),
])
async def test_a_slack_answer_names_the_command_as_typed_on_slack(
    slack: SlackHarness, typed: str, fr: bool, hint: str  # noqa: F811
) -> None:
    _, url = await slack.sender.command(typed, user_id=slack.member_fr if fr else slack.member_en)
    text = (await slack.fake.wait_for_post(url)).text
    assert hint in text, f"/collectif {typed} on Slack answered: {text!r}"
    assert "\ue002" not in text


@pytest.mark.parametrize(("locale", "hint"), [("en", "/afterwork create"), ("fr", "/afterwork creer")])
async def test_a_discord_answer_names_the_localized_slash_command(
    discord_harness: DiscordHarness, locale: str, hint: str  # noqa: F811
) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "afterworks", {}, locale=locale)
    text = " ".join([answer.content, *(e.get("description") or "" for e in answer.embeds)])
    assert hint in text and "/collectif" not in text and "\ue002" not in text, text
