"""Drafts of the Discord intro form, kept in memory for 15 minutes per member.

Why memory and not a table: a draft only lives while a member clicks through one form (Discord
sends every select choice as its own interaction, and the modal cannot hold them all); all of a
guild's interactions reach the same shard process, so the process that showed the form gets the
clicks; losing drafts on a restart costs the member one retyping; and nothing personal outlives
the form, so no privacy hook is needed for it. Bounded in size and time.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.clock import Clock
from cogs.intros._validation import IntroForm

DRAFT_TTL = timedelta(minutes=15)
MAX_DRAFTS = 5_000

DraftKey = tuple[int, int]  # (community id, member id)


class Drafts:
    def __init__(self, clock: Clock, *, ttl: timedelta = DRAFT_TTL, max_entries: int = MAX_DRAFTS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._drafts: dict[DraftKey, tuple[datetime, IntroForm]] = {}

    def get(self, key: DraftKey) -> IntroForm | None:
        """A copy of the member's draft, or None once it expired."""
        entry = self._drafts.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock.now():
            del self._drafts[key]
            return None
        return dataclasses.replace(entry[1])

    def put(self, key: DraftKey, form: IntroForm) -> None:
        now = self._clock.now()
        self._drafts.pop(key, None)
        if len(self._drafts) >= self._max:
            self._drafts = {k: v for k, v in self._drafts.items() if v[0] > now}
            while len(self._drafts) >= self._max:
                self._drafts.pop(next(iter(self._drafts)))  # the oldest: dicts keep insertion order
        self._drafts[key] = (now + self._ttl, dataclasses.replace(form))

    def drop(self, key: DraftKey) -> None:
        self._drafts.pop(key, None)

    def __len__(self) -> int:
        return len(self._drafts)
