"""The `collectif` command line: run, check-config, db upgrade, discord sync / invite-url, slack manifest."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import startup
from bot.config import ConfigError, Secrets, Settings, load_settings, masked
from bot.log import setup_logging

log = logging.getLogger("collectif")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collectif", description=__doc__)
    parser.add_argument(
        "--config", type=Path, help="TOML settings file (default: $COLLECTIF_CONFIG, else ./config.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="start every platform that has credentials")
    sub.add_parser("check-config", help="print the effective settings, secrets masked")
    db = sub.add_parser("db", help="database tasks").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the migrations")
    discord = sub.add_parser("discord", help="Discord tasks").add_subparsers(dest="action", required=True)
    discord.add_parser("sync", help="sync the application commands now")
    invite = discord.add_parser("invite-url", help="print the URL that adds the bot to a server")
    invite.add_argument("--application-id", type=int, help="default: read from DISCORD_TOKEN")
    slack = sub.add_parser("slack", help="Slack tasks").add_subparsers(dest="action", required=True)
    slack.add_parser("manifest", help="print the Slack app manifest (JSON)")
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


def _fail(message: str) -> int:
    print(f"collectif: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done; 1 unexpected error (logged); 2 and up: see bot.startup (README: "Exit codes")."""
    args = _parser().parse_args(argv)
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
        print(json.dumps(masked(settings, secrets), indent=2, ensure_ascii=False))
        return 0
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
