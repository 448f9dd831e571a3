"""The `collectif` command line: run, check-config, health, db, discord sync / invite-url, slack manifest."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import gc
import json
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__, startup
from bot.config import (
    SUPPORTED_LOCALES,
    ConfigError,
    Secrets,
    Settings,
    load_settings,
    logging_anyway,
    masked,
)
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
  6  the database cannot be opened or written, or a newer Collectif migrated it
`db backup` and `db restore` exit 1 when they refuse or fail, with one line saying why."""

_SETTINGS = """\
Settings come from --config PATH, else $COLLECTIF_CONFIG, else ./config.toml when present; every key
can be overridden by COLLECTIF_<SECTION>__<KEY> (e.g. COLLECTIF_DATABASE__URL). Secrets
(DISCORD_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, SLACK_CLIENT_ID,
SLACK_CLIENT_SECRET) come from the environment or a .env file in the working directory."""

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
    "ask the running bot whether it is healthy, or check the database (exit 0 healthy, 1 not)",
    "With ops.http_port set (the container image sets it): ask the running bot's /healthz (database "
    "reachable, every configured platform connected, scheduler on time) and print its answer. "
    "Otherwise, or with --database: open the database read-only, check that it answers and that every "
    "migration is applied. Prints one line; exit 0 healthy, 1 unhealthy. Never creates nor "
    "migrates the database. Used by the container image's HEALTHCHECK.",
)
_DB = ("database tasks (upgrade, backup, restore, current, history)",
       "Database tasks. The database is database.url (SQLite or PostgreSQL).")
_DB_BACKUP = (
    "copy the database to a backup file, safely while the bot runs",
    "Copy the database to PATH (a file, which may only replace an earlier backup; or a folder, "
    "created when written with a trailing slash: a timestamped file in it; default: backup.dir, "
    "else a `backups` folder beside the SQLite file). SQLite: through its online backup API, "
    "consistent while the bot writes, checked for integrity. PostgreSQL: pg_dump in its custom format "
    "(PostgreSQL's client tools must be installed). In a folder, only the newest backup.keep "
    "timestamped backups (collectif-YYYYMMDD-HHMMSS…) are kept; a file you name is never deleted. "
    "Exit 1 with one line when it fails.",
)
_DB_RESTORE = (
    "replace the database with a backup (the bot must be stopped)",
    "Replace the database with the backup at PATH. Refuses while a `collectif run` uses the database. "
    "SQLite: the backup is checked first, the current file is kept beside it as "
    "`<file>.before-restore-<time>`; a backup made by a newer Collectif version is refused. "
    "PostgreSQL: pg_restore --clean. Then start the bot: it applies any migration the backup is "
    "missing. Exit 1 with one line when it refuses or fails.",
)
_DB_CURRENT = (
    "print the database's migration revisions and whether it is up to date",
    "Print the revision of each migration branch the database is at, and whether a migration is "
    "pending (exit 0 up to date, 1 pending; 6 when a newer Collectif version migrated the database).",
)
_DB_HISTORY = (
    "list the migrations, the applied ones marked",
    "List every migration (revision, branch, message), newest first; `*` marks the database's current "
    "revisions.",
)
_DB_UPGRADE = (
    "apply the database migrations",
    "Apply every pending migration (`collectif run` does it too). Safe to run again, and while "
    "another process starts: one process migrates at a time.",
)
_DISCORD = ("Discord tasks (sync, invite-url)", "Discord tasks; they use DISCORD_TOKEN.")
_DISCORD_SYNC = (
    "register the slash commands now",
    "Apply the pending database migrations (as `run` does), then log in to Discord with DISCORD_TOKEN "
    "and register the slash commands now (globally, or on discord.dev_guild_id when set), even if they "
    "did not change.",
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
    "(slack.mode = \"http\") slack.request_url must be set, ending with /slack/events.",
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
    health = _add(sub, "health", _HEALTH)
    health.add_argument("--database", action="store_true",
                        help="check the database only, even when ops.http_port is set")
    db = _add(sub, "db", _DB).add_subparsers(dest="action", required=True, metavar="ACTION")
    _add(db, "upgrade", _DB_UPGRADE)
    _add(db, "backup", _DB_BACKUP).add_argument(
        # A str, not a Path: Path() drops the trailing slash that says "a folder" (`db backup usb/`).
        "path", nargs="?", metavar="PATH", help="a file, or a folder (default: backup.dir)")
    _add(db, "restore", _DB_RESTORE).add_argument("path", type=Path, metavar="PATH", help="the backup file")
    _add(db, "current", _DB_CURRENT)
    _add(db, "history", _DB_HISTORY)
    discord = _add(sub, "discord", _DISCORD).add_subparsers(dest="action", required=True, metavar="ACTION")
    _add(discord, "sync", _DISCORD_SYNC, epilog=_EXIT_CODES)
    invite = _add(discord, "invite-url", _INVITE_URL)
    invite.add_argument("--application-id", type=int, metavar="ID",
                        help="the application's id (default: read from DISCORD_TOKEN)")
    invite.add_argument("--explain", action="store_true",
                        help="also list each permission asked for, which feature needs it and why")
    slack = _add(sub, "slack", _SLACK).add_subparsers(dest="action", required=True, metavar="ACTION")
    manifest = _add(slack, "manifest", _MANIFEST)
    manifest.add_argument("--locale", choices=SUPPORTED_LOCALES, default=None,
                          help="the language of the app's description and command hints "
                               "(default: community.locale)")
    manifest.add_argument("--explain", action="store_true",
                          help="list each bot scope and why instead of printing the manifest")
    return parser


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with the base64 of the bot's user id, which is the application id."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


async def _db_upgrade(settings: Settings) -> None:
    from bot.ops import backup
    from storage.engine import Database
    from storage.migrate import upgrade

    startup.check_database(settings.database.url)
    db = Database.from_url(settings.database.url)
    try:
        await backup.before_upgrade(settings, db.engine)
        await upgrade(db.engine)
    except backup.BackupError as exc:
        raise startup.StartupError(startup.DATABASE, f"no migration without a backup first: {exc} (or "
                                   "set backup.before_migrate = false)") from None
    except Exception as exc:
        failure = startup.database_error(settings.database.url, exc)
        if failure is None:
            raise
        raise failure from None
    finally:
        await db.dispose()


async def _discord_sync(settings: Settings, secrets: Secrets) -> int:
    """Migrate first, as `collectif run` does (the sync reads and writes the database), then sync."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.discord_bot.runtime import sync_once
    from bot.ops import backup
    from bot.runner import migrate
    from bot.services import Services

    startup.check_database(settings.database.url)
    with backup.running(settings.database.url):  # `collectif db restore` refuses meanwhile, as for `run`
        services = Services.build(settings, secrets)
        try:
            await migrate(services)  # a database that cannot be used: one line, exit 6 (StartupError)
            return await sync_once(services)
        except SQLAlchemyError as exc:  # the database failing during the sync itself
            failure = startup.database_error(settings.database.url, exc)
            if failure is None:
                raise
            raise failure from None
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


def _ask_healthz(settings: Settings) -> int:
    """GET the running bot's /healthz (bot/ops/server.py); 0 when it answers 200."""
    import urllib.error
    import urllib.request

    host = settings.ops.http_host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a listen address
    url = f"http://{host}:{settings.ops.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: no answer from {url} ({getattr(error, 'reason', error)}): is the bot running?",
              file=sys.stderr)
        return 1
    try:
        checks = json.loads(body).get("checks", {})
    except (ValueError, AttributeError):
        checks = {}
    failing = [f"{name}: {check.get('error', 'failing')}" for name, check in checks.items()
               if isinstance(check, dict) and not check.get("ok")]
    if status == 200:
        print(f"healthy: {', '.join(checks) or 'ok'}")
        return 0
    print(f"unhealthy (HTTP {status}): {'; '.join(failing) or body[:200].decode(errors='replace')}",
          file=sys.stderr)
    return 1


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


def _db_task(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops import backup

    try:
        if args.action == "backup":
            made = backup.backup(settings, args.path)
            print(f"backed up to {made.path} ({made.size:,} bytes)")
            for old in made.removed:
                print(f"removed the old backup {old} (backup.keep = {settings.backup.keep})")
            return 0
        if args.action == "restore":
            kept = backup.restore(settings, args.path)
            print(f"restored {args.path}" + (f"; the previous database is kept as {kept}" if kept else "")
                  + "; start the bot: it applies any pending migration")
            return 0
    except backup.BackupError as exc:
        print(f"collectif: {exc}", file=sys.stderr)
        return 1
    return asyncio.run(_db_revisions(settings, history=args.action == "history"))


async def _db_revisions(settings: Settings, *, history: bool) -> int:
    from storage.engine import Database
    from storage.migrate import MIGRATIONS, current_heads, is_up_to_date

    if (missing := _missing_sqlite_file(settings.database.url)) is not None:
        heads: tuple[str, ...] = ()
        up_to_date = False
        print(f"the database file {missing} does not exist yet", file=sys.stderr)
    else:
        startup.check_database(settings.database.url)
        db = Database.from_url(settings.database.url)
        try:
            heads = await current_heads(db.engine)
            # is_up_to_date raises for a newer Collectif's revision: `db current` then says so (exit 6)
            # instead of advising an upgrade that cannot work; the history lists what this one knows.
            up_to_date = False if history else await is_up_to_date(db.engine)
        except Exception as exc:
            failure = startup.database_error(settings.database.url, exc)
            if failure is None:
                raise
            raise failure from None
        finally:
            await db.dispose()
    if history:
        from alembic.script import ScriptDirectory

        from storage.migrate import alembic_config

        for revision in ScriptDirectory.from_config(alembic_config(None, MIGRATIONS)).walk_revisions():
            mark = "*" if revision.revision in heads else " "
            branch = ",".join(sorted(revision.branch_labels or ())) or "-"
            print(f"{mark} {revision.revision}  {branch:<12} {revision.doc or ''}")
        return 0
    for head in heads:
        print(head)
    print("up to date" if up_to_date else "migrations pending (run `collectif db upgrade`)")
    return 0 if up_to_date else 1


def _fail(message: str) -> int:
    """A configuration error: one log line (a JSON object with logging.format = "json"), exit 2."""
    log.error("%s", message)
    return startup.CONFIG


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
        setup_logging(logging_anyway(args.config))  # logging.format = "json" even when another key is wrong
        return _fail(str(exc))
    setup_logging(settings.logging)
    try:
        code = _command(args, settings, secrets)
        sys.stdout.flush()  # a closed pipe fails here, where it is handled, not at exit
        return code
    except startup.StartupError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except BrokenPipeError:  # `collectif db history | head`: the reader has what it wanted
        # Python's documented recipe: point stdout at devnull so the flush at exit fails no more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        log.critical("stopped by an unexpected error", exc_info=True)
        return startup.CRASHED


def _command(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    if args.command == "check-config":
        print(json.dumps({"version": __version__, **masked(settings, secrets)}, indent=2, ensure_ascii=False))
        return 0
    if args.command == "health":
        if settings.ops.http_port and not args.database:
            return _ask_healthz(settings)
        return _check_health(settings)
    if args.command == "db" and args.action != "upgrade":
        return _db_task(args, settings)
    if args.command == "db":
        asyncio.run(_db_upgrade(settings))
        print("database is up to date")
        return 0
    if args.command == "slack":
        from bot.features import load_features
        from bot.slack_app.app import scope_reasons
        from bot.slack_app.manifest import manifest

        if args.explain:
            for scope, reasons in scope_reasons(settings, load_features()).items():
                for who, why in reasons:
                    print(f"{scope:<18} {who:<11} {why}")
            return 0
        try:
            generated = manifest(settings, load_features(), args.locale)
        except ConfigError as exc:
            return _fail(str(exc))
        print(json.dumps(generated, indent=2, ensure_ascii=False))
        return 0
    if args.command == "discord" and args.action == "invite-url":
        from bot.discord_bot.invite import invite_url

        app_id = args.application_id
        if app_id is None and secrets.discord_token:
            app_id = application_id_from_token(secrets.discord_token.get_secret_value())
            if app_id is None:  # another of the portal's values pasted (Public Key, Client Secret…)
                return _fail("DISCORD_TOKEN is not a bot token (it starts with the application id): copy "
                             "it again from the Developer Portal (your application > Bot > Reset Token), or "
                             "give --application-id")
        if app_id is None:
            return _fail("give --application-id or set DISCORD_TOKEN")
        print(invite_url(app_id))
        if args.explain:
            from bot.discord_bot.invite import permission_reasons
            from bot.features import load_features

            for flag, reasons in permission_reasons(load_features()).items():
                for who, why in reasons:
                    print(f"{flag:<26} {who:<11} {why}")
        return 0
    if args.command == "discord":
        if not secrets.has_discord:
            return _fail("DISCORD_TOKEN is not set (README: \"Tokens\")")
        return asyncio.run(_discord_sync(settings, secrets))

    # Off while the bot starts (its imports included), on again once it is ready: see
    # bot.runner.collector_paused_while_starting.
    gc.disable()
    try:
        from bot.runner import run

        return asyncio.run(run(settings, secrets))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 0
    finally:
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
