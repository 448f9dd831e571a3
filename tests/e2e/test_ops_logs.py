"""JSON logs name the community, the feature and the interaction of the handler that wrote them."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator

import pytest

from bot.config import LoggingSettings
from bot.log import setup_logging
from tests.e2e.conftest import DiscordHarness
from tests.e2e.slack_harness import SlackHarness


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What `collectif run` with logging.format = "json" writes to stderr, into a buffer."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, threading.excepthook
    stream = io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stderr", stream)
        setup_logging(LoggingSettings(format="json"))
    try:
        yield stream
    finally:
        root.handlers[:], level, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)


async def test_an_error_logged_in_a_slack_handler_names_its_community_feature_and_interaction(
        slack: SlackHarness, json_logs: io.StringIO) -> None:
    answer, url = await slack.sender.command("boum", user_id=slack.member_fr)
    assert answer.status == 200
    post = await slack.fake.wait_for_post(url)
    error_id = re.search(r"([0-9a-f]{8})", post.text)
    assert error_id
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    logged = [line for line in lines if error_id.group(1) in line["message"]]
    assert len(logged) == 1, lines
    entry = logged[0]
    assert entry["level"] == "ERROR" and "kaboom" in entry["exception"]
    assert entry["community"] == f"slack:{slack.fake.team_id}"
    assert entry["feature"] == "e2e"
    assert entry["interaction"].endswith(".trigger")  # the command's trigger_id
    # Lines written outside any interaction carry none of it.
    logging.getLogger("bot.test").warning("outside")
    outside = json.loads(json_logs.getvalue().strip().splitlines()[-1])
    assert outside["message"] == "outside" and "community" not in outside



async def test_at_debug_discord_request_lines_are_logged_without_the_interaction_token(
        discord_harness: DiscordHarness) -> None:
    """README: no token is logged, not even at logging.level = "DEBUG". discord.py logs each request's
    URL at DEBUG: `.../interactions/<id>/<token>/callback`, `.../webhooks/<app>/<token>/...` (a token
    that answers and follows up as the bot for 15 minutes)."""
    h = discord_harness
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, threading.excepthook
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    try:
        setup_logging(LoggingSettings(level="DEBUG", format="json"))
        root.addHandler(Keep())
        await h.fake.invoke_slash(h.guild, h.member, "help", locale="fr")
    finally:
        root.handlers[:], level, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)
    tokens = [interaction.token for interaction in h.fake.interactions.values()]
    assert tokens, "no interaction seen by the fake"
    messages = [record.getMessage() for record in records]
    assert not [m for m in messages for token in tokens if token in m], messages[:3]
    # The request lines are still there, useful: the interaction's id, the token masked.
    assert any("/interactions/" in m and "/****/callback" in m for m in messages), messages[:20]


@pytest.mark.parametrize(("line", "shown"), [
    ("POST https://discord.com/api/v10/interactions/1234/aW50ZXJhY3Rpb246MTIz.x-_y/callback with None",
     "POST https://discord.com/api/v10/interactions/1234/****/callback with None"),
    ("PATCH https://discord.com/api/v10/webhooks/5678/aW50ZXJhY3Rpb246/messages/@original has returned 200",
     "PATCH https://discord.com/api/v10/webhooks/5678/****/messages/@original has returned 200"),
    ("Sending a request - url: https://hooks.slack.com/actions/T0123ABC/4567890/zYxW9876vuTs, body: {}",
     "Sending a request - url: https://hooks.slack.com/actions/T0123ABC/4567890/****, body: {}"),
    ("GET https://discord.com/api/v10/guilds/42/channels has returned 200",
     "GET https://discord.com/api/v10/guilds/42/channels has returned 200"),
])
def test_callback_url_tokens_are_masked_in_the_request_lines(line: str, shown: str) -> None:
    from bot.log import redact_url_tokens

    assert redact_url_tokens(line) == shown
