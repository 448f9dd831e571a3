"""/help (/aide) lists what the caller may use, in the caller's language."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import FEATURE as PROBE


def listing(answer) -> str:
    return "\n".join(f["value"] for f in answer.embeds[0]["fields"])


async def test_help_answers_in_french(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")

    assert answer.response_type == 4
    assert answer.ephemeral
    embed = answer.embeds[0]
    assert embed["title"] == h.t("fr", "help.title")
    assert "`/aide` — " + h.t("fr", "help.commands.help.description") in listing(answer)
    assert answer.data["allowed_mentions"] == {"parse": []}


async def test_help_answers_in_english_for_an_english_client(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="en-US")

    assert answer.embeds[0]["title"] == h.t("en", "help.title")
    assert "`/help` — " + h.t("en", "help.commands.help.description") in listing(answer)


async def test_help_follows_the_community_language_for_other_clients(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "help", locale="de")

    assert answer.embeds[0]["title"] == h.t("fr", "help.title")  # the guild is French
    # … but the commands are named as a German client's picker shows them: the default (English) names.
    text = listing(answer)
    assert "`/help`" in text and "`/intro`" in text and "`/members`" in text, text
    assert "`/aide`" not in text and "`/presentation`" not in text, text


@pytest.mark.parametrize("extra_features", [(PROBE,)])
async def test_moderator_commands_are_listed_to_moderators_only(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    member_view = await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")
    moderator_view = await h.fake.invoke_slash(h.guild, h.moderator, "help", locale="fr")

    assert "/sonde_admin" not in listing(member_view)
    assert h.t("fr", "help.moderators_heading") not in [f["name"] for f in member_view.embeds[0]["fields"]]
    assert "/sonde_admin" in listing(moderator_view)
    assert "/sonde_boum" in listing(member_view)


async def test_first_command_creates_the_member(discord_harness: DiscordHarness) -> None:
    from sqlalchemy import select

    from storage.models import Member

    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")

    async with h.services.db.transaction() as session:
        names = list(await session.scalars(select(Member.display_name)))
    assert names == ["Camille"]
