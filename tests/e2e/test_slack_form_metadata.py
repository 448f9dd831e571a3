"""A settings form submitted with private_metadata that is not what the bot wrote (each failed before)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_config_slack import _open_settings, _state

pytest_plugins = ["tests.e2e.slack_harness"]


@pytest.mark.parametrize("metadata", ["", "not json", "[1]", '{"version": "x"}'])
async def test_a_settings_form_with_unreadable_metadata_is_answered_clearly(
    slack: SlackHarness, metadata: str
) -> None:
    view = await _open_settings(slack)
    answer = await slack.sender.view_submission(
        "config:settings", _state(view, timezone="Europe/London"), user_id=slack.admin,
        private_metadata=metadata,
    )
    assert answer.status == 200
    text = json.dumps(answer.json(), ensure_ascii=False) if answer.text else ""
    assert "erreur est survenue de notre côté" not in text, text


async def test_a_stale_settings_form_without_its_version_does_not_overwrite(slack: SlackHarness) -> None:
    from tests.e2e.test_config_slack import _community

    view = await _open_settings(slack)
    first = await slack.sender.view_submission("config:settings", _state(view, timezone="Europe/London"),
                                               user_id=slack.admin, private_metadata=view["private_metadata"])
    assert first.status == 200
    await slack.completions.wait(1 + 1)
    # The same form as it was shown, its version gone from private_metadata ("" or {"version": 0}).
    await slack.sender.view_submission("config:settings", _state(view, timezone="Europe/Berlin"),
                                       user_id=slack.admin, private_metadata='{"version": 0}')
    await slack.completions.wait(1 + 2)
    assert (await _community(slack)).timezone == "Europe/London"
