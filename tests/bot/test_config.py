import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, masked

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_file_or_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings, secrets = load_settings(env={})
    assert settings.database.url == "sqlite+aiosqlite:///collectif.db"
    assert settings.community.locale == "fr"
    assert settings.community.timezone == "Europe/Paris"
    assert settings.slack.mode == "socket"
    assert settings.discord.api_base == "https://discord.com/api/v10"
    assert not secrets.has_discord


def test_example_file_is_valid_and_matches_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from_file, _ = load_settings(ROOT / "config.example.toml", env={})
    via_env, _ = load_settings(env={"COLLECTIF_CONFIG": str(ROOT / "config.example.toml")})
    defaults, _ = load_settings(env={})
    assert from_file.model_dump() == defaults.model_dump() == via_env.model_dump()
    assert from_file.slack.http_port == 3000


def test_environment_overrides_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite+aiosqlite:///file.db"\n[slack]\nhttp_port = 1\n')
    settings, _ = load_settings(path, env={
        "COLLECTIF_DATABASE__URL": "postgresql+asyncpg://u@h/db",
        "COLLECTIF_SLACK__HTTP_PORT": "4000",
    })
    assert settings.database.url == "postgresql+asyncpg://u@h/db"
    assert settings.slack.http_port == 4000


def test_config_env_variable_and_local_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[community]\nlocale = "en"\n')
    assert load_settings(env={})[0].community.locale == "en"
    other = tmp_path / "other.toml"
    other.write_text('[community]\ntimezone = "America/Montreal"\n')
    settings, _ = load_settings(env={"COLLECTIF_CONFIG": str(other)})
    assert settings.community.timezone == "America/Montreal"
    assert settings.community.locale == "fr"


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        ('[community]\ntimezone = "Mars/Olympus"\n', {}, "community.timezone: unknown time zone"),
        ('[database]\nnope = 1\n', {}, "database.nope: unknown setting"),
        ('[surprise]\nx = 1\n', {}, "surprise: unknown setting"),
        ('[discord]\napi_base_url = "not a url"\n', {}, "discord.api_base_url"),
        ('[database]\nurl = "mysql://x"\n', {}, "database.url: must start with"),
        ('[slack]\nmode = "carrier-pigeon"\n', {}, "slack.mode"),
        ('[discord]\nshard_ids = [3]\nshard_count = 2\n', {}, "discord: shard_ids must be between"),
        # An empty list ran every shard (discord.py: `shard_ids or range(shard_count)`), serving the other
        # processes' servers too; a repeated id opened its gateway session twice.
        ("", {"COLLECTIF_DISCORD__SHARD_COUNT": "2", "COLLECTIF_DISCORD__SHARD_IDS": "[]"},
         "discord.shard_ids: must list"),
        ("", {"COLLECTIF_DISCORD__SHARD_COUNT": "2", "COLLECTIF_DISCORD__SHARD_IDS": "[0, 0]"},
         "discord.shard_ids: each shard id only once"),
        # A port that is not a number crashed the first connection with a ValueError traceback.
        ("", {"COLLECTIF_DATABASE__URL": "postgresql+asyncpg://collectif:pw@db.example:54x2/collectif"},
         "database.url: not a valid database URL"),
        ("", {"COLLECTIF_DATABASE__URL": "postgresql+asyncpg://c:pw@db/c?sslmode=sometimes"},
         "database.url: ssl / sslmode must be one of"),
        ("", {"COLLECTIF_DATABASE__URL": "postgresql+asyncpg://c:pw@db/c?sslmode=require&ssl=require"},
         "database.url: give ssl=… or sslmode=…, not both"),
        ("", {"COLLECTIF_SLACK__HTTP_PORT": "many"}, "slack.http_port"),
        ("", {"COLLECTIF_NOPE__X": "1"}, "COLLECTIF_NOPE__X: unknown setting"),
        ("[database\n", {}, "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path, content, env, expected):
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path / "missing.toml", env={})


def test_secrets_from_env_and_dotenv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-dotenv-token-123456\nSLACK_BOT_TOKEN=xoxb-1\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-environment")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    settings, secrets = load_settings()
    assert secrets.discord_token.get_secret_value() == "from-dotenv-token-123456"
    assert secrets.slack_bot_token.get_secret_value() == "xoxb-from-environment"
    assert secrets.has_slack("http") and not secrets.has_slack("socket")
    shown = masked(settings, secrets)
    assert "from-dotenv-token-123456" not in str(shown)
    assert shown["secrets"]["SLACK_APP_TOKEN"] == "not set"


def _cli(*args, env=None, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})}, timeout=60,
    )


def test_cli_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "config.toml").write_text('[community]\ntimezone = "Nowhere/Land"\n')
    result = _cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "community.timezone" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "config.toml"]


def test_cli_run_without_credentials_names_the_variables(tmp_path):
    result = _cli("run", cwd=tmp_path)
    assert result.returncode == 2
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "README"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_config_masks_secrets(tmp_path):
    result = _cli("check-config", cwd=tmp_path, env={"DISCORD_TOKEN": "MTIzNDU2Nzg5.secret.part"})
    assert result.returncode == 0, result.stderr
    assert "secret.part" not in result.stdout
    assert '"DISCORD_TOKEN": "set (' in result.stdout
    assert '"timezone": "Europe/Paris"' in result.stdout


def test_cli_db_upgrade_creates_the_schema(tmp_path):
    result = _cli("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "collectif.db").execute(
        "select name from sqlite_master where type='table'")}
    assert {"communities", "members", "jobs", "alembic_version"} <= tables


def test_cli_check_config_masks_the_database_password(tmp_path):
    url = "postgresql+asyncpg://collectif:Tr0ub4dor@db.example:5432/collectif?password=Tr0ub4dor&ssl=require"
    result = _cli("check-config", cwd=tmp_path, env={"COLLECTIF_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    assert "Tr0ub4dor" not in result.stdout
    masked_url = "postgresql+asyncpg://collectif:****@db.example:5432/collectif?password=****&ssl=require"
    assert masked_url in result.stdout


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///collectif.db", "postgresql://bot@db/collectif"])
def test_urls_without_a_password_are_shown_as_they_are(url):
    from bot.config import mask_url

    assert mask_url(url) == url


# A password may hold a raw '#', '?' or '/': SQLAlchemy (and so asyncpg) reads it whole, while a generic
# URL parser cuts the host at that character, found no password and showed the URL as it was.
URL_CHARACTER_PASSWORDS = ["Tr0ub#4dor", "Tr0ub?4dor", "Tr0ub/4dor"]


@pytest.mark.parametrize("password", URL_CHARACTER_PASSWORDS)
def test_check_config_masks_a_database_password_holding_url_characters(password):
    from sqlalchemy import make_url

    url = f"postgresql+asyncpg://collectif:{password}@db.example:5432/collectif"
    assert make_url(url).password == password  # the URL the bot connects with
    settings, secrets = load_settings(None, {"COLLECTIF_DATABASE__URL": url})
    shown = masked(settings, secrets)["database"]["url"]  # what `collectif check-config` prints
    assert "4dor" not in shown
    assert shown == "postgresql+asyncpg://collectif:****@db.example:5432/collectif"


def test_a_libpq_sslmode_is_given_to_asyncpg_as_ssl():
    from sqlalchemy import make_url

    url = "postgresql+asyncpg://collectif:Tr0ub#4dor@db.example:5432/collectif?sslmode=require&timeout=5"
    settings, _ = load_settings(None, {"COLLECTIF_DATABASE__URL": url})
    parsed = make_url(settings.database.url)
    assert dict(parsed.query) == {"ssl": "require", "timeout": "5"}  # asyncpg has no sslmode argument
    assert parsed.password == "Tr0ub#4dor" and parsed.host == "db.example" and parsed.port == 5432
    plain = "postgresql+asyncpg://collectif:pw@db/collectif?ssl=verify-full"
    assert load_settings(None, {"COLLECTIF_DATABASE__URL": plain})[0].database.url == plain
