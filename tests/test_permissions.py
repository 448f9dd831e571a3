"""Permissions that ask only for what ships: built from the installed features, listed in the README."""

from __future__ import annotations

import inspect
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
from bot.slack_app.app import BASE_SCOPES, scope_reasons
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


# Each Slack Web API method Collectif calls -> the bot scopes it needs, from Slack's reference
# (https://docs.slack.dev/reference/methods/<method>). A call to a method missing here fails the guard
# below: look the method up, add it, and have the feature calling it declare its scopes (need_scope).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "apps.connections.open": frozenset(),  # Socket Mode: the app token's connections:write, not a bot scope
    "auth.test": frozenset(),
    "chat.delete": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    # A public channel needs channels:read, a private one (the bot is in) groups:read.
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "conversations.list": frozenset({"channels:read", "groups:read"}),  # types=public_channel,private_channel
    "conversations.open": frozenset({"im:write"}),  # with several users, mpim:write: see FOR_A_FEATURE
    "files.completeUploadExternal": frozenset({"files:write"}),  # files.uploadV2, second step
    "files.getUploadURLExternal": frozenset({"files:write"}),  # files.uploadV2, first step
    "files.info": frozenset({"files:read"}),
    "usergroups.list": frozenset({"usergroups:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "users.info": frozenset({"users:read"}),
    "views.open": frozenset(),
    "views.publish": frozenset(),
    "views.update": frozenset(),
}
# What the runtime's Slack notifier (bot/slack_app/notifier.py) calls only for a feature that asks it
# through the platform-neutral notifier: (Slack method, scope, what the feature's code says, where).
FOR_A_FEATURE = (
    ("files.getUploadURLExternal", "files:write", r"\bAttachment\b", "_slack.py"),  # a file sent on Slack
    ("files.completeUploadExternal", "files:write", r"\bAttachment\b", "_slack.py"),
    ("conversations.open", "mpim:write", r"\.open_private_space\(", "*.py"),  # a group DM
    ("usergroups.users.list", "usergroups:read", r"\.usergroup_members\(", "*.py"),  # moderators' group
)


def _slack_methods(python_name: str) -> list[str]:
    """The Web API methods slack_sdk's `AsyncWebClient.<python_name>` calls (files_upload_v2: two)."""
    from slack_sdk.web.async_client import AsyncWebClient

    source = inspect.getsource(getattr(AsyncWebClient, python_name))
    found = re.findall(r"api_call\(\s*\"([\w.]+)\"", source)
    for helper in re.findall(r"self\.(\w+)\(", source):
        if helper != python_name and not helper.startswith("_") and helper in vars(AsyncWebClient):
            found.extend(_slack_methods(helper))
    return list(dict.fromkeys(found))


def _slack_calls() -> list[tuple[str, str, str]]:
    """(owner: "runtime" or the feature's package folder, Slack method, where) for each call in the code."""
    from slack_sdk.web.async_client import AsyncWebClient

    api = {name for name in vars(AsyncWebClient) if not name.startswith("_")}
    calls: list[tuple[str, str, str]] = []
    for path in sorted(p for folder in ("bot", "cogs") for p in (ROOT / folder).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        owner = parts[1] if parts[0] == "cogs" else "runtime"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            where = f"{path.relative_to(ROOT)}:{number}"
            names = [name for name in re.findall(r"\.(\w+)\(", code) if name in api]
            methods = [method for name in names for method in _slack_methods(name)]
            methods += re.findall(r"api_call\(\s*[\"']([\w.]+)[\"']", code)
            calls.extend((owner, method, where) for method in methods)
    return calls


def test_every_slack_method_called_is_covered_by_the_scopes_its_caller_declares() -> None:
    """A feature's call needs its own need_scope (or the runtime's BASE_SCOPES): a scope another feature
    declares is gone from a deployment without that feature, or trimmed by an admin reading the README.
    (missions' conversations.info on a private channel went without groups:read, which only config asked.)"""
    settings, _ = load_settings(None, {})
    features = {Path(f.package.replace(".", "/")).name: f for f in load_features()}
    declared: dict[str, set[str]] = {"runtime": set(BASE_SCOPES)}
    for scope, reasons in scope_reasons(settings, features.values()).items():
        for who, _ in reasons:
            declared.setdefault(who, set(BASE_SCOPES)).add(scope)
    calls = _slack_calls()
    assert {"chat.postMessage", "conversations.info", "files.getUploadURLExternal"} <= {c[1] for c in calls}
    problems = []
    for owner, method, where in calls:
        if method not in METHOD_SCOPES:
            problems.append(f"{where}: {method} is not in METHOD_SCOPES: add the scopes Slack's reference "
                            f"gives for it, and declare them (router.need_scope) in the calling feature")
            continue
        if owner == "runtime":
            has = declared["runtime"] | {scope for m, scope, _, _ in FOR_A_FEATURE if m == method}
        elif owner in features:
            has = declared.get(features[owner].name, set(BASE_SCOPES))
        else:
            continue  # a package that is not an installed feature: its code does not run
        if missing := METHOD_SCOPES[method] - has:
            problems.append(f"{where}: {method} needs {sorted(missing)}, not declared by {owner}")
    for method, scope, asks, glob in FOR_A_FEATURE:
        assert ("runtime", method) in {(o, m) for o, m, _ in calls}, f"the runtime no longer calls {method}"
        for folder, feature in features.items():
            asking = [p for p in (ROOT / "cogs" / folder).glob(glob) if re.search(asks, p.read_text("utf-8"))]
            if feature.slack_listeners and asking and scope not in declared.get(feature.name, set()):
                problems.append(f"{asking[0].relative_to(ROOT)}: the Slack notifier calls {method} for "
                                f"{feature.name}, which needs {scope}: declare it with router.need_scope")
    assert problems == [], "\n".join(problems)


def test_the_readme_slack_scopes_are_what_manifest_explain_says() -> None:
    """Each scope of `collectif slack manifest --explain` has its README row, naming every feature that
    asks for it ("all" for the runtime) and each of their reasons; the README lists no scope not asked."""
    section = _section("Permissions").split("**Slack**", 1)[1]
    rows = {found[1]: [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if (found := re.match(r"\| `([\w:.]+)` \|", line))}
    settings, _ = load_settings(None, {})
    reasons = scope_reasons(settings, load_features())
    assert sorted(rows) == sorted(reasons)
    for scope, asked in reasons.items():
        _, who, why = rows[scope]
        expected = {"all" if w == "runtime" else w for w, _ in asked}
        assert {w.strip() for w in who.split(",")} == expected, scope
        for _, reason in asked:
            assert reason in why, (scope, reason)
