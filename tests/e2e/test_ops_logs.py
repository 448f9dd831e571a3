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

