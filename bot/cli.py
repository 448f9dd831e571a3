"""The `collectif` command line: run, check-config, health, db, discord sync / invite-url, slack manifest."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__, startup
from bot.config import ConfigError, Secrets, Settings, load_settings, masked
from bot.log import setup_logging

log = logging.getLogger("collectif")


_EXIT_CODES = """\
exit codes (README: "Exit codes"):
  0  done, or stopped on request (Ctrl-C, SIGTERM)
  1  unexpected error (logged), or a platform connection ended on its own
  2  configuration: a wrong setting, no credentials, Slack credentials incomplete
  3  Discord refused DISCORD_TOKEN
  4  Slack refused SLACK_BOT_TOKEN or SLACK_APP_TOKEN
  5  Discord or Slack cannot be reached
  6  the database cannot be opened or written"""

_SETTINGS = """\
Settings come from --config PATH, else $COLLECTIF_CONFIG, else ./config.toml when present; every key
can be overridden by COLLECTIF_<SECTION>__<KEY> (e.g. COLLECTIF_DATABASE__URL). Secrets
(DISCORD_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET) come from the environment or
a .env file in the working directory."""

# (name, one-line help, description) of each command; a description is shown by `COMMAND --help`.
_RUN = (
    "start every platform that has credentials",
    "Apply the pending database migrations, then connect Discord and/or Slack (each platform whose "
    "credentials are set) and serve until stopped with Ctrl-C or SIGTERM.",
)
_CHECK_CONFIG = (
    "print the version and the effective settings, secrets masked",
    "Print, as JSON, Collectif's version and the settings it would run with (file, environment "
    "overrides and defaults merged), which secrets are set (masked), and the database URL with its "
    "password masked. Exit code 2 names a wrong setting.",
)
_HEALTH = (
    "check that the database answers and is migrated (exit 0 healthy, 1 not)",
    "Open the database read-only, check that it answers and that every migration is applied, print "
    "one line and exit 0 (healthy) or 1 (unhealthy). Never creates nor migrates the database. Used by "
    "the container image's HEALTHCHECK.",
)
_DB = ("database tasks (upgrade)", "Database tasks. The database is database.url (SQLite or PostgreSQL).")
_DB_UPGRADE = (
    "apply the database migrations",
    "Apply every pending migration (`collectif run` does it too). Safe to run again, and while "
    "another process starts: one process migrates at a time.",
)
_DISCORD = ("Discord tasks (sync, invite-url)", "Discord tasks; they use DISCORD_TOKEN.")
_DISCORD_SYNC = (
    "register the slash commands now",
    "Log in to Discord with DISCORD_TOKEN and register the slash commands now (globally, or on "
    "discord.dev_guild_id when set), even if they did not change.",
)
_INVITE_URL = (
    "print the link that adds the bot to a server",
    "Print the OAuth2 URL that adds the bot to a Discord server, with the bot and "
    "applications.commands scopes and only the permissions the features use.",
)
_SLACK = ("Slack tasks (manifest)", "Slack tasks.")
_MANIFEST = (
    "print the Slack app manifest (JSON)",
    "Print the Slack app manifest as JSON, generated from the command list the bot registers. Paste it "
    "into https://api.slack.com/apps (Create New App, From a manifest). In HTTP mode "
    "(slack.mode = \"http\") slack.request_url must be set.",
)


def _config_option(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # After a subcommand the option must not overwrite a value given before it: SUPPRESS leaves the
    # namespace alone when the option is absent at that level.
    parser.add_argument(
        "--config", type=Path, metavar="PATH", default=None if top else argparse.SUPPRESS,
        help="TOML settings file (default: $COLLECTIF_CONFIG, else ./config.toml when present)",
    )


def _add(sub: Any, name: str, text: tuple[str, str], *, epilog: str | None = None,
         config: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text[0], description=textwrap.fill(text[1], 100), epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if config:
        _config_option(parser, top=False)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collectif",
        description="Collectif, a Discord and Slack bot for freelance collectives.\n\n" + _SETTINGS,
        epilog="`collectif COMMAND --help` describes a command.\n\n" + _EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"collectif {__version__}")
    _config_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add(sub, "run", _RUN, epilog=_EXIT_CODES)
    _add(sub, "check-config", _CHECK_CONFIG)
    _add(sub, "health", _HEALTH)
    db = _add(sub, "db", _DB).add_subparsers(dest="action", required=True, metavar="ACTION")
    _add(db, "upgrade", _DB_UPGRADE)
    discord = _add(sub, "discord", _DISCORD).add_subparsers(dest="action", required=True, metavar="ACTION")
    _add(discord, "sync", _DISCORD_SYNC, epilog=_EXIT_CODES)
    invite = _add(discord, "invite-url", _INVITE_URL)
    invite.add_argument("--application-id", type=int, metavar="ID",
                        help="the application's id (default: read from DISCORD_TOKEN)")
    slack = _add(sub, "slack", _SLACK).add_subparsers(dest="action", required=True, metavar="ACTION")
    _add(slack, "manifest", _MANIFEST)
    return parser


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with the base64 of the bot's user id, which is the application id."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


async def _db_upgrade(settings: Settings) -> None:
    from storage.engine import Database
    from storage.migrate import upgrade

    startup.check_database(settings.database.url)
    db = Database.from_url(settings.database.url)
    try:
        await upgrade(db.engine)
    except Exception as exc:
        failure = startup.database_error(settings.database.url, exc)
        if failure is None:
            raise
        raise failure from None
    finally:
        await db.dispose()


async def _discord_sync(settings: Settings, secrets: Secrets) -> int:
    from bot.discord_bot.runtime import sync_once
    from bot.services import Services

    startup.check_database(settings.database.url)
    services = Services.build(settings, secrets)
    try:
        return await sync_once(services)
    finally:
        await services.db.dispose()


HEALTH_TIMEOUT = 8.0  # seconds; under the image's HEALTHCHECK --timeout


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file the URL names when it does not exist (opening it would create it)."""
    from sqlalchemy import make_url

    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).absolute()
    return None if path.is_file() else path


async def _health(settings: Settings) -> str | None:
    """What is wrong with the database, in one line, or None when it answers and is migrated."""
    from sqlalchemy import text

    from storage.engine import WRITE_OPTION, Database
    from storage.migrate import is_up_to_date

    url = settings.database.url
    if (missing := _missing_sqlite_file(url)) is not None:
        return f"the database file {missing} does not exist (run `collectif db upgrade`)"
    db = Database.from_url(url)
    try:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(**{WRITE_OPTION: False})
            await conn.execute(text("SELECT 1"))
        if not await is_up_to_date(db.engine):
            return "the database has pending migrations (run `collectif db upgrade`)"
    except Exception as exc:
        failure = startup.database_error(url, exc)
        return str(failure) if failure else f"database check failed: {type(exc).__name__}: {exc}"
    finally:
        await db.dispose()
    return None


def _check_health(settings: Settings) -> int:
    """0 healthy, 1 unhealthy (Docker reserves HEALTHCHECK's exit code 2)."""

    async def bounded() -> str | None:
        try:
            return await asyncio.wait_for(_health(settings), HEALTH_TIMEOUT)
        except TimeoutError:
            return f"the database did not answer within {HEALTH_TIMEOUT:g} s"

    problem = asyncio.run(bounded())
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print("healthy: the database answers and is migrated")
    return 0


def _fail(message: str) -> int:
    print(f"collectif: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done; 1 unexpected error (logged); 2 and up: see bot.startup (README: "Exit codes")."""
    args = _parser().parse_args(argv)
    code = _main(args)
    if args.command == "health" and code != 0:
        return 1  # a health check is healthy (0) or not (1): Docker reserves 2
    return code


def _main(args: argparse.Namespace) -> int:
    try:
        settings, secrets = load_settings(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    setup_logging(settings.logging)
    try:
        return _command(args, settings, secrets)
    except startup.StartupError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except Exception:
        log.critical("stopped by an unexpected error", exc_info=True)
        return startup.CRASHED


def _command(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    if args.command == "check-config":
        print(json.dumps({"version": __version__, **masked(settings, secrets)}, indent=2, ensure_ascii=False))
        return 0
    if args.command == "health":
        return _check_health(settings)
    if args.command == "db":
        asyncio.run(_db_upgrade(settings))
        print("database is up to date")
        return 0
    if args.command == "slack":
        from bot.features import load_features
        from bot.slack_app.manifest import manifest

        try:
            generated = manifest(settings, load_features())
        except ConfigError as exc:
            return _fail(str(exc))
        print(json.dumps(generated, indent=2, ensure_ascii=False))
        return 0
    if args.command == "discord" and args.action == "invite-url":
        from bot.discord_bot.invite import invite_url

        app_id = args.application_id
        if app_id is None and secrets.discord_token:
            app_id = application_id_from_token(secrets.discord_token.get_secret_value())
        if app_id is None:
            return _fail("give --application-id or set DISCORD_TOKEN")
        print(invite_url(app_id))
        return 0
    if args.command == "discord":
        if not secrets.has_discord:
            return _fail("DISCORD_TOKEN is not set (README: \"Tokens\")")
        return asyncio.run(_discord_sync(settings, secrets))

    from bot.runner import run

    try:
        return asyncio.run(run(settings, secrets))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 0


if __name__ == "__main__":
    sys.exit(main())
