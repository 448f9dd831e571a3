"""How a config use case runs: `bot.usecase.run` with a moderator check, the Directory port and the audit.

Every use case is an `@action` taking a `ConfigContext` first; `run()` is how the bindings call them.
Non-moderators are refused before anything is touched; the change happens in one transaction (a
refused or invalid change rolls everything back); once committed the moderator is answered, then
the audit entries go to the moderation log channel (queued by `_audit.record`) and the other effects
run (delete a message, DM its author). An effect that fails is logged: the change stays stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from bot import usecase
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput
from bot.usecase import Context, moderator_only
from cogs.config._refs import Directory, IdDirectory

if TYPE_CHECKING:
    from bot.services import Services
    from cogs.config.models import AuditEntry

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class ConfigContext(Context):
    """The runtime's Context, plus how to name channels and roles, and this action's audit entries."""

    directory: Directory = field(default_factory=lambda: IdDirectory("discord"))
    recorded: list[AuditEntry] = field(default_factory=list)


Action = Callable[Concatenate[ConfigContext, P], Awaitable[T]]
ACTIONS: dict[str, Callable[..., Awaitable[Any]]] = {}


def action(name: str) -> Callable[[Action[P, T]], Action[P, T]]:
    """Register a moderator-only use case; it refuses any caller who is not a moderator."""

    def decorate(func: Action[P, T]) -> Action[P, T]:
        @wraps(func)
        async def guarded(ctx: ConfigContext, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if not ctx.caller.is_moderator:  # should a binding ever call it without `run`
                raise Forbidden()
            return await func(ctx, *args, **kwargs)

        guarded.action_name = name  # type: ignore[attr-defined]
        ACTIONS[name] = moderator_only(guarded)
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
    """`bot.usecase.run` for a config action; `directory=` names channels and roles for the answers.

    `respond=` (an async callable taking the result) answers the moderator once the change is
    committed and before the modlog post and the effects, which are API calls that may take long.
    """
    directory: Directory = kwargs.pop("directory", None) or IdDirectory(caller.platform)  # type: ignore[assignment]
    made: list[ConfigContext] = []

    def context(**values: Any) -> ConfigContext:
        made.append(ConfigContext(directory=directory, **values))
        return made[-1]

    try:
        return await usecase.run(services, caller, use_case, *args,  # type: ignore[arg-type]
                                 context=context, **kwargs)
    finally:
        # Moderators, language and time zone are part of every resolved caller of the community:
        # forgotten after any stored change (every change is audited), kept after a read (show,
        # history, export), so the moderator's next request needs no query.
        if any(ctx.recorded for ctx in made):
            services.callers.forget(caller.community_id)
