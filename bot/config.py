"""Typed settings: a TOML file overridden by COLLECTIF_<SECTION>__<KEY>; secrets from the environment."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

ENV_PREFIX = "COLLECTIF_"
CONFIG_ENV = "COLLECTIF_CONFIG"
DEFAULT_CONFIG_FILE = Path("config.toml")
SUPPORTED_LOCALES = ("fr", "en")
SLACK_EVENTS_PATH = "/slack/events"  # where HTTP mode serves Slack (bot/slack_app/runtime.py EVENTS_PATH)


class ConfigError(Exception):
    """A setting is wrong; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///collectif.db"
    echo: bool = False
    # How long a resolved caller (community, member, moderator or not) is reused without a query.
    # This process forgets it at once on every change it makes; the lifetime bounds how long a change
    # made by another process sharing the database goes unseen. 0 turns the cache off.
    caller_cache_seconds: float = Field(default=30.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return _asyncpg_url(value) if value.startswith("postgresql") else value


# What asyncpg's `ssl` takes as text (libpq's sslmode values); `sslmode=` is libpq's spelling of it.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _asyncpg_url(value: str) -> str:
    """A PostgreSQL URL SQLAlchemy can parse, with libpq's `sslmode=` given to asyncpg as `ssl=`.

    Managed providers hand out `...?sslmode=require`: asyncpg has no `sslmode` argument (connecting
    would fail with a TypeError), its `ssl` takes the same values.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # Never the URL itself in the message: it holds the password.
        raise ValueError("not a valid database URL: expected postgresql+asyncpg://user:password@host:port/"
                         "database, the port a number") from None
    query = {key.lower(): val for key, val in url.query.items()}
    sslmode, ssl = query.get("sslmode"), query.get("ssl")
    if sslmode is not None and ssl is not None:
        raise ValueError("give ssl=… or sslmode=…, not both")
    mode = sslmode if sslmode is not None else ssl
    if mode is not None and (not isinstance(mode, str) or mode not in SSL_MODES):
        raise ValueError(f"ssl / sslmode must be one of {', '.join(SSL_MODES)}")
    if sslmode is None:
        return value
    keys = [key for key in url.query if key.lower() == "sslmode"]
    return url.difference_update_query(keys).update_query_dict({"ssl": sslmode}).render_as_string(
        hide_password=False)


class DiscordSettings(_Section):
    api_base_url: AnyHttpUrl = AnyHttpUrl("https://discord.com/api/v10")
    dev_guild_id: int | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    guild_ready_timeout: float = Field(default=0.5, gt=0)

    @field_validator("shard_ids")
    @classmethod
    def _each_shard_once(cls, value: list[int] | None) -> list[int] | None:
        # An empty list would run every shard (discord.py: `shard_ids or range(shard_count)`), serving the
        # other processes' servers too; a repeated id would open its gateway session twice.
        if value is not None and not value:
            raise ValueError("must list this process's shards (leave it out to run them all)")
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each shard id only once")
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count")
            if any(not 0 <= s < self.shard_count for s in self.shard_ids):
                raise ValueError("shard_ids must be between 0 and shard_count - 1")
        return self

    @property
    def api_base(self) -> str:
        return str(self.api_base_url).rstrip("/")


class SlackSettings(_Section):
    mode: Literal["socket", "http"] = "socket"
    http_host: str = "0.0.0.0"  # noqa: S104 - HTTP mode is meant to be reached by Slack
    http_port: int = Field(default=3000, ge=0, le=65535)
    api_base_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")
    request_url: AnyHttpUrl | None = None
    command: str = "/collectif"

    @field_validator("request_url")
    @classmethod
    def _served_path(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        # Slack sends everything to this URL: any other path answers 404 and Slack refuses to verify it.
        # A reverse proxy may add a prefix (https://example.org/collectif/slack/events).
        if value is not None and not (value.path or "").endswith(SLACK_EVENTS_PATH):
            raise ValueError(f"must end with {SLACK_EVENTS_PATH}, where Collectif serves Slack "
                             f"(e.g. https://bot.example.org{SLACK_EVENTS_PATH})")
        return value

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or len(value) > 32 or " " in value:
            raise ValueError("must look like /collectif")
        return value

    @property
    def api_base(self) -> str:
        base = str(self.api_base_url)
        return base if base.endswith("/") else base + "/"


class CommunityDefaults(_Section):
    locale: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class SchedulerSettings(_Section):
    sweep_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)


class OpsSettings(_Section):
    """Health and metrics over HTTP (bot/ops/server.py); off unless a port is set or Slack serves HTTP."""

    http_host: str = "127.0.0.1"  # this machine only; 0.0.0.0 for a scraper on another host
    http_port: int | None = Field(default=None, ge=0, le=65535)
    # /healthz turns 503 when a due job has waited longer than this (the scheduler is stuck or down).
    scheduler_lag_seconds: float = Field(default=120.0, gt=0)


class BackupSettings(_Section):
    """`collectif db backup` and the automatic backup before a migration (SQLite)."""

    # Where backups go when `collectif db backup` gets no path, and the automatic ones: by default a
    # `backups` folder beside the SQLite file.
    dir: str | None = None
    keep: int = Field(default=10, ge=1, le=1000)  # the newest kept in that folder, older ones deleted
    before_migrate: bool = True  # `collectif run` / `db upgrade` back up SQLite before a migration


class Settings(BaseSettings):
    """Everything that is not a secret. Built by `load_settings`, never at import time."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: DatabaseSettings = DatabaseSettings()
    discord: DiscordSettings = DiscordSettings()
    slack: SlackSettings = SlackSettings()
    community: CommunityDefaults = CommunityDefaults()
    logging: LoggingSettings = LoggingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    ops: OpsSettings = OpsSettings()
    backup: BackupSettings = BackupSettings()


class Secrets(BaseModel):
    """Tokens, under their conventional names, read from the environment or a git-ignored .env."""

    model_config = ConfigDict(frozen=True)

    discord_token: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    # Distribution to many workspaces (HTTP mode, OAuth install flow): the app's Basic Information.
    slack_client_id: SecretStr | None = None
    slack_client_secret: SecretStr | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        def get(name: str) -> SecretStr | None:
            value = env.get(name, "").strip()
            return SecretStr(value) if value else None

        return cls(
            discord_token=get("DISCORD_TOKEN"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
        )

    @property
    def has_discord(self) -> bool:
        return self.discord_token is not None

    def slack_distributed(self, mode: str) -> bool:
        """Many workspaces through the OAuth install flow (bot/slack_app/installations.py).

        HTTP mode with the client id, secret and signing secret, and no SLACK_BOT_TOKEN (one token
        means one workspace, as before).
        """
        return (mode == "http" and self.slack_bot_token is None and self.slack_client_id is not None
                and self.slack_client_secret is not None and self.slack_signing_secret is not None)

    def has_slack(self, mode: str) -> bool:
        if self.slack_distributed(mode):
            return True
        if self.slack_bot_token is None:
            return False
        if mode == "socket":
            return self.slack_app_token is not None
        return self.slack_signing_secret is not None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from exc


def _config_path(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    if explicit is not None:
        return explicit
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(root)"
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown setting"
    message = first["msg"].removeprefix("Value error, ")
    return f"{key}: {message}"


def load_dotenv_file(path: Path = Path(".env")) -> dict[str, str]:
    """Values of a git-ignored .env file; the real environment wins over it."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, Secrets]:
    """Settings from the file and the environment; raises ConfigError with one line on a bad value."""
    environ: dict[str, str] = {**load_dotenv_file(), **os.environ} if env is None else dict(env)
    config_path = _config_path(path, environ)
    data = _read_toml(config_path) if config_path else {}
    overrides = {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX) and k != CONFIG_ENV}
    unknown = [k for k in overrides if "__" not in k or k[len(ENV_PREFIX):].split("__")[0].lower()
               not in Settings.model_fields]
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown setting")
    try:
        settings = _with_env(overrides)(**data)
    except ValidationError as exc:
        where = f" (in {config_path})" if config_path else ""
        raise ConfigError(_describe(exc) + where) from exc
    return settings, Secrets.from_env(environ)


def logging_anyway(path: Path | None = None, env: Mapping[str, str] | None = None) -> LoggingSettings:
    """The logging settings to report a configuration error with (load_settings failed).

    Each of logging.level and logging.format that is valid by itself (the environment's
    COLLECTIF_LOGGING__…, else the file's), the default for the others: with `format = "json"` the error
    is a JSON line too, whatever else is wrong.
    """
    environ: dict[str, str] = {**load_dotenv_file(), **os.environ} if env is None else dict(env)
    try:
        config_path = _config_path(path, environ)
        data = _read_toml(config_path) if config_path else {}
    except ConfigError:
        data = {}
    section = data.get("logging")
    from_file: dict[str, Any] = section if isinstance(section, dict) else {}
    from_env = {key[len(ENV_PREFIX):].lower(): value for key, value in environ.items()
                if key.upper().startswith(f"{ENV_PREFIX}LOGGING__")}
    values: dict[str, Any] = {}
    for key in LoggingSettings.model_fields:
        for candidate in (from_env.get(f"logging__{key}"), from_file.get(key)):
            if candidate is None:
                continue
            try:
                LoggingSettings.model_validate({key: candidate})
            except ValidationError:
                continue
            values[key] = candidate
            break
    return LoggingSettings.model_validate(values)


def _with_env(overrides: Mapping[str, str]) -> type[Settings]:
    """A Settings class reading the given variables instead of os.environ (testable, no global state)."""

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):
            source = EnvSettingsSource(
                settings_cls, env_prefix=ENV_PREFIX, env_nested_delimiter="__", case_sensitive=False
            )
            source.env_vars = {k.lower(): v for k, v in overrides.items()}
            return (source, init_settings)

    _Settings.__name__ = "Settings"
    return _Settings


def masked(settings: Settings, secrets: Secrets) -> dict[str, Any]:
    """The effective settings for display, secrets masked."""
    shown: dict[str, Any] = _mask_urls(settings.model_dump(mode="json"))
    shown["secrets"] = {
        name: ("set (" + _mask(value.get_secret_value()) + ")" if value else "not set")
        for name, value in {
            "DISCORD_TOKEN": secrets.discord_token,
            "SLACK_BOT_TOKEN": secrets.slack_bot_token,
            "SLACK_APP_TOKEN": secrets.slack_app_token,
            "SLACK_SIGNING_SECRET": secrets.slack_signing_secret,
            "SLACK_CLIENT_ID": secrets.slack_client_id,
            "SLACK_CLIENT_SECRET": secrets.slack_client_secret,
        }.items()
    }
    return shown


def mask_url(text: str) -> str:
    """`postgresql+asyncpg://bot:s3cret@db/collectif` -> `postgresql+asyncpg://bot:****@db/collectif`.

    A database URL is read as SQLAlchemy reads it (its password may hold a raw '#', '?' or '/', which
    a generic URL parser takes for the end of the host); the query's `password=` is masked too.
    """
    if text.startswith(("sqlite", "postgresql")):
        masked_db = _mask_database_url(text)
        if masked_db is not None:
            return masked_db
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    original = parts
    if password:
        parts = parts._replace(netloc=f"{parts.username or ''}:****@" + parts.netloc.rpartition("@")[2])
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() == "password" for key, _ in query):  # libpq also reads ?password=
        parts = parts._replace(query=urlencode(
            [(key, "****" if key.lower() == "password" else value) for key, value in query], safe="*"))
    return text if parts == original else urlunsplit(parts)


_HIDDEN = "collectifmaskedpassword"  # rendered as it is by SQLAlchemy, then shown as ****


def _mask_database_url(text: str) -> str | None:
    """The URL with its passwords masked, as SQLAlchemy parses it; None when it does not parse."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        return None
    in_query = [key for key in url.query if key.lower() == "password"]
    if not url.password and not in_query:
        return text
    if url.password:
        url = url.set(password=_HIDDEN)
    if in_query:
        url = url.update_query_dict(dict.fromkeys(in_query, _HIDDEN))
    return url.render_as_string(hide_password=False).replace(_HIDDEN, "****")


def _mask_urls(value: Any) -> Any:
    """Every URL-looking string of a settings dump with its password masked."""
    if isinstance(value, dict):
        return {key: _mask_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_urls(item) for item in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def _mask(value: str) -> str:
    return "****" if len(value) < 12 else value[:4] + "…" + "*" * 4
