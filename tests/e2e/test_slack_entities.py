"""Slack sends a slash command's & < > as &amp; &lt; &gt; (every message text is escaped so).

Only directory and matching unescaped the command text; the other subcommands stored or compared the
entities as if the member had typed them ("Marketing & communication", a default trade, was unknown
to `missions`). The router now unescapes once for all (`bot.slack_app.router.unescape`).
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Trade
from tests.e2e.slack_harness import SlackHarness

pytest_plugins = ["tests.e2e.slack_harness"]


def as_slack_sends(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def say(slack: SlackHarness, text: str, user: str) -> str:
    _, url = await slack.sender.command(as_slack_sends(text), user_id=user)
    return (await slack.fake.wait_for_post(url)).text


async def test_a_trade_added_with_an_ampersand_is_stored_as_typed(slack: SlackHarness) -> None:
    await say(slack, "config trade add Photo & Vidéo", slack.admin)
    async with slack.services.db.transaction() as session:
        names = set(await session.scalars(select(Trade.name)))
    assert "Photo & Vidéo" in names, sorted(n for n in names if "Photo" in n)


async def test_missions_filtered_by_a_default_trade_with_an_ampersand(slack: SlackHarness) -> None:
    # "Marketing & communication" is one of the default trades of a new community.
    text = await say(slack, "missions Marketing & communication", slack.member_en)
    # (one "&amp;" is how Slack text shows a typed "&"; a second one was the entity read as typed)
    assert "unknown" not in text.lower() and "inconnu" not in text.lower() and "&amp;amp;" not in text, text


async def test_config_trade_remove_by_a_default_name_with_an_ampersand(slack: SlackHarness) -> None:
    text = await say(slack, "config trade remove Marketing & communication", slack.admin)
    async with slack.services.db.transaction() as session:
        names = set(await session.scalars(select(Trade.name)))
    assert "Marketing & communication" not in names, text
