"""The Discord Notifier: cards, DMs, threads, private threads, scheduled events; mentions disabled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import aiohttp
import discord

from bot.cards import Attachment, Card, truncate
from bot.notifier import CannotPost, EventSpec, PostRef, ThreadRef
from bot.rendering.discord import render_card, render_files
from bot.text import is_number

if TYPE_CHECKING:
    from bot.discord_bot.client import CollectifBot

log = logging.getLogger(__name__)
_GONE = (discord.NotFound, discord.Forbidden)
ARCHIVED_THREAD = 50083  # "Operation cannot be performed on an archived thread"
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
THREAD_NAME_MAX = 100
EVENT_NAME_MAX = 100
EVENT_DESCRIPTION_MAX = 1000
EVENT_LOCATION_MAX = 100
THREAD_ARCHIVE_MINUTES: Final = 10080  # a week without messages before Discord hides it
EXTERNAL, GUILD_ONLY, CANCELED = 3, 2, 4  # entity type, privacy level, status
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_MEMBER, UNKNOWN_USER = 10003, 10008, 10007, 10013
ADD_RETRY_DELAYS = (0.5, 2.0)  # seconds before adding a member to a private thread again after a 5xx
LOCATION_SEPARATOR = " · "  # between a place or link and its city (cogs.afterworks' where_text)
_LINK = re.compile(r"https?://\S+")
MEMBER_CHECKS_AT_ONCE = 4  # discord.py waits out the route's rate limit; this keeps the queue short


class DiscordNotifier:
    """Implements bot.notifier.Notifier on a running CollectifBot (channel ids are snowflakes)."""

    platform = "discord"

    def __init__(self, bot: CollectifBot) -> None:
        self.bot = bot

    def _channel(self, community_external_id: str, channel_id: str) -> discord.PartialMessageable | None:
        """The channel, if it may belong to this guild: a cached channel of another guild is refused."""
        try:
            cid, gid = int(channel_id), int(community_external_id)
        except ValueError:
            return None
        cached = self.bot.get_channel(cid)
        guild = getattr(cached, "guild", None)
        if guild is not None and guild.id != gid:
            log.warning("channel %s is not in guild %s: not posting there", cid, gid)
            return None
        return self.bot.get_partial_messageable(cid, guild_id=gid)

    def _content(self, card: Card, *, editing: bool) -> dict[str, Any]:
        embed, view = render_card(card)
        kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": discord.AllowedMentions.none()}
        if view is not None or editing:  # an edit without buttons removes the old ones
            kwargs["view"] = view
        return kwargs

    def _new_message(self, card: Card, extra: Attachment | None = None) -> dict[str, Any]:
        kwargs = self._content(card, editing=False)
        files = render_files((*card.attachments, *((extra,) if extra else ())))
        if files:
            kwargs["files"] = files
        return kwargs

    @staticmethod
    def _refused(exc: discord.HTTPException, channel_id: str) -> CannotPost:
        log.info("may not post in channel %s: %s", channel_id, exc)
        return CannotPost(channel_id, "archived" if exc.code == ARCHIVED_THREAD else "forbidden")

    async def _send(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        channel = self._channel(community_external_id, channel_id)
        if channel is None:
            return None
        try:
            message = await channel.send(**self._new_message(card))
        except discord.NotFound as exc:
            log.info("cannot post in channel %s of guild %s: %s", channel_id, community_external_id, exc)
            return None
        except discord.Forbidden as exc:
            raise self._refused(exc, channel_id) from exc
        except discord.HTTPException as exc:
            if exc.code == ARCHIVED_THREAD:
                raise self._refused(exc, channel_id) from exc
            raise
        return PostRef(str(message.channel.id), str(message.id))

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        return await self._send(community_external_id, channel_id, card)

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        channel = self._channel(community_external_id, ref.channel_id)
        if channel is None:
            return False
        try:
            await channel.get_partial_message(int(ref.message_id)).edit(**self._content(card, editing=True))
        except discord.NotFound as exc:
            return self._message_gone(exc)
        except discord.HTTPException as exc:
            if exc.code == ARCHIVED_THREAD:  # said apart from an outage: a message reopens the thread
                raise self._refused(exc, ref.channel_id) from exc
            raise
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        channel = self._channel(community_external_id, ref.channel_id)
        if channel is None:
            return False
        message = channel.get_partial_message(int(ref.message_id))
        try:
            await message.delete()
        except discord.NotFound as exc:
            return self._message_gone(exc)
        except discord.HTTPException as exc:
            if exc.code != ARCHIVED_THREAD:
                raise
            return await self._delete_in_archived(message, ref, exc)
        return True

    async def _delete_in_archived(self, message: discord.PartialMessage, ref: PostRef,
                                  refusal: discord.HTTPException) -> bool:
        """A message of an archived thread: reopened, deleted, archived again (as Discord's own client does).

        Reopening an unlocked thread needs only Send Messages; a locked one (or a refusal) raises
        CannotPost, for the caller's retry or the moderators.
        """
        try:
            await self.bot.http.edit_channel(ref.channel_id, archived=False)
        except discord.NotFound as exc:
            return self._message_gone(exc)
        except discord.HTTPException as exc:
            raise self._refused(refusal, ref.channel_id) from exc
        try:
            await message.delete()
        except discord.NotFound as exc:
            return self._message_gone(exc)
        finally:
            with contextlib.suppress(discord.HTTPException):
                await self.bot.http.edit_channel(ref.channel_id, archived=True)
        return True

    @staticmethod
    def _message_gone(exc: discord.NotFound) -> bool:
        """False (gone) for an unknown message or channel; any other 404 is raised.

        A refusal (403: the bot's access to the channel taken away, maybe for a while) is raised too,
        never taken for "gone": the message is still shown, and its `posts` row must stay so that a
        later deletion (a member's privacy deletion) still removes it.
        """
        if exc.code in (UNKNOWN_MESSAGE, UNKNOWN_CHANNEL):
            return False
        raise exc

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        try:
            user = self.bot.get_user(int(user_id)) or await self.bot.fetch_user(int(user_id))
            message = await user.send(**self._new_message(card, attachment))
        except _GONE as exc:  # DMs closed, or no such user: nothing to retry
            log.info("cannot DM user %s: %s", user_id, exc)
            return None
        # Any other failure (a 5xx after discord.py's retries) is raised, as on Slack: the caller's
        # job is retried rather than taking the member for unreachable.
        return PostRef(str(message.channel.id), str(message.id))

    # -- threads and private spaces ------------------------------------------------------------

    async def open_thread(self, community_external_id: str, ref: PostRef, name: str) -> ThreadRef | None:
        if self._channel(community_external_id, ref.channel_id) is None:
            return None
        try:
            thread = await self.bot.http.start_thread_with_message(
                ref.channel_id, ref.message_id, name=truncate(name, THREAD_NAME_MAX) or "…",
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.NotFound:
            return None
        except discord.Forbidden as exc:
            raise self._refused(exc, ref.channel_id) from exc
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise
            # Created by an earlier try Discord answered 5xx for (discord.py's retry, or the caller's):
            # a message's thread has the message's id.
            log.info("message %s has its thread already: using it", ref.message_id)
            return ThreadRef(ref.channel_id, ref.message_id)
        return ThreadRef(ref.channel_id, str(thread["id"]))

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        return await self._send(community_external_id, thread.thread_id, card)

    async def archive_thread(self, community_external_id: str, thread: ThreadRef) -> bool:
        if self._channel(community_external_id, thread.thread_id) is None:
            return False
        try:
            # Only what the thread's creator may change: `locked` needs Manage Threads, which the invite
            # does not ask for (Discord answers 403). A message in it reopens it, as for anyone.
            await self.bot.http.edit_channel(thread.thread_id, archived=True)
        except _GONE:
            return False
        return True

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        if self._channel(community_external_id, channel_id) is None:
            return None
        try:
            thread = await self.bot.http.start_thread_without_message(
                channel_id, name=truncate(name, THREAD_NAME_MAX) or "…",
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                type=discord.ChannelType.private_thread.value, invitable=False,
            )
        except discord.NotFound:
            return None
        except discord.Forbidden as exc:
            raise self._refused(exc, channel_id) from exc
        space = ThreadRef(channel_id, str(thread["id"]))
        try:
            added = [u for u in dict.fromkeys(user_ids) if await self._add_to_thread(space.thread_id, u)]
        except Exception:
            # Someone who belongs in it could not be added: the half-filled thread is closed (best effort)
            # and the failure raised, so that the caller's retry opens it again with everyone.
            with contextlib.suppress(Exception):
                await self.archive_thread(community_external_id, space)
            raise
        if not added and user_ids:
            await self.archive_thread(community_external_id, space)
            return None
        return space

    async def rename_private_space(self, community_external_id: str, space: ThreadRef, name: str) -> bool:
        if self._channel(community_external_id, space.thread_id) is None:
            return False
        try:
            # The thread's creator may change its name without Manage Threads, archived or not.
            await self.bot.http.edit_channel(space.thread_id, name=truncate(name, THREAD_NAME_MAX) or "…")
        except _GONE:
            return False
        return True

    async def _add_to_thread(self, thread_id: str, user_id: str) -> bool:
        """Adds a member to a private thread; False when Discord says they are not there for it.

        Only an unknown member or user (left the server, account deleted), or a refusal for that member,
        skips them. A 5xx is tried again ADD_RETRY_DELAYS apart, then raised like any other failure:
        skipping them would leave a member silently out of their team's or pair's conversation.
        """
        for delay in ADD_RETRY_DELAYS:
            try:
                return await self._add_once(thread_id, user_id)
            except discord.DiscordServerError as exc:
                log.info("adding %s to private thread %s failed (%s): trying again", user_id, thread_id, exc)
                await asyncio.sleep(delay)
        return await self._add_once(thread_id, user_id)

    async def _add_once(self, thread_id: str, user_id: str) -> bool:
        try:
            await self.bot.http.add_user_to_thread(thread_id, user_id)
        except discord.NotFound as exc:
            if exc.code not in (UNKNOWN_MEMBER, UNKNOWN_USER):
                raise
        except discord.Forbidden:
            pass
        else:
            return True
        log.info("cannot add %s to private thread %s: not in the server, or refused for them", user_id,
                 thread_id)
        return False

    # -- membership ----------------------------------------------------------------------------

    async def departed(self, community_external_id: str, user_ids: list[str]) -> set[str]:
        gate = asyncio.Semaphore(MEMBER_CHECKS_AT_ONCE)

        async def gone(user_id: str) -> bool:
            if not is_number(user_id):
                return False
            async with gate:
                try:
                    await self.bot.http.get_member(community_external_id, user_id)
                except discord.NotFound as exc:
                    return exc.code in (UNKNOWN_MEMBER, UNKNOWN_USER)
                except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError) as exc:
                    log.info("cannot tell whether %s is in guild %s: %s", user_id, community_external_id, exc)
            return False

        users = list(dict.fromkeys(user_ids))
        answers = await asyncio.gather(*(gone(u) for u in users))
        return {u for u, left in zip(users, answers, strict=True) if left}

    # -- guild scheduled events -------------------------------------------------------------------

    @staticmethod
    def _event_payload(event: EventSpec) -> dict[str, Any]:
        """The event as Discord takes it; a location over its 100 characters is shortened, never cut.

        A cut link is a dead one (a video call's link of 106 characters is ordinary): the location then
        shows a short form (`_short_location`) and the whole place or link opens the description.
        """
        location, description = event.location, event.description
        if len(location) > EVENT_LOCATION_MAX:
            description = "\n\n".join(p for p in (location, description) if p)
            location = _short_location(location)
        return {
            "name": truncate(event.name, EVENT_NAME_MAX) or "…",
            "description": truncate(description, EVENT_DESCRIPTION_MAX),
            "scheduled_start_time": event.start.isoformat(),
            "scheduled_end_time": event.ends.isoformat(),
            "entity_type": EXTERNAL,
            "entity_metadata": {"location": truncate(location, EVENT_LOCATION_MAX) or "…"},
            "privacy_level": GUILD_ONLY,
        }

    async def create_event(self, community_external_id: str, event: EventSpec) -> str | None:
        try:
            created = await self.bot.http.create_guild_scheduled_event(
                community_external_id, **self._event_payload(event)
            )
        except _GONE as exc:
            log.info("cannot create an event in guild %s: %s", community_external_id, exc)
            return None
        return str(created["id"])

    async def edit_event(self, community_external_id: str, event_id: str, event: EventSpec) -> bool:
        return await self._change_event(community_external_id, event_id, self._event_payload(event))

    async def cancel_event(self, community_external_id: str, event_id: str) -> bool:
        return await self._change_event(community_external_id, event_id, {"status": CANCELED})

    async def _change_event(self, community_external_id: str, event_id: str, payload: dict[str, Any]) -> bool:
        """False when the event is gone, or finished or cancelled already (Discord then refuses changes)."""
        try:
            await self.bot.http.edit_scheduled_event(community_external_id, event_id, **payload)
        except discord.HTTPException as exc:
            if exc.status not in (400, 403, 404):
                raise
            log.info("event %s of guild %s not changed: %s", event_id, community_external_id, exc)
            return False
        return True


def _host(link: re.Match[str]) -> str:
    """A link's host, or the link itself when it has none it can be read for (a place's "https://[")."""
    try:
        return urlsplit(link.group()).hostname or link.group()
    except ValueError:
        return link.group()


def _short_location(location: str) -> str:
    """A location that fits Discord's 100 characters: each link as its host, the place cut, the city kept.

    A location reads "place or link · city" (the city optional); the last part is kept whole while
    what comes before it is shortened.
    """
    place, separator, city = location.rpartition(LOCATION_SEPARATOR)
    if not separator or len(city) > EVENT_LOCATION_MAX // 2:
        place, separator, city = location, "", ""
    place = _LINK.sub(_host, place)
    return truncate(place, EVENT_LOCATION_MAX - len(separator) - len(city)) + separator + city
