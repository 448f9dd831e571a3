"""Features register their Discord buttons, selects and forms here, as plain functions, as on Slack.

A feature's Discord extension calls, in its `setup(bot)`:

- `bot.router.action(r"intros:edit:(?P<id>[0-9]{1,9})", handler)`: button clicks, by custom_id regex
  (full match);
- `bot.router.select(r"intros:pick:(?P<field>[a-z_]+)", handler)`: choices made in a select menu;
- `bot.router.modal(r"config:import", handler)`: form (modal) submissions.

A feature writes each id pattern once (its `_ids.py`) and registers it on both platforms. Handlers take
one `DiscordRequest`: the interaction, the regex match, the chosen values or typed fields, the caller.

A button sent in a direct message (an invitation, a reminder) reaches the bot without a guild: pass
`dm=` to `action(...)`, a function `(session, match, user_id) -> community id | None` that finds the
community of the object the custom_id names, when that Discord user may act on it (e.g. the invitee
of the stored invitation), else None. `request.caller()` then resolves the member of that community
(never creating one: `bot.context.member_caller`) and refuses with `errors.not_for_you` when the
function answers None or the user is not a member there. Routes without `dm=` keep refusing DMs, and
in a guild the usual resolution applies either way.

Routing is by custom_id, from the bot's `on_interaction`, for every component and modal interaction:
buttons keep working after a restart without a view kept in memory per message (what a `DynamicItem`
gives, for selects and modals too), and errors go to the central handler (`report_error`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import discord

from bot.context import member_caller
from bot.discord_bot.errors import report_error
from bot.discord_bot.forms import modal_values
from bot.errors import Forbidden, UserError
from bot.usecase import Check, run

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Caller
    from bot.services import Services

T = TypeVar("T")
log = logging.getLogger(__name__)

Handler = Callable[["DiscordRequest"], Awaitable[Any]]
# (session, the custom_id's match, the clicking user's id) -> the community the clicked object belongs to,
# when this user may act on it; None refuses. For buttons sent in direct messages (no guild_id there).
DmCommunity = Callable[["AsyncSession", re.Match[str], str], Awaitable[int | None]]
PLATFORM = "discord"


class RoutingBot(Protocol):
    """What the router needs of the bot (CollectifBot): its services and who is calling."""

    services: Services

    async def caller(self, interaction: discord.Interaction, check: Check | None = None) -> Caller: ...

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None: ...
Route = tuple[re.Pattern[str], Handler]


@dataclass
class DiscordRequest:
    """One routed interaction, as a handler sees it."""

    interaction: discord.Interaction
    match: re.Match[str]
    bot: RoutingBot
    dm: DmCommunity | None = None  # the route's community finder for clicks in direct messages

    @property
    def services(self) -> Services:
        return self.bot.services

    @property
    def values(self) -> list[str]:
        """The options chosen in a select menu."""
        data: Mapping[str, Any] = self.interaction.data or {}
        return [str(v) for v in data.get("values", [])]

    def chosen_name(self, user_id: str) -> str:
        """The shown name of a user chosen in a user select (nickname, else global name, else username)."""
        data: Mapping[str, Any] = self.interaction.data or {}
        resolved = data.get("resolved") or {}
        member = (resolved.get("members") or {}).get(user_id) or {}
        user = (resolved.get("users") or {}).get(user_id) or {}
        return str(member.get("nick") or user.get("global_name") or user.get("username") or "")

    def fields(self) -> dict[str, str]:
        """custom_id -> text typed in each input of a submitted form (control characters refused)."""
        return modal_values(dict(self.interaction.data or {}))

    async def caller(self, check: Check | None = None) -> Caller:
        """Who clicked: from the guild, or in a DM through the route's `dm` finder (module docstring).

        With `check`, a read-only use case that must pass first: in the caller's lookup transaction
        when the caller is not cached yet (`Services.caller`).
        """
        if self.interaction.guild_id is None and self.dm is not None:
            caller = await self._dm_caller(self.dm)
            if check is not None:
                await check.run(self.services, caller)
            return caller
        return await self.bot.caller(self.interaction, check)

    async def _dm_caller(self, find: DmCommunity) -> Caller:
        interaction = self.interaction
        cached = interaction.extras.get("caller")
        if cached is not None:
            return cached
        user_id = str(interaction.user.id)
        async with self.services.db.transaction(write=False) as session:
            community_id = await find(session, self.match, user_id)
            caller = None if community_id is None else await member_caller(
                session, PLATFORM, community_id, user_id, display_name=interaction.user.display_name,
                user_locale=interaction.locale.value)
        if caller is None:
            raise Forbidden("errors.not_for_you")
        interaction.extras["caller"] = caller
        return caller

    def t(self, locale: str, key: str, /, **params: Any) -> str:
        return self.services.t(locale, key, **params)

    async def check_then_write(self, check: Callable[..., Awaitable[Any]],
                               write: Callable[..., Awaitable[T]], /, *args: Any) -> T:
        """The usual button that changes something, in the order the platform needs.

        `check` (a read-only use case, no write lock) refuses at once with the member's answer
        (an error raised before anything is deferred); then the interaction is deferred (Discord's
        3 s never wait on the write lock); then `write` runs with the same arguments and its
        result is returned for the confirmation. Both go through `bot.usecase.run`.
        """
        caller = await self.caller(Check(check, args))
        await self.interaction.response.defer(ephemeral=True, thinking=True)
        return await run(self.services, caller, write, *args)


@dataclass
class DiscordRouter:
    """What the features registered: pure tables, no connection."""

    actions: list[Route] = field(default_factory=list)
    selects: list[Route] = field(default_factory=list)
    modals: list[Route] = field(default_factory=list)
    dm: dict[re.Pattern[str], DmCommunity] = field(default_factory=dict)  # routes usable in DMs

    def action(self, pattern: str, handler: Handler, *, dm: DmCommunity | None = None) -> None:
        """A button; with `dm`, also clickable in a direct message (see the module docstring)."""
        route = _route(pattern, handler)
        self.actions.append(route)
        if dm is not None:
            self.dm[route[0]] = dm

    def select(self, pattern: str, handler: Handler, *, dm: DmCommunity | None = None) -> None:
        """A select menu; with `dm`, also usable in a direct message (as `action`)."""
        route = _route(pattern, handler)
        self.selects.append(route)
        if dm is not None:
            self.dm[route[0]] = dm

    def modal(self, pattern: str, handler: Handler) -> None:
        self.modals.append(_route(pattern, handler))

    def routes(self) -> list[Route]:
        return [*self.actions, *self.selects, *self.modals]

    def find(self, interaction: discord.Interaction) -> tuple[Handler, re.Match[str]] | None:
        """The handler for this interaction's custom_id, if any feature registered one."""
        data: Mapping[str, object] = interaction.data or {}
        custom_id = str(data.get("custom_id") or "")
        if interaction.type is discord.InteractionType.modal_submit:
            table = self.modals
        elif interaction.type is discord.InteractionType.component:
            table = self.selects if data.get("component_type", 2) != 2 else self.actions
        else:
            return None
        for pattern, handler in table:
            found = pattern.fullmatch(custom_id)
            if found is not None:
                return handler, found
        return None

    async def dispatch(self, bot: RoutingBot, interaction: discord.Interaction) -> bool:
        """Run the matching handler; False when no feature handles this custom_id."""
        route = self.find(interaction)
        if route is None:
            if interaction.type in (discord.InteractionType.component, discord.InteractionType.modal_submit):
                # A card's button that nothing handles any more (a feature removed, an id out of range):
                # told so, rather than Discord's "This interaction failed".
                await report_error(interaction, UserError("errors.stale_button"))
            return False
        handler, found = route
        try:
            await handler(DiscordRequest(interaction, found, bot, self.dm.get(found.re)))
        except Exception as error:
            await report_error(interaction, error)
        return True


def _route(pattern: str, handler: Handler) -> Route:
    compiled = re.compile(rf"(?:{pattern})")
    if len(pattern) > 200:
        raise ValueError(f"id pattern too long: {pattern!r}")
    return compiled, handler
