"""Features register their Slack listeners here; the dispatcher wires them to Bolt behind `/collectif`.

A feature's `slack_listeners` module has `def register(router: SlackRouter) -> None` and calls:

- `router.subcommand("help", handler)`: `/collectif help …` (the CommandSpec name; the localized
  names of every language are accepted too: `/collectif aide`);
- `router.action(r"intro:edit:(?P<id>[0-9]+)", handler)`: button clicks, by action-id regex (full match);
- `router.view(r"intro:form", handler)`: form submissions, by callback-id regex; the handler may
  return `ack()` arguments (e.g. `{"response_action": "update", "view": …}`) or raise InvalidInput
  whose problem names are the input blocks' `block_id`s;
- `router.event("reaction_added", handler)`: Events API events, de-duplicated by event_id;
- `router.shortcut("config:remove_post", name_key, description_key, handler)`: a message shortcut
  (the message's "…" menu; `kind="global"` for the lightning menu), declared in the manifest with
  its localized name and description; acknowledged before the handler runs;
- `router.need_scope("chat:write.public", "why")`: an extra bot scope for the manifest;
- `router.on_member_data_deleted(handler)`: told `(request, community_id, member_id)` after a member's
  data was deleted (Slack's twin of Discord's `member_data_deleted` event); the member's form drafts
  (`request.drafts`, one bot.drafts store per app) are forgotten first;
- `router.home_section(100, build)`: the feature's part of the App Home, `async build(request, caller)
  -> blocks`; the runtime owns the page (bot/slack_app/home.py): it listens to `app_home_opened` and
  to data deletion, and a feature redraws it with `await refresh_home(request, caller)`.

Handlers take one `SlackRequest`. Commands and clicks are acknowledged before the handler runs.
Each listener's work runs in a task of its own and Bolt answers Slack as soon as it acknowledged
(bot/slack_app/inflight.py): a form's handler runs before its ack, so what it returns or raises
still reaches Slack as `response_action` (unless it outlasts VIEW_ACK_BUDGET: then the form is closed
and the answer shown after, see `Dispatcher._after_closing`). An event's handler runs after the ack
and is tried again in-process when it fails (EVENT_RETRY_DELAYS): Slack resends no event it got
its 200 for.
Registration touches no network and no database, so the manifest is built from the same tables.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SUPPORTED_LOCALES
from bot.drafts import Drafts
from bot.errors import BUGS, Forbidden, UserError
from bot.log import bind_interaction
from bot.ops.metrics import from_custom_id, label_word
from bot.slack_app.callers import CALLER_KEY, People, origin, team_of
from bot.slack_app.client import error_code
from bot.slack_app.errors import ErrorReporter
from bot.slack_app.home import HomePage, HomeSection, SectionBuilder
from bot.slack_app.inflight import InFlight
from bot.slack_app.ledger import claim_event, release_event
from bot.slack_app.request import SlackRequest
from bot.text import refuse_control_characters
from storage.text import fold

if TYPE_CHECKING:
    from bot.context import Caller
    from bot.features import CommandSpec, Feature
    from bot.services import Services

log = logging.getLogger(__name__)


def unescape(text: str) -> str:
    """A command's text as typed, read once here for every subcommand.

    Slack sends a typed `&`, `<` and `>` as entities; its own markup (`<@U123|name>`) keeps real ones.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

Handler = Callable[[SlackRequest], Awaitable[Any]]
DataDeletedHandler = Callable[[SlackRequest, int, int], Awaitable[None]]
HELP_COMMAND = "help"
PLATFORM = "slack"
# Slack gives up on a form's answer after 3 s: past this, the form closes and the handler goes on.
VIEW_ACK_BUDGET = 2.0
# An event is acknowledged before its work, so Slack never sends it again when the work fails: it is
# tried again here, after each of these pauses (seconds), before giving up.
EVENT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0)


@dataclass(frozen=True)
class Shortcut:
    """A shortcut a feature offers: what the manifest declares and who handles it."""

    callback_id: str
    name_key: str  # catalog keys: the manifest shows them in the community language
    description_key: str
    handler: Handler
    kind: str = "message"  # or "global"


@dataclass
class SlackRouter:
    """What the features registered: pure tables, no connection."""

    command: str = "/collectif"
    subcommands: dict[str, Handler] = field(default_factory=dict)
    actions: list[tuple[re.Pattern[str], Handler]] = field(default_factory=list)
    views: list[tuple[re.Pattern[str], Handler]] = field(default_factory=list)
    events: dict[str, list[Handler]] = field(default_factory=dict)
    # extra bot scope -> (feature, why it needs it), every feature's: `--explain` lists them all
    scopes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    feature: str = ""  # the feature registering now (load_listeners), named in `scopes`
    shortcuts: list[Shortcut] = field(default_factory=list)
    data_deleted: list[DataDeletedHandler] = field(default_factory=list)
    home: HomePage = field(default_factory=HomePage)

    def subcommand(self, name: str, handler: Handler) -> None:
        if name in self.subcommands:
            raise ValueError(f"Slack subcommand {name!r} registered twice")
        self.subcommands[name] = handler

    def action(self, pattern: str, handler: Handler) -> None:
        self.actions.append((re.compile(rf"^(?:{pattern})$"), handler))

    def view(self, pattern: str, handler: Handler) -> None:
        self.views.append((re.compile(rf"^(?:{pattern})$"), handler))

    def event(self, event_type: str, handler: Handler) -> None:
        self.events.setdefault(event_type, []).append(handler)

    def need_scope(self, scope: str, reason: str) -> None:
        self.scopes.setdefault(scope, []).append((self.feature or "runtime", reason))

    def shortcut(self, callback_id: str, name_key: str, description_key: str, handler: Handler, *,
                 kind: str = "message") -> None:
        if any(s.callback_id == callback_id for s in self.shortcuts):
            raise ValueError(f"Slack shortcut {callback_id!r} registered twice")
        self.shortcuts.append(Shortcut(callback_id, name_key, description_key, handler, kind))

    def on_member_data_deleted(self, handler: DataDeletedHandler) -> None:
        self.data_deleted.append(handler)

    def home_section(self, order: int, build: SectionBuilder, *, more: str | None = None) -> None:
        """Contribute a section to the App Home, placed by ascending `order`.

        `more` names the command that shows the rest when the page is full. The first section turns
        the Home tab on (the manifest's `home_tab_enabled` included).
        """
        if not self.home.sections:
            self.event("app_home_opened", self.home.opened)
            self.on_member_data_deleted(self.home.data_deleted)
        self.home.add(HomeSection(order, build, more))

    async def member_data_deleted(self, request: SlackRequest, community_id: int, member_id: int) -> None:
        """Tell every subscriber; one failing must not undo or hide a deletion that already happened.

        The member's unsent form drafts (bio, links…) go first: nothing can fail there.
        """
        if request.drafts is not None:
            request.drafts.forget_member(community_id, member_id)
        for handler in self.data_deleted:
            try:
                await handler(request, community_id, member_id)
            except Exception:
                log.exception("member_data_deleted handler %r failed", handler)


def typed_values(view: dict[str, Any]) -> dict[str, list[str]]:
    """block_id -> the text typed in its inputs (selections are ids, not text)."""
    state = (view.get("state") or {}).get("values") or {}
    return {
        block_id: [str(element.get("value")) for element in (actions or {}).values()
                   if isinstance(element, dict) and isinstance(element.get("value"), str)]
        for block_id, actions in state.items()
    }


def load_listeners(router: SlackRouter, features: Iterable[Feature]) -> SlackRouter:
    """Let every feature with a Slack part register its listeners."""
    for feature in features:
        if feature.slack_listeners:
            router.feature = feature.name
            importlib.import_module(feature.slack_listeners).register(router)
    router.feature = ""
    return router


class Dispatcher:
    """Runs the registered handlers for Bolt: resolves the caller, acknowledges, routes subcommands."""

    def __init__(self, services: Services, router: SlackRouter, people: People,
                 session: aiohttp.ClientSession | None, reporter: ErrorReporter,
                 inflight: InFlight | None = None) -> None:
        self.services = services
        self.inflight = inflight
        self.router = router
        self.people = people
        self.session = session
        self.reporter = reporter
        self.drafts = Drafts(services.clock)  # every handler's `request.drafts`
        self.by_name = self._names(services.commands)
        self.help = next((c for c in services.commands if c.name == HELP_COMMAND), None)
        missing = [c.name for c in services.commands if c.name not in router.subcommands]
        if missing:
            log.warning("commands without a Slack handler yet: %s", ", ".join(missing))

    def _names(self, commands: Iterable[CommandSpec]) -> dict[str, CommandSpec]:
        """Every accepted spelling of every command: its name and its localized names, folded."""
        table: dict[str, CommandSpec] = {}
        for command in commands:
            spellings = {command.name, *(self.services.t(loc, command.name_key) for loc in SUPPORTED_LOCALES)}
            for spelling in spellings:
                other = table.setdefault(fold(spelling), command)
                if other is not command:
                    log.warning("Slack: %r names both %s and %s", spelling, other.name, command.name)
        return table

    # -- the caller ---------------------------------------------------------------------------------

    async def caller(self, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> Caller:
        """Resolve (and create on first contact) the community and member behind a request."""
        team, user = team_of(body, context), context.get("user_id")
        profile = await self.people.profile(client, team, user) if user else None
        caller = await self.services.caller(origin(body, context, profile))
        context[CALLER_KEY] = caller
        return caller

    def _request(self, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient,
                 ack: AsyncAck | None, caller: Caller | None) -> SlackRequest:
        return SlackRequest(self.services, client, body, context, caller, session=self.session,
                            command=self.router.command, home=self.router.home, drafts=self.drafts, _ack=ack)

    @asynccontextmanager
    async def guard(self, body: dict[str, Any], context: dict[str, Any],
                    ack: AsyncAck) -> AsyncIterator[None]:
        """Report a handler's error here rather than let it reach Bolt (see bot.slack_app.errors).

        Also counts the interaction and its time for the metrics (bot/ops/metrics.py).
        """
        started = time.perf_counter()
        outcome = "ok"
        feature, command = self._labels(body)
        bind_interaction(community=f"{PLATFORM}:{team_of(body, context)}", feature=feature,
                         interaction=str(body.get("trigger_id") or body.get("event_id") or "") or None)
        try:
            yield
        except Exception as error:
            outcome = "refused" if isinstance(error, UserError) else "error"
            waiting = ack.response is None
            payload = await self.reporter.handle(error, body, context, waiting=waiting)
            if waiting:
                await ack(**(payload or {}))
        finally:
            self.services.metrics.interaction(PLATFORM, feature, command, outcome,
                                              time.perf_counter() - started)

    def _labels(self, body: dict[str, Any]) -> tuple[str, str]:
        """(feature, command) of a request, for the metrics: bounded values, never the user's text."""
        features = [f.name for f in self.services.features]
        if "command" in body:
            words = str(body.get("text") or "").split(maxsplit=1)
            spec = self.by_name.get(fold(words[0])) if words else self.help
            return (spec.feature, spec.name) if spec else ("other", "other")
        if body.get("actions"):
            return from_custom_id(str(body["actions"][0].get("action_id") or ""), features)
        if isinstance(body.get("view"), dict):
            return from_custom_id(str(body["view"].get("callback_id") or ""), features)
        if isinstance(body.get("event"), dict):
            return "events", label_word(str(body["event"].get("type") or ""))
        return from_custom_id(str(body.get("callback_id") or ""), features)  # shortcuts

    # -- listeners ----------------------------------------------------------------------------------

    def install(self, app: AsyncApp) -> None:
        detach = self.inflight.listener if self.inflight is not None else (lambda listener: listener)
        app.command(self.router.command)(detach(self.on_command))
        for pattern, handler in self.router.actions:
            app.action(pattern)(detach(self._action(pattern, handler)))
        for pattern, handler in self.router.views:
            app.view(pattern)(detach(self._view(pattern, handler)))
        for event_type, handlers in self.router.events.items():
            app.event(event_type)(detach(self._event(handlers)))
        for shortcut in self.router.shortcuts:
            app.shortcut(shortcut.callback_id)(detach(self._shortcut(shortcut.handler)))
        app.action(re.compile(".*"))(self.acknowledge)  # link buttons and stale buttons: no warning icon

    async def acknowledge(self, ack: AsyncAck) -> None:
        await ack()

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                         client: AsyncWebClient) -> None:
        """`/collectif [subcommand] [args]`: nothing, `help` or `aide` shows the help card."""
        await ack()
        async with self.guard(body, context, ack):
            caller = await self.caller(body, context, client)
            request = self._request(body, context, client, ack, caller)
            text = unescape(str(body.get("text") or ""))
            refuse_control_characters({"text": text})
            words = text.split(maxsplit=1)
            word = words[0] if words else ""
            request.args = words[1].strip() if len(words) > 1 else ""
            command = self.by_name.get(fold(word)) if word else self.help
            if command is None:
                request.notice = request.t("slack.unknown_command", name=word[:50])
                command = self.help
            if command is None:
                await request.reply(request.notice)
                return
            if command.moderator_only and not caller.is_moderator:
                raise Forbidden()
            handler = self.router.subcommands.get(command.name)
            if handler is None:
                await request.reply(request.t("slack.not_on_slack", name=request.invocation(command)))
                return
            await handler(request)

    def _action(self, pattern: re.Pattern[str], handler: Handler) -> Callable[..., Awaitable[None]]:
        async def on_action(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                            client: AsyncWebClient) -> None:
            await ack()
            async with self.guard(body, context, ack):
                caller = await self.caller(body, context, client)
                request = self._request(body, context, client, ack, caller)
                request.match = pattern.match(body["actions"][0]["action_id"])
                await handler(request)

        return on_action

    def _shortcut(self, handler: Handler) -> Callable[..., Awaitable[None]]:
        async def on_shortcut(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                              client: AsyncWebClient) -> None:
            await ack()
            async with self.guard(body, context, ack):
                caller = await self.caller(body, context, client)
                await handler(self._request(body, context, client, ack, caller))

        return on_shortcut

    def _view(self, pattern: re.Pattern[str], handler: Handler) -> Callable[..., Awaitable[None]]:
        async def on_view(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                          client: AsyncWebClient) -> None:
            async with self.guard(body, context, ack):  # InvalidInput -> ack(response_action="errors")
                caller = await self.caller(body, context, client)
                request = self._request(body, context, client, ack, caller)
                refuse_control_characters(typed_values(body["view"]))
                request.match = pattern.match(body["view"]["callback_id"])
                work = asyncio.ensure_future(handler(request))
                done, _ = await asyncio.wait({work}, timeout=VIEW_ACK_BUDGET)
                closed = False
                if not done:  # e.g. waiting on a write lock: close the form before Slack gives up
                    log.warning("form %s still working after %.1f s: closed, outcome told after",
                                body["view"]["callback_id"], VIEW_ACK_BUDGET)
                    closed = not request.acked
                    await request.ack()
                result = await work  # InvalidInput now: the guard lists the problems in a message
                if closed and result:
                    await self._after_closing(request, result)
                else:
                    await request.ack(**(result or {}))

        return on_view

    async def _after_closing(self, request: SlackRequest, result: dict[str, Any]) -> None:
        """The form was closed before its handler answered: show what it answered some other way.

        A view (`update`, `push`: e.g. a confirmation step) opens as a new modal with the submission's
        trigger_id while it is valid (3 s); else the member is told the form took too long and nothing
        was saved (a handler answering in the form has saved nothing yet), as are `errors`: raised as
        UserError, the guard tells them after the ack (DM, ephemeral or response_url), in their language.
        """
        callback_id = request.body["view"]["callback_id"]
        action = result.get("response_action")
        if action == "errors":
            problems = [f"• {unescape(str(text))}" for text in (result.get("errors") or {}).values()]
            log.info("form %s: problems found after it was closed, told in a message", callback_id)
            raise UserError("slack.form_closed_problems", problems="\n".join(problems))
        view = result.get("view")
        if action in ("update", "push") and isinstance(view, dict):
            try:
                await request.client.views_open(trigger_id=request.trigger_id, view=view)
                return
            except Exception as error:
                if isinstance(error, BUGS):
                    raise
                log.info("form %s: its answer could not be opened after it was closed (%s)",
                         callback_id, error_code(error) if isinstance(error, SlackApiError) else error)
            raise UserError("slack.form_closed")
        if action not in (None, "clear"):
            log.warning("form %s: answer %r lost, the form was already closed", callback_id, action)

    def _event(self, handlers: list[Handler]) -> Callable[..., Awaitable[None]]:
        async def on_event(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                           client: AsyncWebClient) -> None:
            # Slack retries an event it thinks we missed (X-Slack-Retry-Num); the event_id is the same,
            # so the first delivery claims it and any retry finds it taken.
            event_id = str(body.get("event_id") or "")
            await ack()  # an event needs no answer: Slack hears back at once, the work goes on
            async with self.guard(body, context, ack):
                if event_id and not await claim_event(self.services, event_id, team_of(body, context)):
                    log.info("Slack event %s already handled (retry skipped)", event_id)
                    return
                request = self._request(body, context, client, None, None)
                if context.get("user_id"):
                    request._resolver = lambda: self.caller(body, context, client)
                try:
                    for handler in handlers:
                        await self._retrying(handler, request, event_id)
                except BaseException as error:
                    # Slack got its 200 and will not send the event again, except when that answer
                    # never reached it: then its retry must find the event unclaimed and do it.
                    if isinstance(error, asyncio.CancelledError):  # the guard sees only Exceptions
                        log.error("Slack event %s (%s) not done: cancelled by the shutdown", event_id or "-",
                                  _event_type(body))
                    if event_id:
                        await self._release(event_id)
                    raise  # the guard logs the failure with an error id

        return on_event

    async def _retrying(self, handler: Handler, request: SlackRequest, event_id: str) -> None:
        """Run an event's handler, again after each of EVENT_RETRY_DELAYS when it fails.

        Slack does not send an event again once it was acknowledged, so a failure (the database busy,
        Slack's API down) would lose it: an `app_uninstalled` never paused nor purged. A UserError or
        a bug (bot.errors.BUGS) would fail the same way again: raised at once.
        """
        for delay in (*EVENT_RETRY_DELAYS, None):
            try:
                await handler(request)
                return
            except Exception as error:
                if delay is None or isinstance(error, (UserError, *BUGS)):
                    raise
                log.warning("Slack event %s (%s) failed (%s): trying again in %.0f s", event_id or "-",
                            _event_type(request.body), type(error).__name__, delay)
            await asyncio.sleep(delay)

    async def _release(self, event_id: str) -> None:
        try:
            await release_event(self.services, event_id)
        except Exception:
            log.exception("could not release Slack event %s", event_id)


def _event_type(body: dict[str, Any]) -> str:
    event = body.get("event")
    return str(event.get("type")) if isinstance(event, dict) else "-"
