"""Start-up failures through the real `collectif` process: one line saying what to fix, one exit code each.

A wrong token is the fake answering 401; no network is a closed port on 127.0.0.1 (never the internet).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import startup
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("voice will NOT be supported", "setup plugin", "will be unused")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _cli(*args: str, cwd: Path, env: dict[str, str], prefix: tuple[str, ...] = ()) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot", *args, cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except BaseException:
        process.kill()
        raise
    assert out.decode() == ""
    assert process.returncode is not None
    return process.returncode, err.decode()


def _problems(stderr: str, fmt: str) -> list[dict[str, Any]]:
    """The records at WARNING or above; checks every line is a log record of the chosen format."""
    assert "Traceback" not in stderr or fmt == "json", stderr
    found = []
    for line in stderr.splitlines():
        assert not any(noise in line for noise in NOISE), line
        if fmt == "json":
            record = json.loads(line)  # one JSON object per line, nothing bare
            level, message = record["level"], record["message"]
        else:
            match = re.match(r"^\d{4}-\d\d-\d\d [\d:,]+ (\w+)\s+\S+: (.*)$", line)
            assert match, f"not a log line: {line!r}\n{stderr}"
            level, message = match.groups()
            record = {"level": level, "message": message}
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            found.append(record)
    return found


def _one_line(code: int, stderr: str, fmt: str, expected: int, *words: str) -> None:
    assert code == expected, stderr
    problems = _problems(stderr, fmt)
    assert len(problems) == 1, stderr
    assert "exception" not in problems[0]
    for word in words:
        assert word in problems[0]["message"], stderr


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    fake.add_guild("Les Freelances")
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    try:
        yield fake
    finally:
        await fake.stop()


def _discord_env(fake: FakeDiscord, fmt: str, **extra: str) -> dict[str, str]:
    return {"COLLECTIF_LOGGING__FORMAT": fmt, "COLLECTIF_DISCORD__API_BASE_URL": fake.api_base,
            "COLLECTIF_DISCORD__GUILD_READY_TIMEOUT": "0.05", "DISCORD_TOKEN": fake.token, **extra}


def _slack_env(fake: FakeSlack, fmt: str, mode: str, **extra: str) -> dict[str, str]:
    env = {"COLLECTIF_LOGGING__FORMAT": fmt, "COLLECTIF_SLACK__API_BASE_URL": fake.api_base_url,
           "COLLECTIF_SLACK__MODE": mode, "SLACK_BOT_TOKEN": BOT_TOKEN}
    if mode == "http":
        env |= {"SLACK_SIGNING_SECRET": SIGNING_SECRET, "COLLECTIF_SLACK__HTTP_HOST": "127.0.0.1",
                "COLLECTIF_SLACK__HTTP_PORT": "0"}
    else:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    return env | extra


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_refused_discord_token_is_exit_3_for_run_and_sync_alike(tmp_path, discord, fmt):
    env = _discord_env(discord, fmt, DISCORD_TOKEN="not-the-token")
    for args in (("run",), ("discord", "sync")):
        code, stderr = await _cli(*args, cwd=tmp_path, env=env)
        _one_line(code, stderr, fmt, startup.DISCORD_TOKEN, "DISCORD_TOKEN", "Reset Token")


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_discord_unreachable_is_exit_5(tmp_path, discord, fmt):
    closed = f"http://127.0.0.1:{_closed_port()}/api/v10"
    env = _discord_env(discord, fmt, COLLECTIF_DISCORD__API_BASE_URL=closed)
    code, stderr = await _cli("run", cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.UNREACHABLE, "cannot reach Discord", closed, "discord.api_base_url")


@pytest.mark.parametrize(("mode", "variable", "fmt"), [("http", "SLACK_BOT_TOKEN", "text"),
                                                       ("socket", "SLACK_APP_TOKEN", "json")])
async def test_a_refused_slack_token_is_exit_4(tmp_path, slack, mode, variable, fmt):
    env = _slack_env(slack, fmt, mode, **{variable: "xoxb-not-the-token"})
    code, stderr = await _cli("run", cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.SLACK_TOKEN, f"Slack refused {variable}", "invalid_auth")


async def test_slack_unreachable_is_exit_5(tmp_path, slack):
    closed = f"http://127.0.0.1:{_closed_port()}/api/"
    env = _slack_env(slack, "json", "http", COLLECTIF_SLACK__API_BASE_URL=closed)
    code, stderr = await _cli("run", cwd=tmp_path, env=env)
    _one_line(code, stderr, "json", startup.UNREACHABLE, "cannot reach Slack", "slack.api_base_url")


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_only_the_slack_bot_token_names_what_is_missing(tmp_path, mode):
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "COLLECTIF_SLACK__MODE": mode}
    code, stderr = await _cli("run", cwd=tmp_path, env=env)
    missing = "SLACK_APP_TOKEN" if mode == "socket" else "SLACK_SIGNING_SECRET"
    _one_line(code, stderr, "text", startup.CONFIG, f"{missing} is missing", "SLACK_APP_TOKEN",
              "Socket Mode", "SLACK_SIGNING_SECRET", "HTTP mode")
    assert list(tmp_path.iterdir()) == []  # no database created


@pytest.mark.parametrize(("args", "fmt"), [(("run",), "json"), (("db", "upgrade"), "text")])
async def test_a_missing_database_folder_is_exit_6(tmp_path, discord, args, fmt):
    folder = tmp_path / "no" / "such"
    env = _discord_env(discord, fmt, COLLECTIF_DATABASE__URL=f"sqlite+aiosqlite:///{folder}/collectif.db")
    code, stderr = await _cli(*args, cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.DATABASE, str(folder), "does not exist", "database.url")


def _without_root_override() -> tuple[str, ...]:
    """root ignores file modes; without CAP_DAC_OVERRIDE it obeys them like any user."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be simulated")
    return ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_read_only_database_folder_is_exit_6(tmp_path, discord, fmt):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    env = _discord_env(discord, fmt, COLLECTIF_DATABASE__URL=f"sqlite+aiosqlite:///{folder}/collectif.db")
    try:
        code, stderr = await _cli("run", cwd=tmp_path, env=env, prefix=_without_root_override())
    finally:
        folder.chmod(0o755)
    _one_line(code, stderr, fmt, startup.DATABASE, str(folder), "not writable", "database.url")
    assert not (folder / "collectif.db").exists()


@pytest.mark.parametrize(("args", "fmt"), [(("run",), "json"), (("db", "upgrade"), "text")])
async def test_a_database_a_newer_collectif_migrated_is_exit_6(tmp_path, discord, args, fmt):
    """README "Upgrading": going back means the previous version's backup; started on the newer
    database, the previous version stops in one line (not Alembic's traceback, exit 1, restarted)."""
    from tests.databases import migrated_sqlite

    url = await migrated_sqlite(tmp_path / "c.db")
    env = _discord_env(discord, fmt, COLLECTIF_DATABASE__URL=url)
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("INSERT INTO alembic_version (version_num) VALUES ('0999')")  # a newer branch
    code, stderr = await _cli(*args, cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.DATABASE, "migrated by a newer Collectif version", "0999",
              "db restore")
    assert not (tmp_path / "backups").exists()  # no backup before a migration that cannot happen
    assert discord.requests == []  # stopped before connecting


async def test_an_unexpected_crash_stays_json(tmp_path, discord):
    async def broken(recorded: Any) -> tuple[int, Any]:
        return 200, {}  # discord.py cannot read this application: an error nobody planned for

    discord._routes.insert(0, ("GET", re.compile(r"/oauth2/applications/@me"), broken))
    code, stderr = await _cli("run", cwd=tmp_path, env=_discord_env(discord, "json"))
    assert code == startup.CRASHED, stderr
    problems = _problems(stderr, "json")
    assert [p["level"] for p in problems] == ["CRITICAL"], stderr
    assert "Traceback" in problems[0]["exception"]


async def test_a_clean_start_in_json_prints_only_json_and_no_voice_or_plugin_notices(tmp_path, discord):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           **_discord_env(discord, "json")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        async def until_ready() -> None:
            while not any('"discord ready"' in line for line in lines):
                line = (await process.stderr.readline()).decode()  # type: ignore[union-attr]
                assert line, "".join(lines)
                lines.append(line)

        await asyncio.wait_for(until_ready(), 60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 30)
    stderr = "".join(lines) + rest.decode()
    assert process.returncode == 0, stderr
    assert _problems(stderr, "json") == []


# -- database.url: its password, its options, `discord sync` on a database not ready -----------------

URL_CHARACTER_PASSWORDS = ["Tr0ub#4dor", "Tr0ub?4dor", "Tr0ub/4dor"]  # raw in the URL: SQLAlchemy reads them


@pytest.mark.parametrize("password", URL_CHARACTER_PASSWORDS)
async def test_a_database_that_does_not_answer_is_one_line_without_its_password(tmp_path, password):
    url = f"postgresql+asyncpg://collectif:{password}@127.0.0.1:{_closed_port()}/collectif"
    code, stderr = await _cli("db", "upgrade", cwd=tmp_path, env={"COLLECTIF_DATABASE__URL": url})
    _one_line(code, stderr, "text", startup.DATABASE, "cannot connect to the database",
              "collectif:****@127.0.0.1")
    assert "4dor" not in stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_libpq_sslmode_in_the_database_url_is_accepted(tmp_path, fmt):
    """Managed providers hand out `?sslmode=require`; asyncpg has no sslmode argument (a TypeError, exit
    1, restarted in a loop): it is given to asyncpg as ssl=require, and here the server is down."""
    url = f"postgresql+asyncpg://collectif:pw@127.0.0.1:{_closed_port()}/collectif?sslmode=require"
    env = {"COLLECTIF_DATABASE__URL": url, "COLLECTIF_LOGGING__FORMAT": fmt}
    code, stderr = await _cli("db", "upgrade", cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.DATABASE, "cannot connect to the database", "ssl=require")


@pytest.mark.parametrize(("args", "fmt"), [(("run",), "json"), (("db", "upgrade"), "text")])
async def test_a_database_url_option_the_driver_does_not_take_is_a_configuration_error(tmp_path, discord,
                                                                                       args, fmt):
    url = f"postgresql+asyncpg://collectif:pw@127.0.0.1:{_closed_port()}/collectif?application_name=bot"
    env = _discord_env(discord, fmt, COLLECTIF_DATABASE__URL=url)
    code, stderr = await _cli(*args, cwd=tmp_path, env=env)
    _one_line(code, stderr, fmt, startup.CONFIG, "database.url", "application_name")
    assert discord.requests == []  # stopped before connecting


async def _cli_with_output(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_discord_sync_on_a_fresh_install_migrates_first_as_run_does(tmp_path, discord):
    env = _discord_env(discord, "text")
    code, out, stderr = await _cli_with_output("discord", "sync", cwd=tmp_path, env=env)
    assert code == 0, stderr
    assert "commands synced" in out
    assert "Traceback" not in stderr and "no such table" not in stderr
    with sqlite3.connect(tmp_path / "collectif.db") as conn:  # migrated, as `collectif run` leaves it
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] > 0
    conn.close()


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_discord_sync_with_the_database_down_is_exit_6(tmp_path, discord, fmt):
    url = f"postgresql+asyncpg://collectif:pw@127.0.0.1:{_closed_port()}/collectif"
    code, stderr = await _cli("discord", "sync", cwd=tmp_path,
                              env=_discord_env(discord, fmt, COLLECTIF_DATABASE__URL=url))
    _one_line(code, stderr, fmt, startup.DATABASE, "cannot connect to the database", "database.url")
    assert discord.requests == []  # stopped before logging in


# -- a configuration error found before logging is set up: still the chosen format --------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(("args", "env", "words"), [
    (("run",), {"COLLECTIF_COMMUNITY__TIMEZONE": "Nowhere/Land"}, ("community.timezone",)),
    (("run",), {"COLLECTIF_LOGGING__LEVEL": "LOUD"}, ("logging.level",)),
    (("discord", "sync"), {}, ("DISCORD_TOKEN",)),
])
async def test_a_configuration_error_is_one_log_line_of_the_chosen_format(tmp_path, fmt, args, env, words):
    code, stderr = await _cli(*args, cwd=tmp_path, env={"COLLECTIF_LOGGING__FORMAT": fmt, **env})
    _one_line(code, stderr, fmt, startup.CONFIG, *words)
    assert list(tmp_path.iterdir()) == []  # nothing created before refusing


async def test_only_the_drivers_own_type_and_value_errors_name_database_url() -> None:
    from storage.engine import Database

    url = f"postgresql+asyncpg://collectif:pw@127.0.0.1:{_closed_port()}/collectif?connect_timeout=5"
    db = Database.from_url(url)
    try:
        with pytest.raises(TypeError) as refused:  # libpq's option, not asyncpg's
            async with db.engine.connect():
                pass
    finally:
        await db.dispose()
    failure = startup.database_error(url, refused.value)
    assert failure is not None and failure.exit_code == startup.CONFIG
    assert "database.url" in str(failure) and "connect_timeout" in str(failure)
    with pytest.raises(ValueError) as bad_port:
        Database.from_url("postgresql+asyncpg://collectif:pw@db.example:54x2/collectif")
    assert startup.database_error("postgresql+asyncpg://db", bad_port.value) is not None
    with pytest.raises(ValueError) as ours:
        int("a bug of ours")
    assert startup.database_error(url, ours.value) is None  # stays an unexpected error (logged, exit 1)
