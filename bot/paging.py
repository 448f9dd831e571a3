"""Searches waiting to be stored for their paging buttons, kept in this process meanwhile.

A search with more than one page is stored (its filters behind a token named by the Previous / Next
buttons) after the member has the answer, so that the answer never waits on SQLite's write lock. A
button clicked before that store committed (a slow disk, another process holding the lock for a
backup) finds the filters here instead of "this search has expired". Another process sharing the
database finds them stored, once committed; until then, as before, it finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_pending: dict[tuple[str, int, str], Any] = {}
MAX_PENDING = 1000  # a store that never ran (its use case failed later) is forgotten past this many


def storing(feature: str, community_id: int, token: str, query: Any) -> Callable[[], None]:
    """Keep `query` findable by `pending` until the returned callable runs.

    Call that once the store's transaction ended, committed or not (a rolled-back store must not
    leave the query here for ever).
    """
    key = (feature, community_id, token)
    _pending[key] = query
    while len(_pending) > MAX_PENDING:
        del _pending[next(iter(_pending))]  # the oldest

    def ended() -> None:
        if _pending.get(key) is query:
            del _pending[key]

    return ended


def pending(feature: str, community_id: int, token: str) -> Any | None:
    """The query of a search of this community still being stored by this process, if any."""
    return _pending.get((feature, community_id, token))
