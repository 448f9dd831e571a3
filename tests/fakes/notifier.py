"""One fake notifier for every unit test: implements the whole bot.notifier port and records what was sent.

`messages` is what the platform shows now; `posts`, `dms`, `deleted`, `calls` are the history.
Channels in `gone` answer None (unknown channel); channels in `forbidden` raise CannotPost; users
in `closed_dms` do not get DMs; users in `left` are no longer in the community (`departed`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bot.cards import Card
from bot.notifier import Attachment, CannotPost, EventSpec, PostRef, ThreadRef


class Sent(NamedTuple):
    community_external_id: str
    channel_id: str
    card: Card


class Dm(NamedTuple):
    user_id: str
    card: Card
    attachment: Attachment | None


@dataclass
class Space:
    """A thread or private space as the fake keeps it."""

    ref: ThreadRef
    name: str
    members: list[str] = field(default_factory=list)
    archived: bool = False
    private: bool = False


@dataclass
class RecordingNotifier:
    """A Notifier that remembers what would be on the platform."""

    platform: str = "discord"
    messages: dict[tuple[str, str], Card] = field(default_factory=dict)
    posts: list[Sent] = field(default_factory=list)
    dms: list[Dm] = field(default_factory=list)
    deleted: list[PostRef] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (verb, channel)
    threads: dict[str, Space] = field(default_factory=dict)  # thread_id -> space
    events: dict[str, EventSpec] = field(default_factory=dict)
    cancelled_events: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    forbidden: set[str] = field(default_factory=set)
    closed_dms: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)  # the platform errs there (5xx, rate limited…)
    left: set[str] = field(default_factory=set)  # users who left the server / workspace
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    def _check(self, channel_id: str) -> bool:
        if channel_id in self.failing:
            raise RuntimeError(f"503 Service Unavailable posting in {channel_id}")
        if channel_id in self.forbidden:
            raise CannotPost(channel_id, "forbidden")
        return channel_id not in self.gone

    def _put(self, community_external_id: str, channel_id: str, card: Card) -> PostRef:
        self.posts.append(Sent(community_external_id, channel_id, card))
        ref = PostRef(channel_id, str(next(self._ids)))
        self.messages[(ref.channel_id, ref.message_id)] = card
        return ref

    async def post(self, community_external_id: str, channel_id: str, card: Card) -> PostRef | None:
        self.calls.append(("post", channel_id))
        if not self._check(channel_id):
            return None
        return self._put(community_external_id, channel_id, card)

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        self.calls.append(("edit", ref.channel_id))
        if (ref.channel_id, ref.message_id) not in self.messages:
            return False
        self.messages[(ref.channel_id, ref.message_id)] = card
        return True

    async def delete(self, community_external_id: str, ref: PostRef) -> bool:
        self.calls.append(("delete", ref.channel_id))
        self.deleted.append(ref)
        return self.messages.pop((ref.channel_id, ref.message_id), None) is not None

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        self.calls.append(("dm", user_id))
        if user_id in self.closed_dms:
            return None
        self.dms.append(Dm(user_id, card, attachment))
        return PostRef(f"dm-{user_id}", str(next(self._ids)))

    async def open_thread(self, community_external_id: str, ref: PostRef, name: str) -> ThreadRef | None:
        self.calls.append(("open_thread", ref.channel_id))
        if not self._check(ref.channel_id) or (ref.channel_id, ref.message_id) not in self.messages:
            return None
        thread = ThreadRef(ref.channel_id, f"thread-{ref.message_id}")
        self.threads.setdefault(thread.thread_id, Space(thread, name))
        return thread

    async def post_in_thread(
        self, community_external_id: str, thread: ThreadRef, card: Card
    ) -> PostRef | None:
        self.calls.append(("post_in_thread", thread.thread_id))
        space = self.threads.get(thread.thread_id)
        if space is None:
            return None
        if space.archived:
            raise CannotPost(thread.thread_id, "archived")
        return self._put(community_external_id, thread.thread_id, card)

    async def archive_thread(self, community_external_id: str, thread: ThreadRef) -> bool:
        self.calls.append(("archive_thread", thread.thread_id))
        space = self.threads.get(thread.thread_id)
        if space is None:
            return False
        space.archived = True
        return True

    async def open_private_space(
        self, community_external_id: str, channel_id: str, user_ids: list[str], name: str
    ) -> ThreadRef | None:
        self.calls.append(("open_private_space", channel_id))
        if not self._check(channel_id) or not user_ids:
            return None
        thread = ThreadRef(channel_id, f"private-{next(self._ids)}")
        self.threads[thread.thread_id] = Space(thread, name, list(dict.fromkeys(user_ids)), private=True)
        return thread

    async def rename_private_space(self, community_external_id: str, space: ThreadRef, name: str) -> bool:
        self.calls.append(("rename_private_space", space.thread_id))
        found = self.threads.get(space.thread_id)
        if found is None:
            return False
        found.name = name
        return True

    async def departed(self, community_external_id: str, user_ids: list[str]) -> set[str]:
        self.calls.append(("departed", community_external_id))
        return set(user_ids) & self.left

    async def create_event(self, community_external_id: str, event: EventSpec) -> str | None:
        self.calls.append(("create_event", community_external_id))
        event_id = f"event-{next(self._ids)}"
        self.events[event_id] = event
        return event_id

    async def edit_event(self, community_external_id: str, event_id: str, event: EventSpec) -> bool:
        self.calls.append(("edit_event", event_id))
        if event_id not in self.events:
            return False
        self.events[event_id] = event
        return True

    async def cancel_event(self, community_external_id: str, event_id: str) -> bool:
        self.calls.append(("cancel_event", event_id))
        if self.events.pop(event_id, None) is None:
            return False
        self.cancelled_events.append(event_id)
        return True

    def in_channel(self, channel_id: str) -> list[Card]:
        """The cards shown in a channel (or thread) now, oldest first."""
        return [card for (channel, _), card in self.messages.items() if channel == channel_id]


class FlakyNotifier(RecordingNotifier):
    """The platform answers 5xx (raises) for DMs to `failing_dms` and posts in `failing` channels."""

    def __init__(self) -> None:
        super().__init__()
        self.failing_dms: set[str] = set()
        self.fail_dm_call: int | None = None  # the nth DM call (1-based) answers 503, once
        self._dm_calls = 0

    async def dm(
        self, community_external_id: str, user_id: str, card: Card, attachment: Attachment | None = None
    ) -> PostRef | None:
        self._dm_calls += 1
        if self._dm_calls == self.fail_dm_call:
            self.calls.append(("dm", user_id))
            raise RuntimeError(f"503 Service Unavailable DMing {user_id}")
        if user_id in self.failing_dms:
            self.calls.append(("dm", user_id))
            raise RuntimeError(f"503 Service Unavailable DMing {user_id}")
        return await super().dm(community_external_id, user_id, card, attachment)
