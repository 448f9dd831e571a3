"""Cards kept in step with their posts: what is only read takes no write lock (bot/posting.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.cards import Card
from bot.posting import PostOwner, sync_card
from bot.services import Services
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


@contextmanager
def another_writer(services: Services) -> Iterator[None]:
    """Another process's writer holds SQLite's write lock until the block ends."""
    holder = sqlite3.connect(str(services.db.engine.url.database), timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


async def test_editing_the_posted_copies_does_not_wait_for_another_writer(services: Services) -> None:
    if not services.db.is_sqlite:
        pytest.skip("SQLite's write lock")
    notifier = RecordingNotifier()
    services.notifiers["discord"] = notifier
    caller = await make_caller(services, "U1")
    owner = PostOwner(caller.community_id, "probe", 7, caller.member_id)
    posted = await sync_card(services, owner, Card(title="v1"), ["C1", "C2"])
    assert sorted(posted.posted) == ["C1", "C2"]

    with another_writer(services):
        # Only edits: the community and the posts are read without BEGIN IMMEDIATE, which would
        # wait for the lock (up to the 10 s busy timeout) before anything reached the platform.
        edited = await asyncio.wait_for(sync_card(services, owner, Card(title="v2"), None), 2)

    assert sorted(edited.edited) == ["C1", "C2"]
    assert [card.title for card in notifier.messages.values()] == ["v2", "v2"]
