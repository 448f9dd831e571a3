"""The Slack Notifier: cards, DMs with files, reply threads, group DMs; user text escaped by the renderer.

Posts are paced to one per second per channel (Slack's chat.postMessage limit, beyond which it answers
429); a 429 that still happens is waited out by the client's retry handlers (bot/slack_app/client.py).

A token Slack refuses (`_REVOKED`) means, distributed, that the workspace uninstalled the app without
us hearing of it: it is then treated as the `app_uninstalled` event would have been (its installation
deleted, its community paused: `TeamClients.refused`), and the call as one to a gone workspace. With
one SLACK_BOT_TOKEN it is the operator's token that is wrong: said once in the log, nothing paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import Attachment, Card
from bot.notifier import CannotPost, EventSpec, PostRef, ThreadRef
from bot.rendering.slack import render_message
from bot.slack_app.client import error_code

if TYPE_CHECKING:
    from bot.slack_app.installations import TeamClients

log = logging.getLogger(__name__)
# Errors meaning "this message or channel is not there for us": answered with None / False.
_GONE = {
    "channel_not_found",
    "message_not_found",
    "thread_not_found",
    "cant_update_message",
    "cant_delete_message",
    "user_not_found",
    "users_not_found",
    "cannot_dm_bot",
    "messages_tab_disabled",
}
# Of those, what means an edited or deleted message is gone: a refusal (not_in_channel, is_archived,
# cant_update_message…) leaves it shown, so it is raised and its `posts` row kept.
_MESSAGE_GONE = {"channel_not_found", "message_not_found"}
# Errors meaning "this token is not (any more) good": the app was uninstalled or the token revoked.
_REVOKED = {"invalid_auth", "token_revoked", "account_inactive", "not_authed"}
# Errors meaning "the channel is there but refuses the bot": CannotPost when posting.
_REFUSED = {"not_in_channel": "forbidden", "restricted_action": "forbidden", "is_archived": "archived",
            "channel_is_archived": "archived"}
_GONE_OR_REFUSED = frozenset(_GONE | set(_REFUSED))
FILES_MAX = 10
USER_CHECKS_AT_ONCE = 4  # users.info is Tier 4 (100+ a minute); the client waits out a 429
POST_INTERVAL = 1.0  # seconds between two posts in one channel
MAX_PACED_CHANNELS = 10_000
T = TypeVar("T")


class ChannelPacer:
    """At most one post per `interval` in each channel; channels do not wait for each other.

    A channel's posts take turns (a lock each), and the next one starts `interval` after the previous
    one *finished*, so that Slack receives them at least `interval` apart even when a post was slow
    or waited out a 429. `clock` and `sleep` are injectable so that tests need not wait.
    """

    def __init__(self, interval: float = POST_INTERVAL, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_channels: int = MAX_PACED_CHANNELS) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._max = max_channels
        self._channels: dict[str, tuple[asyncio.Lock, list[float]]] = {}  # channel -> lock, [last end]

    async def run(self, channel: str, post: Callable[[], Awaitable[T]]) -> T:
        lock, last = self._channels.get(channel) or self._add(channel)
        async with lock:
            wait = last[0] + self.interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
            try:
                return await post()
            finally:
                last[0] = self._clock()

    def _add(self, channel: str) -> tuple[asyncio.Lock, list[float]]:
        if len(self._channels) >= self._max:  # forget the channels idle for longer than the interval
            idle_since = self._clock() - self.interval
            for name, (lock, last) in list(self._channels.items()):
                if not lock.locked() and last[0] <= idle_since:
                    del self._channels[name]
        entry = self._channels[channel] = (asyncio.Lock(), [float("-inf")])
        return entry


class SlackNotifier:
    """Implements bot.notifier.Notifier with the client of the community's workspace.

    That is the bot token's client (one workspace per token), or, distributed, the client of the
    community's own installation (`teams`). Slack has no native scheduled events (create_event answers
    None) and no archiving of a thread.
    A workspace without installation (uninstalled) is like a gone channel: None / False.
    """

    platform = "slack"

    def __init__(self, client: AsyncWebClient, *, pacer: ChannelPacer | None = None,
                 teams: TeamClients | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()
        self.teams = teams
        self._told_bad_token = False

    async def _client(self, community_external_id: str) -> AsyncWebClient | None:
        if self.teams is None:
            return self.client
        return await self.teams.client(community_external_id)

    async def _gone(self, team: str, client: AsyncWebClient, exc: SlackApiError, what: str,
                    gone: Collection[str] = _GONE_OR_REFUSED) -> None:
        """Return when the error is one of `gone` ("not there for us", logged); raise any other."""
        error = error_code(exc)
        if error in _REVOKED and await self._refused(team, client, error):
            return
        if error not in gone:
            raise exc
        log.info("Slack %s: %s", what, error)

    async def _refused(self, team: str, client: AsyncWebClient, error: str) -> bool:
        """Slack refused the token: True when that means the workspace is gone (see the module docstring)."""
        if self.teams is not None:
            await self.teams.refused(team, client.token, error)
            return True
        if not self._told_bad_token:
            self._told_bad_token = True
            log.error("Slack refuses SLACK_BOT_TOKEN (%s): the app was uninstalled from the workspace or the "
                      "token revoked or regenerated; copy it again from your app's page (OAuth & Permissions "
                      "> Bot User OAuth Token) and restart Collectif", error)
        return False

    async def _send(self, team: str, client: AsyncWebClient, channel_id: str, card: Card, *,
                    thread_ts: str | None = None) -> PostRef | None:
        """Post a card and share its files beside it; CannotPost when the channel refuses the bot."""
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        message = render_message(card)
        try:
            response = await self.pacer.run(
                channel_id, lambda: client.chat_postMessage(channel=channel_id, **message, **extra)
            )
        except SlackApiError as exc:
            error = error_code(exc)
            if error in _REFUSED:
                raise CannotPost(channel_id, _REFUSED[error]) from exc  # type: ignore[arg-type]
            await self._gone(team, client, exc, f"cannot post in {channel_id}")
            return None
        channel = str(response["channel"])
        try:
            await self._upload(client, channel, card.attachments, thread_ts)
        except Exception:
            # A card announcing a file that never came: taken back (best effort), the failure raised.
            with contextlib.suppress(Exception):
                await client.chat_delete(channel=channel, ts=str(response["ts"]))
            raise
        return PostRef(channel, str(response["ts"]))

    async def _upload(self, client: AsyncWebClient, channel: str, attachments: tuple[Attachment, ...],
                      thread_ts: str | None) -> None:
        if not attachments:
            return
        uploads = [{"content": a.content, "filename": a.filename, "title": a.filename}
                   for a in attachments[:FILES_MAX]]
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        await client.files_upload_v2(channel=channel, file_uploads=uploads, **extra)

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        client = await self._client(community_external_id)
        return None if client is None else await self._send(community_external_id, client, channel_id, card)

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        client = await self._client(community_external_id)
        if client is None:
            return False
        try:
            await client.chat_update(channel=ref.channel_id, ts=ref.message_id, **render_message(card))
        except SlackApiError as exc:
            await self._gone(community_external_id, client, exc, f"cannot edit {ref}", _MESSAGE_GONE)
            return False
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        client = await self._client(community_external_id)
        if client is None:
            return False
        try:
            await client.chat_delete(channel=ref.channel_id, ts=ref.message_id)
        except SlackApiError as exc:
            await self._gone(community_external_id, client, exc, f"cannot delete {ref}", _MESSAGE_GONE)
            return False
        return True

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        if attachment is not None:
            card = replace(card, attachments=(*card.attachments, attachment))
        client = await self._client(community_external_id)
        if client is None:
            return None
        try:
            opened = await client.conversations_open(users=user_id)
            return await self._send(community_external_id, client, str(opened["channel"]["id"]), card)
        except SlackApiError as exc:
            await self._gone(community_external_id, client, exc, f"cannot DM {user_id}")
            return None
        except CannotPost as exc:
            log.info("cannot DM %s: %s", user_id, exc.reason)
            return None

    # -- threads and group DMs ------------------------------------------------------------------

    async def open_thread(self, community_external_id: str, ref: PostRef, name: str) -> ThreadRef | None:
        """A card's reply thread exists as soon as someone replies: nothing to create."""
        return ThreadRef(ref.channel_id, ref.message_id)

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        client = await self._client(community_external_id)
        if client is None:
            return None
        return await self._send(community_external_id, client, thread.channel_id, card,
                                thread_ts=thread.thread_id or None)

    async def archive_thread(self, community_external_id: str, thread: ThreadRef) -> bool:
        return False  # Slack threads and group DMs cannot be closed by an app

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        """A group DM of the members and the bot (Slack allows up to 8 people besides the app)."""
        users = list(dict.fromkeys(user_ids))
        client = await self._client(community_external_id) if users else None
        if client is None:
            return None
        try:
            opened = await client.conversations_open(users=",".join(users))
        except SlackApiError as exc:
            await self._gone(community_external_id, client, exc, f"cannot open a group DM with {users}")
            return None
        return ThreadRef(str(opened["channel"]["id"]), "")

    async def rename_private_space(self, community_external_id: str, space: ThreadRef, name: str) -> bool:
        return True  # a group DM has no name of its own: its members' names are Slack's

    # -- membership ----------------------------------------------------------------------------

    async def usergroup_members(self, community_external_id: str, group: str) -> list[str] | None:
        """The members of a user group (the moderators' one); None when the workspace is gone.

        A Slack failure raises: the caller (a job) asks again later.
        """
        client = await self._client(community_external_id)
        if client is None:
            return None
        answer = await client.usergroups_users_list(usergroup=group)
        return [str(user) for user in answer.get("users") or []]

    async def departed(self, community_external_id: str, user_ids: list[str]) -> set[str]:
        gate = asyncio.Semaphore(USER_CHECKS_AT_ONCE)
        client = await self._client(community_external_id)
        if client is None:
            return set()  # cannot tell: nobody is taken for gone

        async def gone(user_id: str) -> bool:
            async with gate:
                try:
                    answer = await client.users_info(user=user_id)
                except SlackApiError as exc:
                    if error_code(exc) in ("user_not_found", "users_not_found"):
                        return True
                    if error_code(exc) in _REVOKED:
                        await self._refused(community_external_id, client, error_code(exc))
                    log.info("cannot tell whether %s is in the workspace: %s", user_id, error_code(exc))
                    return False
                except (TimeoutError, aiohttp.ClientError) as exc:  # cannot tell: kept, not taken for gone
                    log.info("cannot tell whether %s is in the workspace: %r", user_id, exc)
                    return False
            user = answer.get("user") or {}
            return bool(user.get("deleted"))

        users = list(dict.fromkeys(user_ids))
        answers = await asyncio.gather(*(gone(u) for u in users))
        return {u for u, left in zip(users, answers, strict=True) if left}

    # -- scheduled events: none on Slack ------------------------------------------------------------

    async def create_event(self, community_external_id: str, event: EventSpec) -> str | None:
        return None

    async def edit_event(self, community_external_id: str, event_id: str, event: EventSpec) -> bool:
        return False

    async def cancel_event(self, community_external_id: str, event_id: str) -> bool:
        return False
