"""How every use case of every feature runs: one transaction, an answer, then its effects once committed.

A use case is a plain async function whose first argument is a `Context`:

    async def mark_helpful(ctx: Context, answer_id: int) -> Card: ...

and the bindings (Discord and Slack alike) call it through `run`:

    card = await run(services, caller, mark_helpful, 42, respond=send)

The order, always:

1. A use case decorated with `@moderator_only` refuses a caller who is not a moderator before any
   transaction starts (`Forbidden`).
2. One transaction: the use case reads and writes through `ctx.session`; what must happen on the
   platform (post or edit a card, DM, open a thread…) is queued with `ctx.after_commit(effect)`,
   and `services.scheduler.schedule(ctx.session, …)` arms its timer only if the transaction commits.
   Any exception rolls everything back and no effect runs. `write=False` marks a read-only use case:
   on SQLite its transaction does not take the write lock, so it never waits behind a writer.
3. `respond(result)`, when given, answers the member: the platforms' deadlines (Discord 3 s, Slack
   ack) must not wait on effects, which are API calls that can be slow.
4. The effects, in order, each on its own: one that fails is logged and the others still run; the
   stored change stays. An effect receives the platform's notifier (None when that platform is not
   running in this process). `ctx.after_commit` returns a `Later` holding the effect's value once it
   ran, for a use case that wants to report an effect's outcome (e.g. which channels got a card).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller
from bot.errors import Forbidden
from bot.notifier import Notifier
from bot.settings_registry import SettingSpec, read_setting
from storage.models import Community, CommunitySettings
from storage.settings import get_settings

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.i18n import Catalog
    from bot.scheduler import Scheduler
    from bot.services import Services

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound="Context")
Effect = Callable[[Notifier | None], Awaitable[T]]


@dataclass
class Later(Generic[T]):
    """An effect's value, filled after the commit; `done` stays False when the effect failed."""

    value: T | None = None
    done: bool = False


@dataclass
class Context:
    """What a use case receives: the session, the caller, the community, the runtime, the effects."""

    services: Services
    session: AsyncSession
    caller: Caller
    effects: list[tuple[Effect[Any], Later[Any]]] = field(default_factory=list)
    _settings: CommunitySettings | None = None
    _community: Community | None = None

    @property
    def community_id(self) -> int:
        return self.caller.community_id

    @property
    def platform(self) -> str:
        return self.caller.platform

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    async def community(self) -> Community:
        """The community's row, read in this transaction when first asked.

        Most use cases need only the caller's copy of its ids, language and time zone
        (`caller.community_*`, `caller.timezone`): reading the row in every transaction cost a query.
        """
        if self._community is None:
            if not self.session.in_transaction():  # an effect, after the commit: it would begin anew
                raise RuntimeError("ctx.community() is read in the use case, not in its effects")
            self._community = await self.session.get(Community, self.community_id)
            if self._community is None:
                raise LookupError(f"community {self.community_id} is gone")
        return self._community

    async def settings(self) -> CommunitySettings:
        """The community's settings row (read once per use case)."""
        if self._settings is None:
            self._settings = await get_settings(self.session, self.community_id)
        return self._settings

    async def setting(self, spec: SettingSpec) -> Any:
        """A setting a feature declared (bot.settings_registry), typed and checked by its spec."""
        return await read_setting(self.session, self.community_id, spec)

    def t(self, key: str, /, **params: Any) -> str:
        """A message in the caller's language."""
        return self.catalog.t(self.caller.locale, key, **params)

    def after_commit(self, effect: Effect[T]) -> Later[T]:
        """Queue platform work for once the transaction has committed (see the module docstring)."""
        later: Later[T] = Later()
        self.effects.append((effect, later))
        return later


UseCase = Callable[Concatenate[C, P], Awaitable[T]]


def moderator_only(use_case: UseCase[C, P, T]) -> UseCase[C, P, T]:
    """Mark a use case for moderators: `run` refuses anyone else before touching the database."""
    use_case.moderator_only = True  # type: ignore[attr-defined]
    return use_case


def is_moderator_only(use_case: Callable[..., Any]) -> bool:
    return bool(getattr(use_case, "moderator_only", False))


async def run(
    services: Services,
    caller: Caller,
    use_case: UseCase[C, P, T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `use_case` for `caller` (see the module docstring).

    Runner options, taken out of kwargs:
    - `respond`: an async callable taking the result, called after the commit and before the effects;
    - `write`: False for a read-only use case (no write lock on SQLite);
    - `context`: the Context class (or factory taking the same keywords) a feature extends it with.
    """
    respond: Callable[[Any], Awaitable[Any]] | None = kwargs.pop("respond", None)  # type: ignore[assignment]
    write: bool = kwargs.pop("write", True)  # type: ignore[assignment]
    make: Callable[..., C] = kwargs.pop("context", Context)  # type: ignore[assignment]
    if is_moderator_only(use_case) and not caller.is_moderator:
        raise Forbidden()
    async with services.db.transaction(write=write) as session:
        ctx = make(services=services, session=session, caller=caller)
        result = await use_case(ctx, *args, **kwargs)
    try:
        if respond is not None:
            await respond(result)
    finally:
        await run_effects(services, ctx)
    return result


@dataclass(frozen=True)
class Check:
    """A read-only use case and its arguments: what must hold before a write (see `Services.caller`)."""

    use_case: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...] = ()

    async def run(self, services: Services, caller: Caller, session: AsyncSession | None = None) -> None:
        """Through `run` (its own read-only transaction), or inside the open read-only `session`.

        A check only reads and refuses: it queues no effects.
        """
        if session is None:
            await run(services, caller, self.use_case, *self.args, write=False)
            return
        if is_moderator_only(self.use_case) and not caller.is_moderator:
            raise Forbidden()
        ctx = Context(services=services, session=session, caller=caller)
        await self.use_case(ctx, *self.args)
        if ctx.effects:
            raise RuntimeError(f"the check {self.use_case.__name__} queued effects")


async def run_effects(services: Services, ctx: Context) -> None:
    notifier = services.notifiers.get(ctx.platform)
    for effect, later in ctx.effects:
        try:
            later.value = await effect(notifier)
            later.done = True
        except Exception:
            log.exception("effect %r failed after the change was stored", getattr(effect, "__name__", effect))
