"""Moderators remove a post the bot made for a member, with a reason: logged, and the author is told why.

Features learn of a removal by the missing `posts` row (decision: no callback): a feature that edits
its card looks its Post up and treats a missing one as removed, as it already must when a privacy
deletion removes it. The channel is marked (`removed_posts`): no job posts the card there again
(`bot.posting.sync_card`), only the member's own new post may.

The row goes in the moderator's transaction (two moderators removing one post: the DELETE settles
it), with a `REMOVE` job that deletes the message: tried at once after the commit, and again with the
jobs' backoff while the platform fails (a 5xx, an outage), so that a moderator told "removed" never
leaves the card up for good. Should every attempt fail, the row comes back (the post can be removed
again, and a privacy deletion still finds it) and the moderators' log says so. The author's DM goes
through the outbox (`bot.outbox.send_dm`): kept and sent again when the platform fails.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from bot import modlog
from bot.cards import Card
from bot.errors import BUGS, NotFound
from bot.i18n import resolve_locale
from bot.notifier import Notifier, PostRef
from bot.outbox import Addressed, send_dm
from bot.posting import RETRY_AFTER, mark_removed, notifier_for
from bot.scheduler import JobRun
from cogs.config import _refs
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action, invalid
from storage.models import Community, Member, Post, RemovedPost

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
REMOVE = "moderation.remove_post"  # the job deleting a removed post's message
REASON_MAX = 500


def _reason(raw: str | None) -> str:
    reason = " ".join((raw or "").split())
    if not reason:
        raise invalid("reason", "config.errors.reason_empty")
    if len(reason) > REASON_MAX:
        raise invalid("reason", "config.errors.reason_too_long", max=REASON_MAX)
    return reason


@action("remove_post_link")
async def remove_post_by_link(ctx: ConfigContext, link: str, reason: str | None) -> Card:
    """`/config remove-post <message link> <reason>`: the link must point into this community."""
    parsed = _refs.message_link(ctx.platform, link or "")
    if parsed is None:
        raise invalid("link", "config.errors.bad_link")
    guild, channel_id, message_id = parsed
    if guild is not None and guild != ctx.caller.community_external_id:
        raise NotFound("config.errors.unknown_post")
    return await remove_post(ctx, channel_id, message_id, reason)


@action("remove_post_check")
async def check_remove_post(ctx: ConfigContext, channel_id: str, message_id: str, reason: str | None) -> None:
    """Read-only: what `remove_post` would refuse (the reason, a post not of this community)."""
    _reason(reason)
    known = await ctx.session.scalar(select(Post.id).where(
        Post.community_id == ctx.community_id, Post.channel_id == channel_id, Post.message_id == message_id))
    if known is None:
        raise NotFound("config.errors.unknown_post")


@action("remove_post")
async def remove_post(ctx: ConfigContext, channel_id: str, message_id: str, reason: str | None) -> Card:
    """Delete the Post row now, with the job deleting its message; the DM and the modlog go once committed.

    Two moderators removing the same post: the DELETE settles it, the second gets NotFound.
    """
    reason = _reason(reason)
    removed = (
        await ctx.session.execute(
            delete(Post)
            .where(
                Post.community_id == ctx.community_id,
                Post.channel_id == channel_id,
                Post.message_id == message_id,
            )
            .returning(Post.member_id, Post.feature, Post.object_id, Post.posted_at)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if removed is None:
        raise NotFound("config.errors.unknown_post")
    member_id, feature, object_id, posted_at = removed
    await mark_removed(ctx.session, ctx.community_id, feature, object_id, channel_id)
    author = (
        await ctx.session.scalar(
            select(Member).where(Member.id == member_id, Member.community_id == ctx.community_id)
        )
        if member_id is not None
        else None
    )
    await record(
        ctx,
        "post.remove",
        f"{feature} #{object_id}",
        reason,
        target=author.display_name if author else "",
        subject_member_id=member_id,
    )
    post = _removed(channel_id, message_id, member_id, feature, object_id, posted_at)
    job_id = await ctx.scheduler.schedule(
        ctx.session, kind=REMOVE, due_at=ctx.clock.now() + RETRY_AFTER, community_id=ctx.community_id,
        payload=post,
    )
    services, community_id = ctx.services, ctx.community_id
    channel_label = await ctx.directory.channel_label(channel_id)
    locale = resolve_locale(author.locale if author else None, (await ctx.community()).locale)
    place = Addressed(community_id, ctx.platform, ctx.caller.community_external_id)
    to = (author.id, author.platform_user_id) if author else None
    catalog = ctx.catalog

    async def delete_message(_notifier: Notifier | None) -> None:
        await delete_now(services, community_id, job_id, post)

    async def tell_author(_notifier: Notifier | None) -> None:
        if to is None:
            return
        card = Card(
            title=catalog.t(locale, "config.removed.title"),
            text=catalog.t(locale, "config.removed.text", channel=channel_label, reason=reason),
        )
        await send_dm(services, place, *to, card, about=())  # kept in the outbox when the platform fails

    ctx.after_commit(delete_message)
    ctx.after_commit(tell_author)
    return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.post_removed", reason=reason))


def _removed(channel_id: str, message_id: str, member_id: int | None, feature: str, object_id: int,
             posted_at: datetime) -> dict[str, Any]:
    """The REMOVE job's payload: the message to delete, and the row to put back should it never go."""
    return {"channel_id": channel_id, "message_id": message_id, "member_id": member_id,
            "feature": feature, "object_id": object_id, "posted_at": posted_at.isoformat()}


async def delete_now(services: Services, community_id: int, job_id: int, post: dict[str, Any]) -> None:
    """Right after the commit: the message deleted, and its job with nothing left to do cancelled.

    When the platform fails, the job stays: it deletes the message RETRY_AFTER later.
    """
    try:
        await _delete_message(services, community_id, post)
    except BUGS:
        raise
    except Exception:
        log.warning("removing post %s in %s failed; retried by a job", post["message_id"], post["channel_id"],
                    exc_info=True)
        return
    async with services.db.transaction() as session:
        await services.scheduler.cancel(session, job_id=job_id, community_id=community_id)


async def _delete_message(services: Services, community_id: int, post: dict[str, Any]) -> None:
    """Deletes the message (already gone is fine); raises while the platform fails."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
    if community is None:
        return
    await notifier_for(services, community.platform).delete(
        community.external_id, PostRef(str(post["channel_id"]), str(post["message_id"]))
    )


async def removal_job(services: Services, run: JobRun) -> None:
    """The REMOVE job: the message deleted; a failure raises, so that the scheduler tries again later.

    The last attempt failed: the row comes back and the moderators are told (`_give_back`).
    """
    assert run.community_id is not None
    try:
        await _delete_message(services, run.community_id, run.payload)
    except BUGS:
        raise
    except Exception:
        if run.attempt >= services.scheduler.max_attempts:
            await _give_back(services, run.community_id, run.payload)
        raise


async def _give_back(services: Services, community_id: int, post: dict[str, Any]) -> None:
    """The message could not be deleted: its row is recorded again and a modlog notice asks to retry.

    The author keeps the row only if they did not delete their data meanwhile.
    """
    async with services.db.transaction() as session:
        member_id = post.get("member_id")
        if member_id is not None:
            member_id = await session.scalar(
                select(Member.id).where(Member.community_id == community_id, Member.id == int(member_id))
            )
        await session.execute(delete(RemovedPost).where(
            RemovedPost.community_id == community_id, RemovedPost.feature == str(post["feature"]),
            RemovedPost.object_id == int(post["object_id"]),
            RemovedPost.channel_id == str(post["channel_id"]),
        ))
        session.add(Post(
            community_id=community_id, member_id=member_id, feature=str(post["feature"]),
            object_id=int(post["object_id"]), channel_id=str(post["channel_id"]),
            message_id=str(post["message_id"]), posted_at=datetime.fromisoformat(str(post["posted_at"])),
        ))
        await modlog.queue_notice(services, session, community_id, "config.remove_failed",
                                  once=f"{post['channel_id']}:{post['message_id']}",
                                  channel=str(post["channel_id"]))


def register_jobs(services: Services) -> None:
    """The removal job (the feature's start hook registers it, beside the moderator group's refresh)."""
    services.scheduler.register(REMOVE, functools.partial(removal_job, services), max_lateness=None,
                                retry_delay=RETRY_AFTER)
