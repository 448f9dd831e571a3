"""Slack distribution's configuration: when it is on, what start-up refuses, the manifest's redirect URL.

The install flow itself, tokens per workspace and uninstalls: tests/e2e/test_slack_distribution.py.
"""

from __future__ import annotations

import re

import pytest

from bot.config import load_settings, masked
from bot.features import load_features
from bot.runner import incomplete_slack, platforms
from bot.slack_app.manifest import manifest

DISTRIBUTION = {"SLACK_CLIENT_ID": "1000000001.2000000002", "SLACK_CLIENT_SECRET": "0123456789abcdef0123",
                "SLACK_SIGNING_SECRET": "signing"}
HTTP = {"COLLECTIF_SLACK__MODE": "http", "COLLECTIF_SLACK__REQUEST_URL": "https://bot.example.org/slack/events"}


def test_client_id_secret_and_signing_secret_in_http_mode_turn_distribution_on() -> None:
    settings, secrets = load_settings(env={**HTTP, **DISTRIBUTION})
    assert secrets.slack_client_id is not None
    assert secrets.slack_client_id.get_secret_value() == "1000000001.2000000002"
    assert secrets.slack_distributed("http")
    assert not secrets.slack_distributed("socket")
    assert incomplete_slack(settings, secrets) is None
    assert platforms(settings, secrets) == ["slack"]
    shown = masked(settings, secrets)["secrets"]
    assert shown["SLACK_CLIENT_SECRET"] == "set (0123…****)"
    assert "0123456789abcdef0123" not in str(masked(settings, secrets))


def test_a_single_bot_token_keeps_the_single_workspace_mode() -> None:
    settings, secrets = load_settings(env={**HTTP, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert not secrets.slack_distributed("http")
    assert secrets.has_slack("http")
    assert incomplete_slack(settings, secrets) is None


@pytest.mark.parametrize(("env", "message"), [
    ({**HTTP, "SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, r"^SLACK_CLIENT_SECRET is missing"),
    ({**HTTP, "SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s"}, r"^SLACK_CLIENT_ID is missing"),
    ({**HTTP, **DISTRIBUTION, "SLACK_BOT_TOKEN": "xoxb-1"}, r"^SLACK_BOT_TOKEN and SLACK_CLIENT_ID"),
    ({**DISTRIBUTION, "SLACK_APP_TOKEN": "xapp-1"}, r"need HTTP mode"),
    ({**HTTP, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}, r"SLACK_SIGNING_SECRET is missing"),
])
def test_an_incomplete_or_ambiguous_distribution_is_refused_naming_what_to_fix(
    env: dict[str, str], message: str,
) -> None:
    settings, secrets = load_settings(env=env)
    found = incomplete_slack(settings, secrets)
    assert found is not None
    assert re.search(message, found), found
    assert "Slack for many workspaces" in found


def test_the_http_manifest_names_the_install_redirect_url_and_socket_mode_none() -> None:
    settings, _ = load_settings(env=HTTP)
    oauth = manifest(settings, load_features())["oauth_config"]
    assert oauth["redirect_urls"] == ["https://bot.example.org/slack/oauth_redirect"]
    socket_settings, _ = load_settings(env={})
    assert "redirect_urls" not in manifest(socket_settings, load_features())["oauth_config"]
