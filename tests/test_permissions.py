"""Permissions that ask only for what ships: built from the installed features, listed in the README."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import discord

from bot.config import load_settings
from bot.discord_bot.client import bot_intents
from bot.discord_bot.invite import permission_reasons, required_permissions
from bot.features import FEATURE_PACKAGES, load_features
from bot.slack_app.app import scope_reasons
from bot.slack_app.manifest import DESCRIPTION_MAX, manifest

ROOT = Path(__file__).resolve().parents[1]


def _section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_discord_invite_is_the_union_of_what_the_installed_features_declare() -> None:
    everything = required_permissions(load_features())
    without = required_permissions(load_features(
        [p for p in FEATURE_PACKAGES if p not in ("cogs.afterworks", "cogs.pairing", "cogs.matching")]))

    assert everything.create_events and everything.create_private_threads
    assert not without.create_events  # only afterworks creates events
    assert not without.create_private_threads  # only pairing and matching open private threads
    assert without.create_public_threads  # feedback still does
    for permission in (everything, without):
        assert not permission.administrator and not permission.manage_messages
        assert not permission.mention_everyone and not permission.manage_events
    assert bot_intents(load_features()) == discord.Intents(guilds=True)


def test_the_readme_lists_every_permission_and_scope_with_its_reason() -> None:
    section = _section("Permissions")
    for flag, reasons in permission_reasons(load_features()).items():
        row = next((line for line in section.splitlines() if f"(`{flag}`)" in line), None)
        assert row is not None, f"Discord permission {flag} is not in the README"
        for who, why in reasons:
            assert why in row, (flag, why)
            assert (who if who != "runtime" else "all") in row, (flag, who)
    settings, _ = load_settings(None, {})
    for scope in scope_reasons(settings, load_features()):
        assert f"`{scope}`" in section, f"Slack scope {scope} is not in the README"
    generated = manifest(settings, load_features())
    for event in generated["settings"]["event_subscriptions"]["bot_events"]:
        assert f"`{event}`" in section, f"Slack event {event} is not in the README"
    # The advice to /invite agrees with the scopes: public channels need no invitation.
    assert "chat:write.public" in generated["oauth_config"]["scopes"]["bot"]
    slack_setup = _section("Setting up Slack")
    assert "without being invited" in slack_setup and "private" in slack_setup


def test_slack_manifest_in_either_language_describes_shipped_features_whole() -> None:
    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot", "slack", "manifest", *args], cwd=ROOT,
                              capture_output=True, text=True, check=True, timeout=120,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        return done.stdout

    english = json.loads(cli("--locale", "en"))["display_information"]["description"]
    french = json.loads(cli("--locale", "fr"))["display_information"]["description"]
    assert english.startswith("The bot of freelance collectives") and french.startswith("Le bot des")
    for text in (english, french):
        assert len(text) <= DESCRIPTION_MAX and not text.endswith("…")  # not cut
    assert "group purchases" in english and "pairing" in english  # every shipped feature, not more
    explained = cli("--explain")
    # every feature's reason for a scope, not only the last one registered (a docs review)
    for scope, who, why in (("mpim:write", "matching", "an invited team's group DM"),
                            ("mpim:write", "pairing", "a pairing group's DM"),
                            ("im:write", "runtime", "reminders and data exports"),
                            ("im:write", "missions", "the author is told of candidates"),
                            ("chat:write.public", "intros", "intro cards")):
        assert re.search(rf"^{re.escape(scope)} +{who} +.*{re.escape(why)}", explained, flags=re.MULTILINE), (
            scope, who)


def test_every_feature_posting_files_in_a_channel_asks_for_attach_files() -> None:
    """/feedback posts the attached file with the request's card: without Attach Files (a deployment
    without privacy and afterworks, or an admin trimming the invite by the README's table) every
    feedback request with a file would be refused as "cannot post in #channel"."""
    from cogs.feedback import FEATURE as FEEDBACK

    assert "attach_files" in permission_reasons([FEEDBACK])
    assert required_permissions([FEEDBACK]).attach_files


def test_every_feature_sending_files_on_slack_asks_for_files_write() -> None:
    """files.uploadV2 needs `files:write`: the data export (privacy), the settings export (config) and
    Add to calendar's .ics (afterworks) all send a file by DM. Declared by privacy alone, a deployment
    without it (or an admin trimming scopes by the README's table) lost the other two."""
    settings, _ = load_settings(None, {})
    reasons = scope_reasons(settings, load_features())
    assert {"privacy", "config", "afterworks"} <= {who for who, _ in reasons["files:write"]}
    without_privacy = load_features([p for p in FEATURE_PACKAGES if p != "cogs.privacy"])
    assert "files:write" in manifest(settings, without_privacy)["oauth_config"]["scopes"]["bot"]
