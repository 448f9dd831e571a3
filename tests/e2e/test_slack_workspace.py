"""Single-token mode (SLACK_BOT_TOKEN): only the token's workspace is served (bot/slack_app/workspace.py).

The same app (same signing secret) installed in another workspace, or in a sibling workspace of the
same Enterprise Grid organization, sends correctly signed requests carrying that team's id: they are
refused before any Web API call, no community is created for them, and a slash command there is told
"Collectif is not installed in this workspace".
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from storage.models import Community
from tests.e2e.slack_harness import SlackHarness
from tests.fakes.slack_api import FakeSlack, FakeWorkspace

pytest_plugins = ["tests.e2e.slack_harness"]

OTHER = FakeWorkspace("TOTHER", "other", "Other", "xoxb-other-not-ours")
GRID = "E0GRID"


@pytest.fixture
def grid(fake_slack: FakeSlack) -> None:
    """The bot token's workspace belongs to an Enterprise Grid organization (auth.test says so)."""
    fake_slack.enterprise_id = GRID


async def communities(slack: SlackHarness) -> list[str]:
    async with slack.services.db.transaction(write=False) as session:
        return list(await session.scalars(select(Community.external_id)))


async def test_a_command_from_another_workspace_is_refused_without_any_api_call(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture,
) -> None:
    calls_before = len(slack.fake.calls)
    for _ in range(2):
        payload = slack.sender.command_payload("", user_id="UJORDAN", team=OTHER)
        answer = await slack.sender.send(urlencode(payload), "application/x-www-form-urlencoded")
        assert answer.status == 200
        told = answer.json()
        assert told["response_type"] == "ephemeral"
        assert told["text"].splitlines() == [slack.t("fr", "slack.not_installed_here"),
                                             slack.t("en", "slack.not_installed_here")]
    assert slack.fake.calls[calls_before:] == []  # not even auth.test, nor users.info
    assert await communities(slack) == []
    refusals = [r for r in caplog.records if "TOTHER" in r.getMessage() and r.levelno == logging.WARNING]
    assert len(refusals) == 1 and "T0COLLECT" in refusals[0].getMessage()  # told once, not per request

    # The token's own workspace is served as before.
    answer, url = await slack.sender.command("", user_id=slack.member_en)
    assert answer.status == 200
    assert "Collectif — help" in (await slack.fake.wait_for_post(url)).text
    await slack.completions.wait(1)
    assert await communities(slack) == ["T0COLLECT"]


async def test_an_event_from_another_workspace_is_ignored(slack: SlackHarness) -> None:
    calls_before = len(slack.fake.calls)
    event = slack.sender.event_payload({"type": "app_home_opened", "user": "UJORDAN", "tab": "home"},
                                       team=OTHER)
    answer = await slack.sender.send(json.dumps(event), "application/json")
    assert (answer.status, answer.text) == (200, "")
    assert slack.fake.calls[calls_before:] == []
    assert await communities(slack) == []


async def test_a_sibling_workspace_of_the_same_enterprise_grid_is_refused_too(
    grid: None, slack: SlackHarness, caplog: pytest.LogCaptureFixture,
) -> None:
    calls_before = len(slack.fake.calls)
    payload = {**slack.sender.command_payload("", user_id="UJORDAN", team=OTHER), "enterprise_id": GRID,
               "enterprise_name": "Grid"}
    answer = await slack.sender.send(urlencode(payload), "application/x-www-form-urlencoded")
    assert answer.status == 200
    assert slack.t("en", "slack.not_installed_here") in answer.json()["text"]
    assert slack.fake.calls[calls_before:] == []
    assert await communities(slack) == []
    assert any("TOTHER" in r.getMessage() and GRID in r.getMessage() for r in caplog.records)
