"""What a feature's Slack handler receives: the caller, the payload, and ways to answer the user."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.cards import Card
from bot.errors import UserError
from bot.rendering.slack import escaped_within, render_message
from bot.slack_app.client import error_code

if TYPE_CHECKING:
    import re

    from bot.context import Caller
    from bot.drafts import Drafts
    from bot.features import CommandSpec
    from bot.services import Services

log = logging.getLogger(__name__)


async def post_to_response_url(session: aiohttp.ClientSession | None, url: str,
                               message: dict[str, Any]) -> bool:
    """POST a message to a response_url through the shared session; False (logged) when Slack refuses."""
    response = await AsyncWebhookClient(url, session=session).send_dict(message)
    if response.status_code != 200:
        log.warning("response_url answered %s: %s", response.status_code, response.body[:200])
        return False
    return True


def as_message(content: Card | str) -> dict[str, Any]:
    """`text` (+ `blocks` for a card) for chat.postMessage, chat.postEphemeral or a response_url."""
    if isinstance(content, Card):
        return render_message(content)
    return {"text": escaped_within(content, 3000)}


def selected_values(element: Any, limit: int = 100) -> list[str]:
    """The values chosen in a select, checkboxes or radio buttons, as Slack sent them, trusting nothing.

    A static_select or radio buttons send `selected_option` (one), multi selects and checkboxes
    `selected_options` (a list, empty once cleared): a handler reads what was chosen whatever element
    the renderer gave the user (a `bot.cards.Select` is a static or a multi select by its counts).
    """
    if not isinstance(element, dict):
        return []
    chosen = element.get("selected_options")
    if not isinstance(chosen, list):
        single = element.get("selected_option")
        chosen = [single] if single is not None else []
    return [str(o.get("value")) for o in chosen[:limit] if isinstance(o, dict) and o.get("value") is not None]


class Home(Protocol):
    """The App Home page (bot.slack_app.home.HomePage) as a request sees it."""

    async def publish(self, request: SlackRequest, caller: Caller) -> None: ...


def public_channel(channel: str | None) -> str | None:
    """`channel` where a card may fall back to (where a form was opened), or None for a DM.

    A conversation `D…` is the member's DM with the app (its Messages tab): nobody else sees it.
    """
    return channel if channel and not channel.startswith("D") else None


@dataclass
class SlackRequest:
    """One slash command, click, form submission or event, handed to a feature's handler.

    `args` is the command text after the subcommand, as Slack sent it (the command is declared with
    `should_escape`, so mentions arrive as `<@U123|name>`); `match` is the action id / callback id
    matched against the registered pattern. `caller` is None only for events.
    """

    services: Services
    client: AsyncWebClient
    body: dict[str, Any]
    context: dict[str, Any]
    caller: Caller | None
    session: aiohttp.ClientSession | None = None
    command: str = "/collectif"
    args: str = ""
    match: re.Match[str] | None = None
    notice: str = ""  # shown above the next card (e.g. "unknown command")
    home: Home | None = None  # the App Home sections (bot.slack_app.home.HomePage), for refresh_home
    # The runtime's form drafts (bot.drafts): what a form refused after Slack closed it keeps for the next.
    drafts: Drafts | None = None
    _ack: AsyncAck | None = field(default=None, repr=False)
    _resolver: Callable[[], Awaitable[Caller]] | None = field(default=None, repr=False)

    async def ensure_caller(self) -> Caller:
        """The caller, resolved now for an event (commands, clicks and forms come with it)."""
        if self.caller is None:
            if self._resolver is None:
                raise RuntimeError("this request has no user")
            self.caller = await self._resolver()
        return self.caller

    @property
    def locale(self) -> str:
        return self.caller.locale if self.caller else self.services.settings.community.locale

    def t(self, key: str, /, **params: Any) -> str:
        return self.services.t(self.locale, key, **params)

    @property
    def user_id(self) -> str | None:
        user = self.body.get("user")
        return self.context.get("user_id") or (user.get("id") if isinstance(user, dict) else None)

    @property
    def channel_id(self) -> str | None:
        channel = self.body.get("channel")
        return self.body.get("channel_id") or (channel.get("id") if isinstance(channel, dict) else None)

    def action_values(self, limit: int = 100) -> list[str]:
        """The values chosen in the select (or checkboxes) this action came from: `selected_values`."""
        actions = self.body.get("actions")
        return selected_values(actions[0] if isinstance(actions, list) and actions else None, limit)

    @property
    def trigger_id(self) -> str | None:
        return self.body.get("trigger_id")

    @property
    def acked(self) -> bool:
        return self._ack is None or self._ack.response is not None

    async def ack(self, **kwargs: Any) -> None:
        """Acknowledge once (commands and clicks are acknowledged before the handler runs)."""
        if not self.acked and self._ack is not None:
            await self._ack(**kwargs)

    def invocation(self, command: CommandSpec, locale: str | None = None) -> str:
        """How a user types a command on Slack: `/collectif aide` in French, `/collectif help` in English."""
        return f"{self.command} {self.services.t(locale or self.locale, command.name_key)}"

    async def reply(self, content: Card | str, *, public: bool = False, replace: bool = False) -> None:
        """Answer the user: ephemeral by default, through the response_url when there is one."""
        if self.notice:
            notice, self.notice = self.notice, ""
            content = (dataclasses.replace(content, text=f"{notice}\n\n{content.text}".strip())
                       if isinstance(content, Card) else f"{notice}\n{content}")
        message = as_message(content)
        response_url = self.body.get("response_url")
        if response_url:
            await post_to_response_url(self.session, response_url, {
                **message, "response_type": "in_channel" if public else "ephemeral",
                "replace_original": replace,
            })
        elif self.channel_id and self.user_id and not public:
            await self.client.chat_postEphemeral(channel=self.channel_id, user=self.user_id, **message)
        elif self.channel_id and public:
            await self.client.chat_postMessage(channel=self.channel_id, **message)
        elif self.user_id:  # a Home tab click or a form: the app's Messages tab
            await self.client.chat_postMessage(channel=self.user_id, **message)

    async def tell(self, content: Card | str, channel: str | None = None) -> None:
        """A note to the caller after a form, ephemeral in `channel` (where the form was opened).

        Else a DM: from the App Home, in a channel the bot is not in, or without a channel.
        """
        if self.user_id is None:
            return
        message = as_message(content)
        if channel:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=self.user_id, **message)
                return
            except SlackApiError as exc:
                log.info("ephemeral note refused in %s: %s", channel, error_code(exc))
        await self.client.chat_postMessage(channel=self.user_id, **message)

    async def open_modal(self, view: dict[str, Any]) -> dict[str, Any]:
        """views.open with this request's trigger_id (valid 3 s, once)."""
        try:
            response = await self.client.views_open(trigger_id=self.trigger_id, view=view)
        except SlackApiError as error:
            # Slack took more than its 3 s to pass the click on, or it was used twice: not a bug.
            if error_code(error) in ("expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"):
                raise UserError("slack.form_expired") from error
            raise
        return dict(response["view"])
