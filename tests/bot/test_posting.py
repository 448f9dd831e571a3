"""Cards kept in step with their posts: what is only read takes no write lock (bot/posting.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from bot.cards import Card
from bot.clock import FrozenClock
from bot.notifier import PostRef
from bot.posting import RETRY_AFTER, PostOwner, edit_posted, posted, retry_edits, sync_card
from bot.scheduler import JobRun
from bot.services import Services
from storage.models import Job
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


# -- an edit the platform failed is edited again by the feature's card job -----------------------------


class _EditsFail(RecordingNotifier):
    """Edits in the `failing` channels raise (a 5xx after the client's retries)."""

    async def edit(self, community_external_id: str, ref: PostRef, card: Card) -> bool:
        if ref.channel_id in self.failing:
            raise RuntimeError(f"503 Service Unavailable editing in {ref.channel_id}")
        return await super().edit(community_external_id, ref, card)


async def test_an_edit_lost_to_an_outage_is_redone_by_the_features_card_job(
    services: Services, clock: FrozenClock
) -> None:
    """A member told "you joined" while the card still counts nobody: `edit_posted` must not drop the edit.

    The feature's card job, declared with `retry_edits`, edits the card again RETRY_AFTER later, as the
    object is then; the job's own edits (`retry_later=False`) queue nothing more, its raising backs off.
    """
    notifier = _EditsFail()
    services.notifiers["discord"] = notifier
    caller = await make_caller(services, "U1")
    owner = PostOwner(caller.community_id, "probe", 7, caller.member_id)
    await sync_card(services, owner, Card(title="v1"), ["C1"])
    now_shown = Card(title="v3")

    async def card_job(run: JobRun) -> None:  # as a feature's: the card as it is now, where it is
        async with services.db.transaction(write=False) as session:
            posts = await posted(session, owner)
        result = await edit_posted(services, owner, "discord", caller.community_external_id, posts, now_shown,
                                   retry_later=False)
        if result.retrying:
            raise RuntimeError("still failing")

    services.scheduler.register("probe.card", card_job, retry_delay=RETRY_AFTER)
    retry_edits(services, "probe", "probe.card", lambda object_id: {"probe_id": object_id})
    notifier.failing.add("C1")
    async with services.db.transaction(write=False) as session:
        posts = await posted(session, owner)

    external_id = caller.community_external_id
    lost = await edit_posted(services, owner, "discord", external_id, posts, Card(title="v2"))

    assert lost.retrying == ["C1"]
    clock.advance(RETRY_AFTER)
    await services.scheduler.run_due()  # Discord still fails: the job raises, nothing queued beside it
    async with services.db.transaction(write=False) as session:
        jobs = list(await session.execute(select(Job.payload, Job.state, Job.attempts)))
    assert jobs == [({"probe_id": 7}, "pending", 1)]
    notifier.failing.clear()
    clock.advance(RETRY_AFTER * 2)
    await services.scheduler.run_due()
    assert [card.title for card in notifier.messages.values()] == ["v3"]
