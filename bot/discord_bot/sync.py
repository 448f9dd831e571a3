"""Command sync only when the definitions changed: a hash of the translated payloads kept in `meta`.

Discord caps command creation at 200 a day per guild, so start-up compares the hash of what it
would send with the last one synced for this application and target, and sends nothing when equal.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from sqlalchemy import delete, select

from bot.discord_bot.client import CollectifBot
from storage.models import Meta
from storage.sql import dialect_insert

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services
    from storage.engine import Database

log = logging.getLogger(__name__)
HASH_KEY = "discord.commands.hash"


async def command_payloads(tree: app_commands.CommandTree) -> list[dict[str, Any]]:
    """What `tree.sync()` would send for the global commands, with English default texts."""
    translator = tree.translator
    commands = sorted(tree.get_commands(), key=lambda c: c.name)
    if translator is None:
        return [c.to_dict(tree) for c in commands]
    payloads = [await c.get_translated_payload(tree, translator) for c in commands]
    for payload in payloads:
        _english_defaults(payload)
    return payloads


def _english_defaults(item: dict[str, Any]) -> None:
    """Replace catalog keys used as default texts by the English text (the en-US localization)."""
    english = (item.get("description_localizations") or {}).get("en-US")
    if english and "description" in item:
        item["description"] = english
    for option in item.get("options") or ():
        _english_defaults(option)
    for choice in item.get("choices") or ():
        name = (choice.get("name_localizations") or {}).get("en-US")
        if name:
            choice["name"] = name


def payload_hash(payloads: list[dict[str, Any]]) -> str:
    text = json.dumps(payloads, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_key(application_id: int, guild_id: int | None) -> str:
    """One hash per application and target: a new token or a new dev guild syncs again."""
    return f"{HASH_KEY}:{application_id}:{guild_id or 'global'}"


async def sync_commands(bot: CollectifBot, force: bool = False) -> bool:
    """Send the command definitions to Discord unless unchanged since the last sync; True when sent.

    The target is `discord.dev_guild_id` when set (instant, for development), else global. A former
    development guild's copies are removed first, whether or not the commands changed.
    Needs a logged-in bot (its application id); never called on reconnect.
    """
    if bot.application_id is None:
        raise RuntimeError("sync_commands needs a logged-in bot")
    services = bot.services
    guild_id = services.settings.discord.dev_guild_id
    payloads = await command_payloads(bot.tree)
    digest = payload_hash(payloads)
    key = hash_key(bot.application_id, guild_id)
    async with services.db.transaction(write=False) as session:
        stored = await session.get(Meta, key)
        stale = await _other_guilds(session, bot.application_id, guild_id)
    for other in stale:
        await _clear_guild(bot, other)
    if not force and stored is not None and stored.value == digest:
        log.info("commands unchanged since the last sync (%s), not syncing", digest[:12])
        return False
    if guild_id is None:
        await bot.http.bulk_upsert_global_commands(bot.application_id, payload=payloads)
    else:
        await bot.http.bulk_upsert_guild_commands(bot.application_id, guild_id, payload=payloads)
    await remember_sync(services.db, key, digest, services.clock.now())
    log.info("synced %d commands to %s (%s)", len(payloads), guild_id or "all guilds", digest[:12])
    return True


async def _other_guilds(session: AsyncSession, application_id: int, guild_id: int | None) -> list[int]:
    """The guilds this application synced commands to before, other than today's target.

    A server once set as `discord.dev_guild_id` keeps its own copy of every command: once the
    setting is removed (or changed) each command would show twice there, global and guild copies.
    """
    prefix = f"{HASH_KEY}:{application_id}:"
    keys = await session.scalars(select(Meta.key).where(Meta.key.startswith(prefix, autoescape=True)))
    targets = (key.removeprefix(prefix) for key in keys)
    return [int(t) for t in targets if t.isdecimal() and int(t) != guild_id]


async def _clear_guild(bot: CollectifBot, guild_id: int) -> None:
    """Remove the commands synced to a former development guild, then forget that target.

    A guild the bot has left (403 / 404) is forgotten too; any other failure keeps the target, so
    the next start tries again.
    """
    assert bot.application_id is not None
    try:
        await bot.http.bulk_upsert_guild_commands(bot.application_id, guild_id, payload=[])
    except (discord.Forbidden, discord.NotFound):
        log.info("former development guild %s no longer reachable; forgetting its commands", guild_id)
    except (discord.HTTPException, discord.RateLimited) as exc:
        log.warning("could not clear the commands of former development guild %s (%s); will retry at "
                    "the next start", guild_id, getattr(exc, "status", "rate limited"))
        return
    else:
        log.info("cleared the commands of former development guild %s", guild_id)
    async with bot.services.db.transaction() as session:
        await session.execute(delete(Meta).where(Meta.key == hash_key(bot.application_id, guild_id)))


async def remember_sync(db: Database, key: str, digest: str, now: datetime) -> None:
    """Store the synced hash with an upsert, not `merge()` (SELECT then INSERT).

    Two processes starting together both sync and both store the same hash: the second must not
    fail on the primary key.
    """
    async with db.transaction() as session:
        await session.execute(
            dialect_insert(session, Meta)
            .values(key=key, value=digest, updated_at=now)
            .on_conflict_do_update(index_elements=["key"], set_={"value": digest, "updated_at": now})
        )


def discord_token(services: Services) -> str:
    if services.secrets.discord_token is None:
        raise RuntimeError("DISCORD_TOKEN is not set")
    return services.secrets.discord_token.get_secret_value()
