"""The dependencies every runtime and feature receives: settings, database, catalog, clock, scheduler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot import lifecycle, modlog, outbox
from bot.clock import Clock, SystemClock
from bot.config import Secrets, Settings
from bot.context import Caller, CallerCache, Origin, find_caller, resolve_caller, update_member
from bot.errors import UserError
from bot.features import CommandSpec, Feature, all_commands, load_features, locale_folders
from bot.i18n import Catalog
from bot.notifier import Notifier
from bot.ops.metrics import Metrics
from bot.scheduler import Scheduler
from storage.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
# A first contact's write, before the platform has any answer (Discord wants one within 3 s), waits
# this long for the write lock, then the member is told to retry.
FIRST_CONTACT_SECONDS = 2.0


class CallerCheck(Protocol):
    """What `Services.caller` runs for the caller before it returns (`bot.usecase.Check`)."""

    async def run(self, services: Services, caller: Caller, session: AsyncSession | None = None) -> None: ...


class PlatformRuntime(Protocol):
    """A running platform connection (Discord bot, Slack app).

    A runtime whose connection can end on its own may also offer `async def wait() -> None`, returning
    (or raising) when it ended for good: `collectif run` then stops with exit code 1.
    """

    name: str

    async def start(self) -> None:
        """Connect / start serving; returns once ready."""
        ...

    async def stop(self) -> None:
        """Disconnect and release everything; safe to call twice."""
        ...


@dataclass
class Services:
    """What every runtime and feature receives; built once per process by `Services.build`."""

    settings: Settings
    secrets: Secrets
    db: Database
    catalog: Catalog
    clock: Clock
    scheduler: Scheduler
    features: list[Feature] = field(default_factory=list)
    # Filled by each platform runtime when it starts: "discord" / "slack" -> its Notifier.
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    # What this process counted (interactions, jobs, API answers), served at /metrics (bot/ops).
    metrics: Metrics = field(default_factory=Metrics)
    callers: CallerCache = field(init=False)
    # Members' new names and languages being stored in the background (`caller`), by (community, member).
    _storing: dict[tuple[int, int], asyncio.Task[None]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.callers = CallerCache(self.clock, self.settings.database.caller_cache_seconds)

    @classmethod
    def build(cls, settings: Settings, secrets: Secrets, *, clock: Clock | None = None,
              db: Database | None = None) -> Services:
        features = load_features()
        clock = clock or SystemClock()
        db = db or Database.from_url(settings.database.url, echo=settings.database.echo)
        services = cls(
            settings=settings,
            secrets=secrets,
            db=db,
            catalog=Catalog.load(locale_folders(features), slack_command=settings.slack.command),
            clock=clock,
            scheduler=Scheduler(
                db,
                clock,
                sweep_seconds=settings.scheduler.sweep_seconds,
                max_attempts=settings.scheduler.max_attempts,
            ),
            features=features,
        )
        services.scheduler.observer = services.metrics.job
        lifecycle.register_jobs(services)
        outbox.register_jobs(services)
        modlog.register_jobs(services)
        return services

    @property
    def commands(self) -> list[CommandSpec]:
        """Every feature's commands, in /help order."""
        return all_commands(self.features)

    async def caller(self, origin: Origin, check: CallerCheck | None = None, *,
                     patience: float | None = None) -> Caller:
        """Resolve (and create on first contact) the community and member behind an interaction.

        Mostly from `callers` (bot.context.CallerCache): a query only for a new or changed caller.
        With `check`, that read-only use case runs for the caller before this returns, in the same
        read transaction as the lookup when the caller was not cached (one transaction, not two).
        With `patience` (seconds: the platform is still waiting for a first answer), a first contact
        that cannot store the member within it raises `UserError("errors.busy")`.
        """
        cached = self.callers.get(origin)
        if cached is not None:
            if check is not None:
                await check.run(self, cached)
            return cached
        epoch = self.callers.epoch  # a change forgotten while this reads: what it read is not kept
        async with self.db.transaction(write=False) as session:  # never waits behind a writer
            found = await find_caller(session, origin)
            if found is not None:
                caller, stale = found
                if stale:  # a new name or language: stored after, the answer does not wait for it
                    self._store_later(origin, caller)
                else:
                    self.callers.put(origin, caller, epoch)
                if check is not None:
                    await check.run(self, caller, session)
        if found is not None:
            return caller
        caller = await self._resolve(origin, patience, epoch)
        if check is not None:
            await check.run(self, caller)
        return caller

    def _store_later(self, origin: Origin, caller: Caller) -> None:
        """Store a member's new name or language in the background.

        Until then each request finds it out of date again (and does not queue a second store); the
        first request after it finds the member up to date and caches them, as read then. A store
        that fails (another process kept the write lock) is tried again by the next request.
        """
        key = (caller.community_id, caller.member_id)
        if key in self._storing:
            return

        async def store() -> None:
            try:
                async with self.db.transaction() as session:
                    await update_member(session, caller, origin)
            except Exception:
                log.warning("storing the new name of member %s failed; the next request tries again",
                            caller.member_id, exc_info=True)
            finally:
                self._storing.pop(key, None)

        self._storing[key] = asyncio.get_running_loop().create_task(store(), name="collectif-member-update")

    async def settle(self) -> None:
        """Wait for the background stores in flight (tests, shutdown)."""
        while self._storing:
            await asyncio.gather(*list(self._storing.values()), return_exceptions=True)

    async def _resolve(self, origin: Origin, patience: float | None, epoch: int) -> Caller:
        """First contact (or a paused community back): a write, bounded by `patience` when given.

        Discord drops an interaction not answered within 3 s: behind another process's write lock (a
        backup, an import) the member is told to try again in a moment instead, and nothing is
        stored (the transaction is rolled back).
        """

        async def store() -> Caller:
            async with self.db.transaction() as session:
                return await resolve_caller(
                    session,
                    origin,
                    default_locale=self.settings.community.locale,
                    default_timezone=self.settings.community.timezone,
                    scheduler=self.scheduler,
                )

        try:
            caller = await asyncio.wait_for(store(), patience)
        except TimeoutError:
            log.warning("first contact of user %s in %s waited %.1f s for the write lock: told to retry",
                        origin.user_id, origin.community_external_id, patience)
            raise UserError("errors.busy") from None
        self.callers.put(origin, caller, epoch)
        return caller

    def t(self, locale: str, key: str, /, **params: object) -> str:
        return self.catalog.t(locale, key, **params)
