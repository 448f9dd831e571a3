"""The `collectif` command line as an operator runs it: a real process, its output and its exit code."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.discord_bot.invite import required_permissions
from bot.features import all_commands, load_features, locale_folders
from bot.i18n import Catalog

ROOT = Path(__file__).resolve().parents[2]
APP_ID = 123456789012345678


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})}, timeout=60, check=False,
    )


def _fails_with_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, result.stderr
    for word in words:
        assert word in line


def _token(application_id: int) -> str:
    head = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    return f"{head}.GhIjKl.not-a-real-secret"


# -- discord invite-url ---------------------------------------------------------------------------


def _invite(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert "\n" not in url
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "discord.com", "/oauth2/authorize")
    return parse_qs(parts.query)


@pytest.mark.parametrize("how", ["option", "token"])
def test_invite_url_asks_for_both_scopes_and_the_least_permissions(tmp_path: Path, how: str) -> None:
    if how == "option":
        result = _cli("discord", "invite-url", "--application-id", str(APP_ID), cwd=tmp_path)
    else:
        result = _cli("discord", "invite-url", cwd=tmp_path, env={"DISCORD_TOKEN": _token(APP_ID)})

    query = _invite(result)
    assert query["client_id"] == [str(APP_ID)]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
    permissions = int(query["permissions"][0])
    assert permissions == required_permissions().value
    granted = discord.Permissions(permissions)
    assert not granted.administrator
    assert not granted.mention_everyone
    assert not granted.manage_messages
    assert granted.send_messages and granted.embed_links


def test_invite_url_without_an_application_id(tmp_path: Path) -> None:
    _fails_with_one_line(_cli("discord", "invite-url", cwd=tmp_path), "--application-id", "DISCORD_TOKEN")
    garbled = _cli("discord", "invite-url", cwd=tmp_path, env={"DISCORD_TOKEN": "%%%.x.y"})
    _fails_with_one_line(garbled, "--application-id")


@pytest.mark.parametrize("pasted", [
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",  # the Public Key
    "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW",  # the OAuth2 Client Secret
])
def test_invite_url_with_something_else_than_a_bot_token_says_which_token_to_copy(tmp_path: Path,
                                                                                  pasted: str) -> None:
    """DISCORD_TOKEN is set, to another of the portal's values: "set DISCORD_TOKEN" would send the
    operator looking for a variable they did set."""
    result = _cli("discord", "invite-url", cwd=tmp_path, env={"DISCORD_TOKEN": pasted})

    _fails_with_one_line(result, "DISCORD_TOKEN", "bot token", "Bot > Reset Token", "--application-id")
    assert "set DISCORD_TOKEN" not in result.stderr


# -- slack manifest -------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "locale"), [
    ({}, "fr"),
    ({"COLLECTIF_SLACK__MODE": "http", "COLLECTIF_SLACK__REQUEST_URL": "https://bot.example.org/slack/events",
      "COLLECTIF_COMMUNITY__LOCALE": "en"}, "en"),
])
def test_slack_manifest_lists_the_command_with_every_subcommand(tmp_path: Path, env: dict[str, str],
                                                                  locale: str) -> None:
    result = _cli("slack", "manifest", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    generated = json.loads(result.stdout)
    [command] = generated["features"]["slash_commands"]
    assert command["command"] == "/collectif"
    features = load_features()
    catalog = Catalog.load(locale_folders(features))
    hint = command["usage_hint"]
    assert not hint.endswith("…")  # nothing cut off
    for spec in all_commands(features):
        assert catalog.t(locale, spec.name_key) in hint, spec.name
    http = "COLLECTIF_SLACK__MODE" in env
    assert generated["settings"]["socket_mode_enabled"] is not http
    if http:
        url = env["COLLECTIF_SLACK__REQUEST_URL"]
        assert command["url"] == url
        assert generated["settings"]["event_subscriptions"]["request_url"] == url
        assert generated["settings"]["interactivity"]["request_url"] == url
    else:
        assert "url" not in command


def test_slack_manifest_in_http_mode_needs_the_request_url(tmp_path: Path) -> None:
    result = _cli("slack", "manifest", cwd=tmp_path, env={"COLLECTIF_SLACK__MODE": "http"})
    _fails_with_one_line(result, "slack.request_url")


@pytest.mark.parametrize("url", ["https://bot.example.org", "https://bot.example.org/",
                                 "https://bot.example.org/slack/events/", "https://bot.example.org/events"])
def test_a_request_url_that_is_not_the_served_path_is_refused(tmp_path: Path, url: str) -> None:
    # Slack would send everything to a path Collectif does not serve (404): it refuses to verify the URL.
    from bot.config import SLACK_EVENTS_PATH
    from bot.slack_app.runtime import EVENTS_PATH

    assert SLACK_EVENTS_PATH == EVENTS_PATH
    env = {"COLLECTIF_SLACK__MODE": "http", "COLLECTIF_SLACK__REQUEST_URL": url}
    _fails_with_one_line(_cli("slack", "manifest", cwd=tmp_path, env=env), "slack.request_url", EVENTS_PATH)
    behind_a_prefix = {**env, "COLLECTIF_SLACK__REQUEST_URL": "https://example.org/collectif/slack/events"}
    assert _cli("slack", "manifest", cwd=tmp_path, env=behind_a_prefix).returncode == 0


# -- db upgrade, discord sync ----------------------------------------------------------------------


def test_db_upgrade_twice(tmp_path: Path) -> None:
    for _ in range(2):
        result = _cli("db", "upgrade", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "database is up to date"
    with sqlite3.connect(tmp_path / "collectif.db") as conn:
        versions = {row[0] for row in conn.execute("select version_num from alembic_version")}
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type='table'")}
    assert "0001" not in versions and len(versions) >= 3  # one row per feature branch's head
    assert {"communities", "members", "jobs", "profiles", "packs"} <= tables


def test_a_listing_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    """`collectif db history | head`: the reader closes the pipe early. It logged "stopped by an
    unexpected error" with a BrokenPipeError traceback and exited 1 (a docs review)."""
    assert _cli("db", "upgrade", cwd=tmp_path).returncode == 0
    listing = subprocess.Popen(
        [sys.executable, "-m", "bot", "db", "history"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # `head` has read what it wanted
    errors = listing.stderr.read().decode()
    assert listing.wait(60) == 0, errors
    assert "Traceback" not in errors and "unexpected" not in errors


def test_discord_sync_without_a_token(tmp_path: Path) -> None:
    _fails_with_one_line(_cli("discord", "sync", cwd=tmp_path), "DISCORD_TOKEN")
    assert list(tmp_path.iterdir()) == []  # nothing created before refusing


def _script(code: str, cwd: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_run_imports_the_bot_with_the_collector_off_and_turns_it_back_on(tmp_path: Path) -> None:
    # An importer hook notes whether the garbage collector is on when `collectif run` imports the
    # runner (and with it every feature); without credentials the run ends at once (exit 2), and the
    # collector is on again. While the bot starts: tests/bot/test_runner.py.
    code = """
import gc, sys
seen = []
class Note:
    def find_spec(self, name, path=None, target=None):
        if name == "bot.runner":
            seen.append(gc.isenabled())
sys.meta_path.insert(0, Note())
from bot.cli import main
print(main(["run"]), seen, gc.isenabled())
"""
    assert _script(code, tmp_path) == ["2", "[False]", "True"]


# -- --version, --help, --config after the command ------------------------------------------------


def _pyproject_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version_is_the_packages_and_check_config_shows_it(tmp_path: Path) -> None:
    import bot

    result = _cli("--version", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"collectif {_pyproject_version()}"
    assert bot.__version__ == _pyproject_version()
    shown = json.loads(_cli("check-config", cwd=tmp_path).stdout)
    assert shown["version"] == _pyproject_version()


COMMANDS = [
    ([], ["run", "check-config", "health", "db", "discord", "slack", "--version", "exit codes",
          "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "`db backup` and `db restore` exit 1"]),
    (["run"], ["migrations", "Discord", "Slack", "SIGTERM", "exit codes", "6"]),
    (["check-config"], ["version", "masked"]),
    (["health"], ["migration", "exit 0", "HEALTHCHECK"]),
    (["db"], ["upgrade", "backup", "restore", "current", "history"]),
    (["db", "upgrade"], ["pending migration"]),
    (["db", "backup"], ["PATH", "online backup API", "pg_dump", "backup.keep", "trailing slash",
                        "never deleted", "Exit 1"]),
    (["db", "restore"], ["PATH", "Refuses while", "pg_restore", "newer Collectif", "Exit 1"]),
    (["db", "current"], ["revision", "pending", "6 when a newer Collectif"]),
    (["db", "history"], ["migration", "current"]),
    (["discord"], ["sync", "invite-url"]),
    (["discord", "sync"], ["DISCORD_TOKEN", "slash commands"]),
    (["discord", "invite-url"], ["--application-id", "permissions"]),
    (["slack"], ["manifest"]),
    (["slack", "manifest"], ["JSON", "slack.request_url", "/slack/events"]),
]


@pytest.mark.parametrize(("command", "words"), COMMANDS,
                         ids=[" ".join(command) or "collectif" for command, _ in COMMANDS])
def test_every_command_has_a_real_help(command: list[str], words: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    with pytest.raises(SystemExit) as stopped:
        main([*command, "--help"])

    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: collectif {' '.join(command)}".rstrip())
    assert "--config PATH" in text
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 2  # says what the command does, not only its usage
    for word in words:
        assert word in text, (command, word)


def test_config_is_accepted_after_the_command_and_wins(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[slack]\nmode = "carrier-pigeon"\n', encoding="utf-8")
    (tmp_path / "good.toml").write_text('[community]\ntimezone = "America/Montreal"\n', encoding="utf-8")

    _fails_with_one_line(_cli("check-config", "--config", "bad.toml", cwd=tmp_path), "slack.mode", "bad.toml")
    _fails_with_one_line(_cli("db", "upgrade", "--config", "bad.toml", cwd=tmp_path), "slack.mode")
    after = _cli("--config", "bad.toml", "check-config", "--config", "good.toml", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["community"]["timezone"] == "America/Montreal"
    before = _cli("--config", "good.toml", "check-config", cwd=tmp_path)
    assert json.loads(before.stdout)["community"]["timezone"] == "America/Montreal"


# -- health ------------------------------------------------------------------------------------------


def test_health_is_0_on_a_migrated_database_and_1_otherwise(tmp_path: Path) -> None:
    missing = _cli("health", cwd=tmp_path)
    assert missing.returncode == 1, missing.stderr
    assert missing.stdout == ""
    assert missing.stderr.startswith("unhealthy: ") and "does not exist" in missing.stderr
    assert list(tmp_path.iterdir()) == []  # a health check creates nothing

    assert _cli("db", "upgrade", cwd=tmp_path).returncode == 0
    healthy = _cli("health", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout.startswith("healthy")

    with sqlite3.connect(tmp_path / "collectif.db") as conn:
        conn.execute("delete from alembic_version where version_num = (select max(version_num) "
                     "from alembic_version)")
    behind = _cli("health", cwd=tmp_path)
    assert behind.returncode == 1
    assert "pending migrations" in behind.stderr


def _newer_database(folder: Path) -> None:
    """The database as a newer Collectif leaves it: at a revision this version's files do not know."""
    assert _cli("db", "upgrade", cwd=folder).returncode == 0
    with sqlite3.connect(folder / "collectif.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999' WHERE version_num = "
                     "(SELECT max(version_num) FROM alembic_version)")


def test_a_database_a_newer_collectif_migrated_is_one_line_exit_6_not_a_pending_migration(
    tmp_path: Path,
) -> None:
    # Alembic's "Can't locate revision" used to crash (exit 1: systemd restarts it in a loop), and
    # `db current` advised `db upgrade`, which crashed the same way.
    _newer_database(tmp_path)
    for command in (("db", "upgrade"), ("db", "current")):
        result = _cli(*command, cwd=tmp_path)
        assert result.returncode == 6, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "migrated by a newer Collectif version" in result.stderr and "0999" in result.stderr
        assert "collectif db upgrade" not in result.stdout + result.stderr
    assert not (tmp_path / "backups").exists()  # no backup before a migration that cannot happen
    history = _cli("db", "history", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    health = _cli("health", cwd=tmp_path)
    assert health.returncode == 1  # a health check is 0 or 1 (Docker reserves 2)
    assert health.stderr.startswith("unhealthy: ") and "newer Collectif version" in health.stderr
    assert len(health.stderr.strip().splitlines()) == 1


def test_health_answers_1_not_2_on_a_configuration_error(tmp_path: Path) -> None:
    # Docker reserves a health check's exit code 2.
    result = _cli("health", cwd=tmp_path, env={"COLLECTIF_SLACK__MODE": "pigeon"})
    assert result.returncode == 1
    assert "slack.mode" in result.stderr
