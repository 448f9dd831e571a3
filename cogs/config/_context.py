"""How a config use case runs: moderator check, one transaction, then the audit posts and other effects.

Every use case is an `@action` taking a `ConfigContext` first. `run()` is the only way the bindings
call them: it refuses non-moderators before touching anything, runs the use case in one transaction
(a refused or invalid change rolls everything back) and, once committed, posts each audit entry to the
moderation log channel and runs the effects the use case queued (delete a message, DM its author).
An effect that fails is logged: the change is already stored and stays.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput
from bot.i18n import Catalog
from bot.notifier import Notifier
from cogs.config._refs import Directory, IdDirectory
from storage.models import Community

if TYPE_CHECKING:
    from bot.services import Services
    from cogs.config.models import AuditEntry

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
Effect = Callable[[Notifier | None], Awaitable[None]]


@dataclass
class ConfigContext:
    session: AsyncSession
    caller: Caller
    catalog: Catalog
    clock: Clock
    directory: Directory
    community: Community
    recorded: list[AuditEntry] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    modlog_channel_id: str | None = None  # set by `run` at the end of the transaction

    @property
    def community_id(self) -> int:
        return self.caller.community_id

    @property
    def platform(self) -> str:
        return self.caller.platform

    def t(self, key: str, /, **params: Any) -> str:
        """A message in the moderator's language."""
        return self.catalog.t(self.caller.locale, key, **params)

    def after_commit(self, effect: Effect) -> None:
        self.effects.append(effect)


Action = Callable[Concatenate[ConfigContext, P], Awaitable[T]]
ACTIONS: dict[str, Callable[..., Awaitable[Any]]] = {}


def action(name: str) -> Callable[[Action[P, T]], Action[P, T]]:
    """Register a moderator-only use case; it refuses any caller who is not a moderator."""

    def decorate(func: Action[P, T]) -> Action[P, T]:
        @wraps(func)
        async def guarded(ctx: ConfigContext, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if not ctx.caller.is_moderator:
                raise Forbidden()
            return await func(ctx, *args, **kwargs)

        guarded.action_name = name  # type: ignore[attr-defined]
        ACTIONS[name] = guarded
        return guarded

    return decorate


def invalid(field_name: str, key: str, /, **params: Any) -> InvalidInput:
    """An InvalidInput with one problem."""
    return InvalidInput({field_name: (key, params)})


async def run(
    services: Services,
    caller: Caller,
    use_case: Action[P, T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run a config use case for `caller` (see the module docstring). Pass `directory=` through kwargs.

    `respond=` (an async callable taking the result) answers the user once the change is committed
    and before the modlog post and the effects: those are API calls that may take long, and Discord
    and Slack forms must be answered within 3 s. The effects run even when answering fails.
    """
    if not caller.is_moderator:  # refused before a transaction even starts
        raise Forbidden()
    directory: Directory = kwargs.pop("directory", None) or IdDirectory(caller.platform)  # type: ignore[assignment]
    respond: Callable[[Any], Awaitable[Any]] | None = kwargs.pop("respond", None)  # type: ignore[assignment]
    async with services.db.transaction() as session:
        community = await session.get(Community, caller.community_id)
        assert community is not None
        ctx = ConfigContext(session, caller, services.catalog, services.clock, directory, community)
        result = await use_case(ctx, *args, **kwargs)
        if ctx.recorded:
            from storage.settings import get_settings

            ctx.modlog_channel_id = (await get_settings(session, caller.community_id)).modlog_channel_id
    try:
        if respond is not None:
            await respond(result)
    finally:
        await after_commit(services, ctx)
    return result


async def after_commit(services: Services, ctx: ConfigContext) -> None:
    notifier = services.notifiers.get(ctx.platform)
    if notifier is not None and ctx.modlog_channel_id and ctx.recorded:
        # Building the card asks the platform for channel names: inside `_safely` too, so that its
        # failure neither skips the effects nor reports an error for a change that is stored.
        await _safely(_post_modlog(notifier, ctx), "modlog post")
    for effect in ctx.effects:
        await _safely(effect(notifier), "effect")


async def _post_modlog(notifier: Notifier, ctx: ConfigContext) -> None:
    from cogs.config._audit import modlog_card

    assert ctx.modlog_channel_id is not None
    card = await modlog_card(ctx, ctx.recorded)
    await notifier.post(ctx.community.external_id, ctx.modlog_channel_id, card)


async def _safely(work: Awaitable[Any], what: str) -> None:
    try:
        await work
    except Exception:
        log.exception("config: %s failed after the change was stored", what)
