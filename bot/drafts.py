"""Drafts of multi-step forms, kept in memory per member for 15 minutes: one store for every feature.

Why memory and not a table: a draft only lives while a member clicks through one form (Discord sends
every select choice as its own interaction, and a modal holds 5 inputs); all of a guild's interactions
reach the same shard process, so the process that showed the form gets the clicks; losing drafts on a
restart costs the member one retyping; and nothing personal outlives the form. A privacy deletion
forgets the member's drafts of every form (`forget_member`). Bounded in size and time.

On Slack (one store per app, `SlackRequest.drafts`) a draft keeps a form refused once Slack closed it;
with several processes behind one address, the next form may reach another one: as after a restart,
the member types it again.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.clock import Clock

DRAFT_TTL = timedelta(minutes=15)
MAX_DRAFTS = 5_000

F = TypeVar("F")
DraftKey = tuple[str, int, int]  # (form, community id, member id)


class Drafts:
    """Form drafts (dataclass instances), copied in and out so a caller never edits a stored one."""

    def __init__(self, clock: Clock, *, ttl: timedelta = DRAFT_TTL, max_entries: int = MAX_DRAFTS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._drafts: dict[DraftKey, tuple[datetime, Any]] = {}

    def get(self, form: str, community_id: int, member_id: int, kind: type[F]) -> F | None:
        """A copy of the member's draft of `form`, or None once it expired."""
        key = (form, community_id, member_id)
        entry = self._drafts.get(key)
        if entry is None or not isinstance(entry[1], kind):
            return None
        if entry[0] <= self._clock.now():
            del self._drafts[key]
            return None
        stored: Any = entry[1]  # a dataclass instance of `kind` (put() stores only those)
        return dataclasses.replace(stored)

    def put(self, form: str, community_id: int, member_id: int, draft: Any) -> None:
        now = self._clock.now()
        key = (form, community_id, member_id)
        self._drafts.pop(key, None)
        if len(self._drafts) >= self._max:
            self._drafts = {k: v for k, v in self._drafts.items() if v[0] > now}
            while len(self._drafts) >= self._max:
                self._drafts.pop(next(iter(self._drafts)))  # the oldest: dicts keep insertion order
        self._drafts[key] = (now + self._ttl, dataclasses.replace(draft))

    def drop(self, form: str, community_id: int, member_id: int) -> None:
        self._drafts.pop((form, community_id, member_id), None)

    def forget_member(self, community_id: int, member_id: int) -> None:
        """Every draft of this member (privacy delete)."""
        for key in [k for k in self._drafts if k[1:] == (community_id, member_id)]:
            del self._drafts[key]

    def __len__(self) -> int:
        return len(self._drafts)
