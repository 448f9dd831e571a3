"""One central error handler: domain errors localized, unexpected ones apologized for with an id."""

from __future__ import annotations

import logging
import re

import pytest

from tests.e2e.conftest import DiscordHarness
from tests.e2e.probe import FEATURE as PROBE

pytestmark = pytest.mark.parametrize("extra_features", [(PROBE,)])
ERROR_ID = re.compile(r"\b[0-9a-f]{8}\b")


async def test_unexpected_error_apologizes_with_an_id_that_is_logged(
    discord_harness: DiscordHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = discord_harness
    with caplog.at_level(logging.ERROR, logger="bot.discord_bot.errors"):
        answer = await h.fake.invoke_slash(h.guild, h.member, "probe_boom", locale="fr")

    assert answer.ephemeral
    error_id = ERROR_ID.search(answer.content).group()
    assert answer.content == h.t("fr", "errors.unexpected", error_id=error_id)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged
    assert "/probe_boom" in logged[0].getMessage()
    assert str(h.guild.id) in logged[0].getMessage()
    assert "kaboom" in str(logged[0].exc_info[1])


async def test_user_error_is_a_localized_list_of_problems(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "probe_oops", locale="en-GB")

    assert answer.ephemeral
    assert answer.content.splitlines() == [
        h.t("en", "errors.invalid_input"),
        "• " + h.t("en", "probe.problems.title_missing"),
        "• " + h.t("en", "probe.problems.bad_date", value="jeudi 45h"),
    ]


async def test_error_after_deferring_is_a_followup_not_a_second_response(
    discord_harness: DiscordHarness,
) -> None:
    h = discord_harness
    answer = await h.fake.invoke_slash(h.guild, h.member, "probe_late", locale="fr")
    followups = await answer.wait_followups(1)

    assert len(answer.callbacks) == 1
    assert answer.response_type == 5  # the defer, and nothing else through the callback
    assert ERROR_ID.search(followups[0]["content"])
    assert followups[0]["flags"] & 64
    callbacks = h.fake.requests_to("POST", rf"/interactions/{answer.id}/[^/]+/callback")
    assert [r.status for r in callbacks] == [200]


async def test_button_errors_reach_the_central_handler(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    await h.fake.invoke_slash(h.guild, h.member, "probe_card", {"n": 13}, locale="fr")
    posted = h.fake.channel_messages(h.guild.default_channel.id)[-1]

    clicked = await h.fake.click(posted, "probe:ping:13", h.member, locale="fr")
    assert ERROR_ID.search(clicked.content)
    assert clicked.ephemeral


async def test_stale_command_gets_a_generic_message(discord_harness: DiscordHarness) -> None:
    h = discord_harness
    h.fake.commands[None].append({"id": "1", "name": "gone", "options": []})
    answer = await h.fake.invoke_slash(h.guild, h.member, "gone", locale="fr")

    assert answer.content == h.t("fr", "errors.generic")
