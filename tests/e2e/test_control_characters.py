"""A NUL (or any control character) in typed text is refused with a clear message on both platforms.

PostgreSQL refuses NUL in text: without the check the member got "unexpected error" there, and SQLite
stored an invisible character. Nothing is saved, on either database.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Trade
from tests.e2e.conftest import DiscordHarness
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_intros_discord import configure_channels, profiles, run_intro
from tests.e2e.test_intros_slack import configure, open_form, submit
from tests.e2e.test_intros_slack import profiles as slack_profiles

pytest_plugins = ["tests.e2e.slack_harness"]


async def test_discord_intro_with_a_nul_is_refused_and_nothing_is_saved(discord_harness: DiscordHarness):
    h = discord_harness
    await configure_channels(h)
    submitted = await run_intro(h, h.member, texts={"bio": "Développeuse\x00 WordPress"})
    await submitted.wait_answer()
    shown = "\n".join(submitted.all_texts())
    assert h.t("fr", "errors.control_characters") in shown
    assert await profiles(h) == []


async def test_discord_command_option_with_a_nul_is_refused(discord_harness: DiscordHarness):
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.moderator, "config trade add", {"name": "Photo\x00graphie"},
                                       locale="en-US")
    assert answer.ephemeral
    assert h.t("en", "errors.control_characters") in answer.content
    async with h.services.db.transaction() as session:
        names = set(await session.scalars(select(Trade.name)))
    assert not any("\x00" in name for name in names)


async def test_slack_form_with_a_nul_gets_the_error_on_its_field(slack: SlackHarness):
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    answer = await submit(slack, slack.member_fr, view["private_metadata"], city="Nan\x00tes")
    assert answer.status == 200
    errors = answer.json()["errors"]
    assert errors == {"city": slack.t("fr", "errors.control_characters")}
    assert await slack_profiles(slack) == []


async def test_slack_command_with_a_nul_is_refused(slack: SlackHarness):
    answer, response_url = await slack.sender.command("members ville:Ly\x00on", user_id=slack.member_en)
    assert answer.status == 200
    reply = await slack.fake.wait_for_post(response_url)
    assert slack.t("en", "errors.control_characters") in reply.text
