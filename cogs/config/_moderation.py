"""Moderators remove a post the bot made for a member, with a reason: logged, and the author is told why.

Features learn of a removal by the missing `posts` row (decision: no callback): a feature that edits
its card looks its Post up and treats a missing one as removed, as it already must when a privacy
deletion removes it.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.cards import Card
from bot.errors import NotFound
from bot.i18n import resolve_locale
from bot.notifier import Notifier, PostRef
from cogs.config import _refs
from cogs.config._audit import record
from cogs.config._context import ConfigContext, action, invalid
from storage.models import Member, Post

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
    """Delete the Post row now; the message, the DM and the modlog go out once that is committed.

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
            .returning(Post.member_id, Post.feature, Post.object_id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if removed is None:
        raise NotFound("config.errors.unknown_post")
    member_id, feature, object_id = removed
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
    external_id = ctx.caller.community_external_id
    channel_label = await ctx.directory.channel_label(channel_id)
    locale = resolve_locale(author.locale if author else None, (await ctx.community()).locale)
    author_user = author.platform_user_id if author else None
    catalog = ctx.catalog

    async def delete_message(notifier: Notifier | None) -> None:
        if notifier is not None:
            await notifier.delete(external_id, PostRef(channel_id, message_id))

    async def tell_author(notifier: Notifier | None) -> None:
        if notifier is None or author_user is None:
            return
        card = Card(
            title=catalog.t(locale, "config.removed.title"),
            text=catalog.t(locale, "config.removed.text", channel=channel_label, reason=reason),
        )
        await notifier.dm(external_id, author_user, card)

    ctx.after_commit(delete_message)
    ctx.after_commit(tell_author)
    return Card(title=ctx.t("config.done.title"), text=ctx.t("config.done.post_removed", reason=reason))
