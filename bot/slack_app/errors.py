"""The central @app.error handler: every error of a Slack listener becomes one answer to the user.

Handled in this order:

1. `InvalidInput` in a form Slack still waits for: `response_action: errors`, one localized message
   per input block (the problem names are the blocks' `block_id`s).
2. Any other `UserError` (NotFound, Forbidden…): its localized message, ephemeral; in a form Slack
   still waits for, the form is replaced by the message.
3. Anything else: logged with its context and a short error id; the user gets `errors.unexpected`
   with that id, the same way.

Never a second acknowledgement: the reporter answers through the acknowledgement only when nothing
was acknowledged yet, otherwise through the response_url, an ephemeral message or the app's DM.
The router reports its handlers' errors itself instead of letting them reach Bolt: after an ack,
Bolt's runner resets the acknowledgement when a listener raises, and its HTTP answer then waits 3 s
and turns into a 404 (measured).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InvalidInput, UserError
from bot.i18n import resolve_locale
from bot.rendering.slack import escaped_within, mrkdwn, plain
from bot.slack_app.callers import CALLER_KEY, People, team_of, user_of
from bot.slack_app.request import as_message, post_to_response_url

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
MODAL_TITLE_MAX = 24


def kind_of(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    return str(body.get("type") or "unknown")


def _what(body: dict[str, Any]) -> str:
    """Which listener failed, for the log (never the user's text)."""
    if "command" in body:
        return f"{body['command']} {str(body.get('text') or '').split(' ')[0]}".strip()
    if body.get("actions"):
        return str(body["actions"][0].get("action_id"))
    if isinstance(body.get("view"), dict):
        return str(body["view"].get("callback_id"))
    if isinstance(body.get("event"), dict):
        return str(body["event"].get("type"))
    return "-"


async def _locale(services: Services, people: People, body: dict[str, Any], context: dict[str, Any]) -> str:
    """The user's language: from the resolved caller, else users.info (cached), else the default."""
    caller = context.get(CALLER_KEY)
    if caller is not None:
        return str(caller.locale)
    user = user_of(body, context)
    profile = None
    if user:
        try:
            profile = await people.profile(context["client"], team_of(body, context), user)
        except Exception:  # the error being reported may be Slack being unreachable
            log.debug("no profile for %s while reporting an error", user, exc_info=True)
    return resolve_locale(profile.locale if profile else None, services.settings.community.locale)


class ErrorReporter:
    """Turns an error into what the user sees; the router calls it, and Bolt through @app.error."""

    def __init__(self, services: Services, people: People, session: aiohttp.ClientSession | None) -> None:
        self.services = services
        self.people = people
        self.session = session

    def install(self, app: AsyncApp) -> None:
        app.error(self.on_bolt_error)

    async def on_bolt_error(self, error: Exception, request: AsyncBoltRequest,
                            response: BoltResponse | None) -> BoltResponse | None:
        """Errors that escaped the router (middleware, a listener registered on the app directly)."""
        ack = request.context.ack
        waiting = response is not None and ack is not None and ack.response is None
        payload = await self.handle(error, request.body, request.context, waiting=waiting)
        if payload is not None:
            return BoltResponse(status=200, body=payload)
        return BoltResponse(status=200, body="") if waiting else None

    async def handle(self, error: Exception, body: dict[str, Any], context: dict[str, Any], *,
                     waiting: bool) -> dict[str, Any] | None:
        """Tell the user; returns the ack() arguments when Slack still waits for a form's answer."""
        services = self.services
        kind = kind_of(body)
        locale = await _locale(services, self.people, body, context)
        if isinstance(error, UserError):
            message = services.t(locale, error.key, **error.params)
            if isinstance(error, InvalidInput):  # outside a form: every problem on its own line
                message = "\n".join([message, *(f"• {services.t(locale, key, **params)}"
                                                for key, params in error.problems.values())])
        else:
            error_id = secrets.token_hex(4)
            log.error(
                "Slack %s %s failed: error %s (team %s, user %s)", kind, _what(body), error_id,
                team_of(body, context), user_of(body, context), exc_info=error,
            )
            message = services.t(locale, "errors.unexpected", error_id=error_id)
        if waiting and kind == "view_submission":
            if isinstance(error, InvalidInput):
                errors = _under_blocks(body, {name: escaped_within(services.t(locale, key, **params), 2000)
                                              for name, (key, params) in error.problems.items()})
                if errors:
                    return {"response_action": "errors", "errors": errors}
            return {"response_action": "update", "view": _message_view(services, locale, message)}
        await _tell(context["client"], self.session, body, context, kind, message)
        return None


def _under_blocks(body: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """`errors` keyed by input blocks of the submitted form: Slack shows nothing for an unknown block.

    A problem named after a block the form does not have goes under its first input block (with any
    problem already there). Without the form's blocks in the payload, they are kept as named.
    """
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else None
    inputs = [str(b.get("block_id")) for b in blocks or ()
              if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")]
    if not inputs:
        return errors
    placed: dict[str, str] = {}
    for name, text in errors.items():
        where = name if name in inputs else inputs[0]
        placed[where] = f"{placed[where]}\n{text}" if where in placed else text
    return placed


def _message_view(services: Services, locale: str, message: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(services.t(locale, "slack.error_title"), MODAL_TITLE_MAX),
        "blocks": [{"type": "section", "text": mrkdwn(escaped_within(message, 3000))}],
    }


async def _tell(client: AsyncWebClient, session: aiohttp.ClientSession | None, body: dict[str, Any],
                context: dict[str, Any], kind: str, message: str) -> None:
    """Show the message to the user who acted, and to nobody else."""
    text = as_message(message)
    user = user_of(body, context)
    channel = body.get("channel_id") or (body["channel"].get("id") if isinstance(body.get("channel"), dict)
                                         else None)
    try:
        if body.get("response_url"):
            await post_to_response_url(session, body["response_url"],
                                       {**text, "response_type": "ephemeral", "replace_original": False})
        elif user and channel:
            await client.chat_postEphemeral(channel=channel, user=user, **text)
        elif user and kind != "event_callback":
            await client.chat_postMessage(channel=user, **text)
    except Exception:
        log.exception("could not tell Slack user %s about an error", user)
