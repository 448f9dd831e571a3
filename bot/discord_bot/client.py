"""The Discord bot: an AutoShardedBot built from Services, loading each feature's Discord extension."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from sqlalchemy import select

from bot import lifecycle
from bot.context import Caller, Origin
from bot.discord_bot.errors import report_error
from bot.discord_bot.forms import option_values
from bot.discord_bot.router import DiscordRouter
from bot.discord_bot.translator import CatalogTranslator
from bot.drafts import Drafts
from bot.errors import InvalidInput, UserError
from bot.features import Feature
from bot.i18n import resolve_locale
from bot.log import bind_interaction
from bot.ops.metrics import from_custom_id
from bot.services import FIRST_CONTACT_SECONDS, Services
from bot.text import is_number, refuse_control_characters
from bot.usecase import Check
from storage.communities import BATCH as COMMUNITY_BATCH
from storage.communities import NewCommunity, ensure_communities, ensure_community
from storage.models import Community

log = logging.getLogger(__name__)
PLATFORM = "discord"
# A rate limit longer than this (seconds; discord.py's smallest) raises discord.RateLimited instead of
# being waited out: a command sync over Discord's daily cap (hours), a DM route held for an hour. The
# caller treats it as a platform failure (the outbox, a job's retry), and nothing waits for hours.
RATE_LIMIT_WAIT_MAX = 30.0


# The gateway events the runtime needs: servers joined and left, their channels, roles and threads.
RUNTIME_INTENTS: tuple[tuple[str, str], ...] = (
    ("guilds", "servers joined and left (a community each), their channels, roles and threads"),
)


def bot_intents(features: Iterable[Feature] | None = None) -> discord.Intents:
    """Only what ships: `guilds`, plus what the installed features declare (`Feature.discord_intents`).

    No privileged intent (interactions carry the member and their roles), and no message, reaction,
    typing or scheduled-event stream: the features act on interactions and create events through the
    REST API, so those events would only cost bandwidth and memory.
    """
    flags = [flag for flag, _ in RUNTIME_INTENTS]
    flags += [flag for feature in features or () for flag, _ in feature.discord_intents]
    unknown = [flag for flag in flags if flag not in discord.Intents.VALID_FLAGS]
    if unknown:
        raise ValueError(f"unknown gateway intent(s): {', '.join(unknown)}")
    return discord.Intents(**dict.fromkeys(flags, True))


class CollectifTree(app_commands.CommandTree):
    """Guild-only commands; failures go to the central error handler."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Typed options are checked once, here, before any command parses them (bot.text)."""
        interaction.client.track()  # type: ignore[attr-defined]
        if interaction.type is not discord.InteractionType.application_command:
            return True  # autocomplete: only suggestions, nothing is stored or answered
        interaction.extras["started"] = time.perf_counter()  # for the metrics (measure_command)
        name = dict(interaction.data or {}).get("name", "")
        spec = next((c for c in interaction.client.services.commands  # type: ignore[attr-defined]
                     if c.name == name), None)
        bind_interaction(community=f"{PLATFORM}:{interaction.guild_id}",
                         feature=spec.feature if spec else None, interaction=str(interaction.id))
        try:
            refuse_control_characters(option_values(dict(interaction.data or {})))
        except InvalidInput as error:
            await report_error(interaction, error)
            measure_command(interaction)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)
        measure_command(interaction)


def measure_command(interaction: discord.Interaction) -> None:
    """Count a slash command once it ended (its outcome set by report_error, else ok) and its time."""
    started = interaction.extras.pop("started", None)
    if started is None:
        return
    services: Services = interaction.client.services  # type: ignore[attr-defined]
    name = dict(interaction.data or {}).get("name", "")
    spec = next((c for c in services.commands if c.name == name), None)
    services.metrics.interaction(
        PLATFORM, spec.feature if spec else "other", spec.name if spec else "other",
        str(interaction.extras.get("outcome", "ok")), time.perf_counter() - started)


class CollectifBot(commands.AutoShardedBot):
    """The Discord side of Collectif.

    Extensions reach everything through `bot.services`. Buttons, selects and modals are routed by
    their ids: an extension registers plain handlers on `bot.router` in its `setup(bot)` (see
    bot.discord_bot.router); multi-step forms keep their drafts in `bot.drafts` (bot.drafts).
    """

    def __init__(self, services: Services, **options: Any) -> None:
        settings = services.settings.discord
        # discord.py reads Route.BASE for every REST call, webhook follow-up and interaction
        # callback; AutoShardedBot then asks GET {base}/gateway/bot for the gateway URL.
        discord.http.Route.BASE = settings.api_base
        options.setdefault("shard_count", settings.shard_count)
        options.setdefault("shard_ids", settings.shard_ids)
        options.setdefault("guild_ready_timeout", settings.guild_ready_timeout)
        options.setdefault("http_trace", services.metrics.trace_config(PLATFORM))  # API answers, 429s
        options.setdefault("max_ratelimit_timeout", RATE_LIMIT_WAIT_MAX)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(services.features),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=CollectifTree,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
            chunk_guilds_at_startup=False,
            max_messages=None,
            **options,
        )
        self.services = services
        self.router = DiscordRouter()
        self.drafts = Drafts(services.clock)
        # The tasks answering an interaction (a command, a click), kept until they end, so that a
        # stop lets them finish their work (effects after the commit: a card, DMs) first (`drain`).
        self.in_flight: set[asyncio.Task[Any]] = set()

    def track(self) -> None:
        """Count the current task among those answering an interaction (see `drain`)."""
        task = asyncio.current_task()
        if task is not None and task not in self.in_flight:
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def drain(self, seconds: float) -> None:
        """Wait, at most `seconds`, for the interactions in flight to finish their work."""
        pending = [t for t in self.in_flight if t is not asyncio.current_task()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=seconds)
            if late:
                log.warning("%d interaction(s) still running after %.0f s at stop", len(late), seconds)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(self.services.catalog))
        for feature in self.services.features:
            if feature.discord_extension:
                await self.load_extension(feature.discord_extension)
        self._check_commands()

    def _check_commands(self) -> None:
        """Warn about a CommandSpec that no extension implements.

        Moderator-only actions are checked by the use cases (`Caller.is_moderator`), never by
        Discord's command visibility alone. /config and "Remove post" are shown to Manage Server by
        default (`default_member_permissions`); a community's moderator role is allowed to see them
        in Server Settings → Integrations, which `/config moderator-role`'s answer and the README say.
        """
        tree_commands = {c.name for c in self.tree.get_commands()}
        for spec in self.services.commands:
            if spec.name not in tree_commands:
                log.warning("command %s of feature %s has no Discord command", spec.name, spec.feature)

    async def launch_shards(self) -> None:
        """Like AutoShardedBot's, but the gateway URL always comes from GET /gateway/bot.

        discord.py uses its built-in gateway when shard_count is configured; asking keeps the
        one `discord.api_base_url` setting in charge of REST and gateway alike.
        """
        if self.is_closed():
            return
        recommended, gateway_url, _limits = await self.http.get_bot_gateway()
        if self.shard_count is None:
            self.shard_count = recommended
        self._connection.shard_count = self.shard_count
        shard_ids = self.shard_ids or range(self.shard_count)
        self._connection.shard_ids = shard_ids
        gateway = yarl.URL(gateway_url)
        for shard_id in shard_ids:
            await self.launch_shard(gateway, shard_id, initial=shard_id == shard_ids[0])

    async def caller(self, interaction: discord.Interaction, check: Check | None = None) -> Caller:
        """The community and member behind `interaction`, created on first contact (cached on it).

        With `check`, that read-only use case runs for the caller first (see `Services.caller`).
        """
        cached = interaction.extras.get("caller")
        if cached is not None:
            if check is not None:
                await check.run(self.services, cached)
            return cached
        if interaction.guild_id is None:
            raise UserError("errors.generic")
        permissions = interaction.permissions
        guild = interaction.guild
        origin = Origin(
            platform=PLATFORM,
            community_external_id=str(interaction.guild_id),
            community_name=guild.name if guild is not None else "",
            user_id=str(interaction.user.id),
            display_name=interaction.user.display_name,
            user_locale=interaction.locale.value,
            community_locale=interaction.guild_locale.value if interaction.guild_locale else None,
            is_platform_admin=permissions.manage_guild or permissions.administrator,
            role_ids=tuple(str(role.id) for role in getattr(interaction.user, "roles", ())),
        )
        # Not answered yet: a first contact waits on the write lock at most FIRST_CONTACT_SECONDS.
        patience = None if interaction.response.is_done() else FIRST_CONTACT_SECONDS
        caller = await self.services.caller(origin, check, patience=patience)
        interaction.extras["caller"] = caller
        return caller

    async def ensure_guild(self, guild: discord.Guild) -> None:
        """First contact with a guild: its community, in the guild's language, with default trades.

        A guild that comes back within the grace period is restored and its purge cancelled. Then
        dispatches `community_ready(community_id, guild_id)` (listeners: `on_community_ready`).
        """
        defaults = self.services.settings.community
        async with self.services.db.transaction() as session:
            community = await ensure_community(
                session,
                PLATFORM,
                str(guild.id),
                name=guild.name or "",
                locale=resolve_locale(guild.preferred_locale.value, defaults.locale),
                timezone=defaults.timezone,
            )
            if not community.active:
                await lifecycle.restore(session, self.services.scheduler, community.id)
        self.dispatch("community_ready", community.id, str(guild.id))

    async def ensure_guilds(self) -> int:
        """Reconcile the communities with READY's guilds; returns how many were (re)activated.

        The runtime calls it once ready. A guild without an active community gets one (first
        contact, or back after the bot was re-added while offline), unless it is unavailable (then
        when it comes back); then the communities whose guild removed the bot while it was offline
        are paused (`pause_departed_guilds`).
        """
        async with self.services.db.transaction(write=False) as session:
            active = set(await session.scalars(
                select(Community.external_id).where(Community.platform == PLATFORM,
                                                    Community.active.is_(True))))
        # A guild unavailable (an outage) is only a placeholder: no name, and en-US for its language.
        # Its community is made from the real guild when it comes back (`on_guild_available`).
        missing = [g for g in self.guilds if str(g.id) not in active and not g.unavailable]
        defaults = self.services.settings.community
        # A first start in thousands of guilds: a few multi-row statements per batch, and one short
        # transaction per batch so that interactions are not kept waiting on the write lock.
        for start in range(0, len(missing), COMMUNITY_BATCH):
            batch = missing[start:start + COMMUNITY_BATCH]
            wanted = [
                NewCommunity(str(g.id), g.name or "",
                             resolve_locale(g.preferred_locale.value, defaults.locale), defaults.timezone)
                for g in batch
            ]
            async with self.services.db.transaction() as session:
                known = await ensure_communities(session, PLATFORM, wanted)
                for community in known.values():
                    if not community.active:  # the bot was re-added while offline
                        await lifecycle.restore(session, self.services.scheduler, community.id)
            for guild in batch:
                self.dispatch("community_ready", known[str(guild.id)].id, str(guild.id))
        await self.pause_departed_guilds(active)
        return len(missing)

    async def pause_departed_guilds(self, active: set[str] | None = None) -> list[str]:
        """Pause the active communities of this process's shards whose guild is not among READY's.

        Only with READY complete (every shard ready: an unavailable guild is still listed), and only
        for the guilds this process's shards own, since another process sees the others. Each goes
        through `remove_community`, like a GUILD_DELETE, so its purge gets scheduled the same way.
        Returns the guild ids paused.
        """
        if not self.is_ready() or not self.shard_count:
            log.warning("guild list incomplete: no community paused for a guild that left")
            return []
        if active is None:
            async with self.services.db.transaction(write=False) as session:
                active = set(await session.scalars(
                    select(Community.external_id).where(Community.platform == PLATFORM,
                                                        Community.active.is_(True))))
        present = {str(g.id) for g in self.guilds}
        mine = set(self.shard_ids or range(self.shard_count))
        departed = sorted(
            guild_id for guild_id in active - present
            if is_number(guild_id) and (int(guild_id) >> 22) % self.shard_count in mine
        )
        for guild_id in departed:
            await self.remove_community(guild_id)
        if departed:
            log.info("%d guild(s) removed the bot while it was offline: paused", len(departed))
        return departed

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Buttons, selects and modals go to the handler a feature registered for their id."""
        self.track()
        started = time.perf_counter()
        feature, verb = from_custom_id(str(dict(interaction.data or {}).get("custom_id") or ""),
                                       (f.name for f in self.services.features))
        bind_interaction(community=f"{PLATFORM}:{interaction.guild_id}", feature=feature,
                         interaction=str(interaction.id))
        if await self.router.dispatch(self, interaction):
            self.services.metrics.interaction(PLATFORM, feature, verb,
                                              str(interaction.extras.get("outcome", "ok")),
                                              time.perf_counter() - started)

    async def on_app_command_completion(self, interaction: discord.Interaction, _command: Any) -> None:
        measure_command(interaction)

    async def on_member_data_deleted(self, community_id: int, member_id: int) -> None:
        """/privacy delete: unsent form drafts (bio, links…) go with the rest."""
        self.drafts.forget_member(community_id, member_id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.ensure_guild(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # At start-up `ensure_guilds` does it in bulk; later this covers a guild back from an outage.
        if self.is_ready():
            await self.ensure_guild(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.remove_community(str(guild.id))

    async def remove_community(self, guild_id: str) -> None:
        """Removed from a server: the community is paused and its purge scheduled after the grace period.

        Then dispatches `community_removed(guild_id)`.
        """
        await lifecycle.deactivate(self.services, PLATFORM, guild_id)
        self.dispatch("community_removed", guild_id)
