"""Cards posted for members: post, edit in place, remove, and keep `storage.models.Post` in step.

Any feature that posts a card for a member goes through here, so that an edit updates the same
message, a moderator or a privacy deletion can remove every message, and nobody posts twice.

Network calls never run inside a database transaction (a SQLite write lock held across a slow
platform call would stall every other writer): rows are read in one short transaction, the
platform is called, and the outcome is recorded in another.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.cards import Card
from bot.notifier import CannotPost, Notifier, PostRef
from storage.models import Community, Post, RemovedPost

if TYPE_CHECKING:
    from bot.scheduler import Scheduler
    from bot.services import Services

log = logging.getLogger(__name__)
MayPostNew = Callable[[AsyncSession], Awaitable[bool]]


@dataclass(frozen=True)
class PostOwner:
    """What a card is about: `feature` + `object_id` (e.g. "intros", profile id), for `member_id`."""

    community_id: int
    feature: str
    object_id: int
    member_id: int | None = None


@dataclass
class SyncResult:
    """Channel ids by outcome of `sync_card`."""

    edited: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # a new post was needed but `may_post_new` said no
    moderated: list[str] = field(default_factory=list)  # a moderator removed the card there: not again
    failed: list[str] = field(default_factory=list)  # unknown channel, or one refusing the bot (CannotPost)
    # The platform failed for now (5xx after its retries, rate limited, network): worth a later retry.
    retrying: list[str] = field(default_factory=list)
    # Of `retrying`, the archived Discord threads that refused an edit (CannotPost "archived"): a message
    # there reopens them, which an outage does not call for.
    archived: list[str] = field(default_factory=list)


# A card the platform failed to post for now is tried again this much later by its feature's job
# (then with the jobs' backoff): `retry_later`.
RETRY_AFTER = timedelta(minutes=3)


async def retry_later(services: Services, result: SyncResult, kind: str, community_id: int, object_id: int,
                      payload: dict[str, Any]) -> None:
    """Channels where the platform failed for now (`result.retrying`): tried again by a job.

    The feature's `kind` job, with `payload`, posts there RETRY_AFTER later, once per object and
    minute. Its handler calls the same publishing without `retry_later` and raises while channels
    still fail, so the scheduler backs off.
    """
    if result.retrying:
        await _queue_retry(services, kind, "retry", community_id, object_id, payload)


async def _queue_retry(services: Services, kind: str, why: str, community_id: int, object_id: int,
                       payload: dict[str, Any]) -> None:
    now = services.clock.now()
    async with services.db.transaction() as session:
        await services.scheduler.schedule(
            session, kind=kind, due_at=now + RETRY_AFTER, community_id=community_id, payload=payload,
            dedupe_key=f"{kind}:{why}:{community_id}:{object_id}:{int(now.timestamp()) // 60}",
        )


@dataclass(frozen=True)
class EditRetry:
    """A feature's card job, and its payload for editing one object's card again (`retry_edits`)."""

    kind: str
    payload: Callable[[int], dict[str, Any]]


# Per scheduler (one per running bot): feature (`PostOwner.feature`) -> how its failed edits are retried.
_edit_retries: weakref.WeakKeyDictionary[Scheduler, dict[str, EditRetry]] = weakref.WeakKeyDictionary()


def retry_edits(services: Services, feature: str, kind: str,
                payload: Callable[[int], dict[str, Any]]) -> None:
    """Declares the job that edits `feature`'s cards again when `edit_posted` failed for now.

    A card edit lost to an outage would leave the card stale until the object's next change (a member
    told "you joined" while the card counts nobody). With this declared, `edit_posted` queues `kind`
    (the feature's card job, the one `retry_later` queues, registered on the scheduler by the feature)
    with `payload(object_id)` RETRY_AFTER later; that payload must make the job only edit the posts
    that exist, with the object's state when it runs. Called with the feature's job registrations.
    """
    _edit_retries.setdefault(services.scheduler, {})[feature] = EditRetry(kind, payload)


async def _retry_edits(services: Services, owner: PostOwner, result: SyncResult) -> None:
    if not result.retrying:
        return
    retry = _edit_retries.get(services.scheduler, {}).get(owner.feature)
    if retry is None:  # the caller handles `result.retrying` itself (or nobody does: said in the log)
        log.info("editing %s %s failed in %s; no retry declared (posting.retry_edits)", owner.feature,
                 owner.object_id, result.retrying)
        return
    await _queue_retry(services, retry.kind, "edit", owner.community_id, owner.object_id,
                       retry.payload(owner.object_id))


async def posts_of(session: AsyncSession, community_id: int, feature: str, object_id: int) -> list[Post]:
    """The recorded posts of one object, oldest first."""
    rows = await session.scalars(
        select(Post)
        .where(Post.community_id == community_id, Post.feature == feature, Post.object_id == object_id)
        .order_by(Post.id)
    )
    return list(rows)


async def _community(session: AsyncSession, community_id: int) -> Community:
    community = await session.get(Community, community_id)
    if community is None:
        raise LookupError(f"community {community_id} is gone")
    return community


def notifier_for(services: Services, platform: str) -> Notifier:
    """The running platform's notifier (filled by the runtime on start)."""
    try:
        return services.notifiers[platform]
    except KeyError:
        raise RuntimeError(f"no notifier for {platform}: is its runtime started?") from None


async def delete_messages(
    services: Services, community_id: int, messages: Sequence[Sequence[str]]
) -> Community | None:
    """Delete these (channel, message) pairs of a community's, from a job's payload; its row, or None if gone.

    For the jobs that remove what a deletion left on the platform (a team's or a request's cards):
    a platform failure raises, so the job retries; a message already gone is skipped by the notifier.
    """
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
    if community is None:
        return None
    notifier = notifier_for(services, community.platform)
    for channel_id, message_id in messages:
        await notifier.delete(community.external_id, PostRef(str(channel_id), str(message_id)))
    return community


async def post_card(services: Services, owner: PostOwner, channel_id: str, card: Card) -> PostRef | None:
    """Posts a card once and records it; None when the channel is gone, CannotPost when it refuses the bot."""
    async with services.db.transaction(write=False) as session:
        community = await _community(session, owner.community_id)
        platform, external_id = community.platform, community.external_id
    ref = await notifier_for(services, platform).post(external_id, channel_id, card)
    if ref is not None:
        async with services.db.transaction() as session:
            session.add(_row(owner, ref, services))
    return ref


def _row(owner: PostOwner, ref: PostRef, services: Services) -> Post:
    return Post(
        community_id=owner.community_id,
        member_id=owner.member_id,
        feature=owner.feature,
        object_id=owner.object_id,
        channel_id=ref.channel_id,
        message_id=ref.message_id,
        posted_at=services.clock.now(),
    )


async def mark_removed(session: AsyncSession, community_id: int, feature: str, object_id: int,
                       channel_id: str) -> None:
    """A moderator removed the object's card from `channel_id`: `sync_card` posts no new one there."""
    known = await session.scalar(select(RemovedPost.id).where(
        RemovedPost.community_id == community_id, RemovedPost.feature == feature,
        RemovedPost.object_id == object_id, RemovedPost.channel_id == channel_id))
    if known is None:
        session.add(RemovedPost(community_id=community_id, feature=feature, object_id=object_id,
                                channel_id=channel_id))


async def forget_removed(session: AsyncSession, community_id: int, feature: str, object_ids: Sequence[int]
                         ) -> None:
    """The objects are deleted: their removal marks go too (a new object given the same id is another)."""
    if object_ids:
        await session.execute(delete(RemovedPost).where(
            RemovedPost.community_id == community_id, RemovedPost.feature == feature,
            RemovedPost.object_id.in_(list(object_ids))))


async def _removed_in(services: Services, owner: PostOwner, channel_ids: list[str]) -> list[str]:
    """Those of `channel_ids` where a moderator removed the object's card (`mark_removed`)."""
    async with services.db.transaction(write=False) as session:
        found = await session.scalars(select(RemovedPost.channel_id).where(
            RemovedPost.community_id == owner.community_id, RemovedPost.feature == owner.feature,
            RemovedPost.object_id == owner.object_id, RemovedPost.channel_id.in_(channel_ids)))
        return list(found)


async def sync_card(
    services: Services,
    owner: PostOwner,
    card: Card,
    channel_ids: Sequence[str] | None,
    *,
    may_post_new: MayPostNew | None = None,
    give_back: Callable[[AsyncSession], Awaitable[object]] | None = None,
    place: tuple[str, str] | None = None,
    posts: Sequence[Any] | None = None,
) -> SyncResult:
    """Makes `card` appear once in each of `channel_ids`, reusing the messages already posted.

    Existing posts in wanted channels are edited; posts elsewhere are removed; wanted channels
    without a live post get a new one, if `may_post_new(session)` (run in its own transaction,
    e.g. a conditional UPDATE enforcing a posting limit) agrees. Without `may_post_new` (a job, an
    edit) no new one goes where a moderator removed the card (`mark_removed`; `result.moderated`);
    with it (the member's own new post, within its allowance) it may, and the mark is lifted.
    While the card shows in none of the wanted channels (held back, or every one gone or failing),
    the posts elsewhere are edited and kept instead (a card moved to a newly set channel stays where
    it was meanwhile). `channel_ids=None`
    only edits what exists. A message deleted by hand on the platform counts as missing. When
    `may_post_new` agreed but no new post went out, `give_back(session)` undoes what it took (a
    posting allowance is spent only on what was posted). A platform failure on one channel never
    stops the others.
    With `place` (the community's platform and external id) and `posts` (the object's posts, read by
    `posted` in the change's own transaction) nothing is read first. The new posts are recorded in
    one INSERT.
    """
    result = SyncResult()
    if place is None or posts is None:
        async with services.db.transaction(write=False) as session:
            community = await _community(session, owner.community_id)
            platform, external_id = community.platform, community.external_id
            existing: Sequence[Any] = await posts_of(
                session, owner.community_id, owner.feature, owner.object_id
            )
    else:
        (platform, external_id), existing = place, posts
    notifier = notifier_for(services, platform)
    wanted = list(dict.fromkeys(channel_ids)) if channel_ids is not None else None
    gone: list[int] = []
    new_refs: list[PostRef] = []
    try:
        here = [p for p in existing if wanted is None or p.channel_id in wanted]
        live = await _edit_or_remove(notifier, external_id, here, wanted, card, gone, result)
        missing = [c for c in (wanted or ()) if c not in live]
        if missing and may_post_new is None:  # a job or an edit: never where a moderator removed it
            moderated = await _removed_in(services, owner, missing)
            result.moderated.extend(moderated)
            missing = [c for c in missing if c not in moderated]
        allowed = True
        if missing and may_post_new is not None:
            async with services.db.transaction() as session:
                allowed = await may_post_new(session)
        for channel_id in missing:
            if not allowed:
                result.held.append(channel_id)
                continue
            try:
                ref = await notifier.post(external_id, channel_id, card)
            except CannotPost:  # one channel refusing the bot must not stop the others
                ref = None
            except Exception as error:  # a platform failure: the caller may retry these later
                log.warning("posting %s %s in %s failed: %r", owner.feature, owner.object_id, channel_id,
                            error)
                result.retrying.append(channel_id)
                continue
            if ref is None:
                result.failed.append(channel_id)
            else:
                new_refs.append(ref)
                result.posted.append(channel_id)
        if missing and allowed and may_post_new is not None and give_back is not None and not new_refs:
            async with services.db.transaction() as session:
                await give_back(session)
        # Posts elsewhere go once the card shows where it belongs. While it shows in none of those
        # (held back by a posting limit, every channel gone or failing), it stays where it was, edited.
        elsewhere = [p for p in existing if p not in here]
        keep = not live and not new_refs
        await _edit_or_remove(notifier, external_id, elsewhere, None if keep else [], card, gone, result)
    finally:
        # Recorded even when the platform failed midway, so nothing posted is ever forgotten.
        twins: list[PostRef] = []
        if gone or new_refs:
            async with services.db.transaction() as session:
                if new_refs:  # first: the community's row, then the posts (the order other holders take)
                    await _hold_community(session, owner.community_id)
                if gone:
                    await session.execute(
                        delete(Post).where(Post.community_id == owner.community_id, Post.id.in_(gone))
                    )
                if new_refs:
                    twins = await _posted_meanwhile(session, owner, new_refs)
                    new_refs = [ref for ref in new_refs if ref not in twins]
                if new_refs:
                    await session.execute(_insert_post(), [_values(owner, ref, services) for ref in new_refs])
                if new_refs and may_post_new is not None:  # the member's own new post lifts a removal
                    await session.execute(delete(RemovedPost).where(
                        RemovedPost.community_id == owner.community_id, RemovedPost.feature == owner.feature,
                        RemovedPost.object_id == owner.object_id,
                        RemovedPost.channel_id.in_([ref.channel_id for ref in new_refs])))
        for ref in twins:  # the card shows there already, posted by the other sync
            try:
                await notifier.delete(external_id, ref)
            except Exception as error:
                log.warning("removing a second %s %s card in %s failed: %r", owner.feature, owner.object_id,
                            ref.channel_id, error)
    return result


async def _hold_community(session: AsyncSession, community_id: int) -> None:
    """The community's row, FOR NO KEY UPDATE: rows referencing it can still be inserted meanwhile."""
    await session.execute(
        select(Community.id).where(Community.id == community_id).with_for_update(key_share=True)
    )


async def _posted_meanwhile(session: AsyncSession, owner: PostOwner, refs: list[PostRef]) -> list[PostRef]:
    """Of `refs` (just posted), those in a channel where another sync of the object recorded a post meanwhile.

    Two saves of one intro at once (no repost limit) both read no post there and both posted: the second
    to record does not record its own and removes it, so that one card shows per channel. Run with the
    community's row held (`_hold_community`), so that on PostgreSQL two syncs recording at once see each
    other's posts (SQLite's writers take turns).
    """
    taken = set(await session.scalars(
        select(Post.channel_id).where(
            Post.community_id == owner.community_id, Post.feature == owner.feature,
            Post.object_id == owner.object_id, Post.channel_id.in_([ref.channel_id for ref in refs]),
        )
    ))
    return [ref for ref in refs if ref.channel_id in taken]


@functools.cache
def _insert_post() -> Any:
    return insert(Post)


def _values(owner: PostOwner, ref: PostRef, services: Services) -> dict[str, Any]:
    return {
        "community_id": owner.community_id,
        "member_id": owner.member_id,
        "feature": owner.feature,
        "object_id": owner.object_id,
        "channel_id": ref.channel_id,
        "message_id": ref.message_id,
        "posted_at": services.clock.now(),
    }


@functools.cache
def _posted_query() -> Select[int, str, str]:
    return (
        select(Post.id, Post.channel_id, Post.message_id)
        .where(
            Post.community_id == bindparam("community_id"),
            Post.feature == bindparam("feature"),
            Post.object_id == bindparam("object_id"),
        )
        .order_by(Post.id)
    )


async def posted(session: AsyncSession, owner: PostOwner) -> list[Row[int, str, str]]:
    """The recorded posts of one object as rows (id, channel_id, message_id), oldest first.

    Read in a change's own transaction, so that its effect edits them with `edit_posted`, no read again.
    """
    values = {"community_id": owner.community_id, "feature": owner.feature, "object_id": owner.object_id}
    return list((await session.execute(_posted_query(), values)).all())


# Per database engine: the newest version of each object's card an effect of this process sent.
_shown: weakref.WeakKeyDictionary[AsyncEngine, dict[tuple[int, str, int], int]] = weakref.WeakKeyDictionary()
_SHOWN_MAX = 10_000


async def edit_posted(
    services: Services,
    owner: PostOwner,
    platform: str,
    external_id: str,
    posts: Sequence[Any],
    card: Card,
    version: int | None = None,
    *,
    retry_later: bool = True,
) -> SyncResult:
    """`sync_card(…, None)` for posts read already (`posted`, in the change's transaction).

    Each post is edited in place; a message deleted by hand is forgotten, a duplicate in one channel
    removed, as `sync_card` does, without reading the posts again. With `version` (a counter every
    change of the object bumps in the database), a card older than one this process already sent is
    not sent: effects finishing out of order never put an older card back.
    Where the platform failed for now (`SyncResult.retrying`), the feature's card job edits the card
    again later (`retry_edits`); a job doing that retry passes `retry_later=False` and raises instead.
    """
    result = SyncResult()
    if version is not None:
        shown = _shown.setdefault(services.db.engine, {})
        key = (owner.community_id, owner.feature, owner.object_id)
        if shown.get(key, version) > version:
            return result
        shown[key] = version
        if len(shown) > _SHOWN_MAX:
            shown.pop(next(iter(shown)))
    if not posts:
        return result
    gone: list[int] = []
    try:
        await _edit_or_remove(notifier_for(services, platform), external_id, posts, None, card, gone, result)
    finally:
        if gone:
            async with services.db.transaction() as session:
                await session.execute(
                    delete(Post).where(Post.community_id == owner.community_id, Post.id.in_(gone))
                )
    if retry_later:
        await _retry_edits(services, owner, result)
    return result


async def _edit_or_remove(
    notifier: Notifier,
    external_id: str,
    existing: Sequence[Any],
    wanted: list[str] | None,
    card: Card,
    gone: list[int],
    result: SyncResult,
) -> set[str]:
    """Edits the posts to keep, removes the others (and duplicates); returns the channels still showing it.

    Only a message the platform answers gone (an edit or delete answering False: unknown message or
    channel) loses its row. Anything raised, a refusal (403, not in the channel) as well as a 5xx,
    leaves the message where it is: its row stays, so that a later deletion (a member's privacy
    deletion, a moderator's) still removes it, and the channel counts as `retrying`.
    """
    live: set[str] = set()
    for post in existing:
        ref = PostRef(post.channel_id, post.message_id)
        keep = post.channel_id not in live and (wanted is None or post.channel_id in wanted)
        try:
            if not keep:
                await notifier.delete(external_id, ref)
                gone.append(post.id)
                result.removed.append(post.channel_id)
            elif await notifier.edit(external_id, ref, card):
                live.add(post.channel_id)
                result.edited.append(post.channel_id)
            else:
                gone.append(post.id)
        except Exception as error:  # a platform failure on one channel: the others go on
            log.warning("updating post %s in %s failed: %r", post.id, post.channel_id, error)
            result.retrying.append(post.channel_id)
            if isinstance(error, CannotPost) and error.reason == "archived":
                result.archived.append(post.channel_id)
            if keep:  # its message is still there: no second copy is posted beside it
                live.add(post.channel_id)
    return live


async def remove_posts(
    services: Services,
    community_id: int,
    *,
    feature: str | None = None,
    object_id: int | None = None,
    member_id: int | None = None,
    retry: str | None = None,
) -> int:
    """Deletes the matching messages on the platform, then their rows; returns how many rows went.

    Used by privacy deletion (all of a member's posts: `member_id=`), by moderators, and by features
    closing an object. Messages already gone are not an error. Each message is deleted on its own: a
    platform failure on one (a 5xx, an outage) never stops the others. A message that failed keeps its
    row, so that nothing forgets it, and the first failure is raised once the others are done (a job
    calling this is retried), unless `retry` names a job that deletes it later: one is queued per
    message (payload: the post, as `cogs.config._moderation.REMOVE` takes it; idempotent, retried with
    the jobs' backoff) and the row goes all the same, so that a member's deletion completes.
    """
    async with services.db.transaction(write=False) as session:
        community = await _community(session, community_id)
        platform, external_id = community.platform, community.external_id
        query = select(Post).where(Post.community_id == community_id)
        if feature is not None:
            query = query.where(Post.feature == feature)
        if object_id is not None:
            query = query.where(Post.object_id == object_id)
        if member_id is not None:
            query = query.where(Post.member_id == member_id)
        posts = list(await session.scalars(query))
    if not posts:
        return 0
    notifier = notifier_for(services, platform)
    failed: list[tuple[Post, Exception]] = []
    for post in posts:
        try:
            await notifier.delete(external_id, PostRef(post.channel_id, post.message_id))
        except Exception as error:  # a platform failure on one message: the others go on
            log.warning("removing post %s in %s failed: %r", post.id, post.channel_id, error)
            failed.append((post, error))
    kept = [] if retry is not None else [post for post, _ in failed]
    gone = [p.id for p in posts if p not in kept]
    async with services.db.transaction() as session:
        if gone:
            await session.execute(delete(Post).where(Post.community_id == community_id, Post.id.in_(gone)))
        if retry is not None:
            for post, _ in failed:
                await services.scheduler.schedule(
                    session, kind=retry, due_at=services.clock.now() + RETRY_AFTER, community_id=community_id,
                    payload={"channel_id": post.channel_id, "message_id": post.message_id,
                             "member_id": post.member_id, "feature": post.feature,
                             "object_id": post.object_id, "posted_at": post.posted_at.isoformat()},
                    dedupe_key=f"{retry}:{community_id}:{post.channel_id}:{post.message_id}",
                )
    if kept:
        raise failed[0][1]
    return len(gone)

