"""Self-service privacy: export everything stored about a member, or delete it, across every feature.

The privacy cog owns the core personal tables (`members`, `posts`) and the DMs kept in the outbox
(`bot.outbox`); every other table holding a person's data belongs to a feature whose `PrivacyHook`
exports and deletes it.

Deletion order, each step its own transaction so that a failure never leaves a feature half-deleted
and a retry resumes where it stopped:

1. the member's posted messages are removed on the platform, then their `posts` rows
   (`bot.posting.remove_posts`). This must come first: the hooks delete their `posts` rows and
   the messages could not be found afterwards. Platform removal is best effort (a message already
   gone is fine); the rows are the truth. A message the platform fails to delete for now does not
   stop the deletion: its row goes, and the moderators' removal job (`cogs.config.REMOVE_POST_JOB`)
   deletes it later, retried while the platform fails (the moderators' log says so should it never
   go). Cards of objects a feature keeps for others
   (`PrivacyHook.keeps_posts`, e.g. a mission with candidates) are first detached from the member and stay.
2. each feature's `PrivacyHook.delete`, in reverse registration order (later features refer to
   earlier ones' rows, e.g. a match to a profile), one transaction per feature. Before each, and
   once after the last, the member's posts are swept again: a card posted while the deletion runs
   (an /intro sent from another device) is removed too.
3. the member row itself, last: until then a retry still knows who to delete. Its transaction first
   locks the row, then runs every hook again: whatever the member wrote while the steps above ran
   (a "Going" clicked on another device) is deleted by its feature, its counters and cards fixed,
   not dropped by the foreign keys' cascade behind the feature's back (a seat still counted, a name
   left on a card). A write committed before the lock is seen there; one after it is refused by its
   foreign key once the row is gone (PostgreSQL's FOR UPDATE makes it wait; SQLite's write lock
   already does). The cascade still takes whatever a feature forgot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.cards import Action, Card, action_id
from bot.context import Caller
from bot.errors import NotFound
from bot.features import Feature, forget_in_memory
from bot.i18n import Catalog
from bot.notifier import Notifier
from bot.posting import remove_posts
from bot.usecase import Context, Later
from cogs.config import REMOVE_POST_JOB as REMOVE
from storage.models import Community, Member, Post

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

FEATURE = "privacy"
CORE_TABLES = ("members", "posts")  # covered by this cog itself
EXPORT_FORMAT = "collectif-export/1"


@dataclass(frozen=True)
class Export:
    data: dict[str, Any]
    filename: str
    card: Card
    community_external_id: str  # where to DM it (the guild / workspace id)

    @property
    def content(self) -> bytes:
        return to_json(self.data).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=_jsonable, ensure_ascii=False, indent=2, sort_keys=False)


def hooked(features: Sequence[Feature]) -> list[Feature]:
    """Features that store personal data, in registration order."""
    return [f for f in features if f.privacy is not None]


async def collect(session: AsyncSession, features: Sequence[Feature], community_id: int,
                  member_id: int, now: datetime) -> dict[str, Any]:
    """Everything stored about one member of one community, as plain JSON-ready data."""
    community = await session.get(Community, community_id)
    member = await session.scalar(
        select(Member).where(Member.community_id == community_id, Member.id == member_id)
    )
    posts = await session.scalars(
        select(Post).where(Post.community_id == community_id, Post.member_id == member_id).order_by(Post.id)
    )
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "community": None if community is None else {
            "platform": community.platform, "id": community.external_id, "name": community.name,
        },
        "member": None if member is None else {
            "user_id": member.platform_user_id, "display_name": member.display_name,
            "locale": member.locale, "first_seen_at": member.created_at,
        },
        "posts": [
            {"feature": p.feature, "channel_id": p.channel_id, "message_id": p.message_id,
             "posted_at": p.posted_at} for p in posts
        ],
        # DMs the platform failed to take, kept to be sent again (bot/outbox.py)
        "outbox": await outbox.pending(session, community_id, member_id),
        "features": {},
    }
    for feature in hooked(features):
        assert feature.privacy is not None
        data["features"][feature.name] = await feature.privacy.export(session, community_id, member_id)
    return data


async def export_member_data(ctx: Context) -> Export:
    """The caller's data in this community, as a JSON file and a card to go with it (reads only)."""
    caller, now = ctx.caller, ctx.clock.now()
    data = await collect(ctx.session, ctx.services.features, caller.community_id, caller.member_id, now)
    card = Card(title=ctx.t("privacy.export.title"), text=ctx.t("privacy.export.text"))
    external_id = (data["community"] or {}).get("id", "")
    return Export(data=data, filename=f"collectif-{now:%Y%m%d}.json", card=card,
                  community_external_id=external_id)


def working_card(catalog: Catalog, caller: Caller) -> Card:
    return Card(title=catalog.t(caller.locale, "privacy.delete.working"))


def confirm_card(catalog: Catalog, caller: Caller) -> Card:
    """The question before deleting; the buttons carry the member id and only work for that member."""
    t = catalog.t
    return Card(
        title=t(caller.locale, "privacy.delete.confirm_title"),
        text=t(caller.locale, "privacy.delete.confirm_text"),
        actions=(
            Action(action_id(FEATURE, "confirm", caller.member_id), t(caller.locale, "privacy.delete.yes"),
                   style="danger"),
            Action(action_id(FEATURE, "cancel", caller.member_id), t(caller.locale, "privacy.delete.cancel")),
        ),
    )


def ensure_own(caller: Caller, member_id: int) -> None:
    """A confirmation button works only for the member it was shown to, in that community.

    Another member's (or another community's) id answers like a missing one.
    """
    if member_id != caller.member_id:
        raise NotFound("privacy.errors.gone")


def cancelled_card(catalog: Catalog, caller: Caller, member_id: int) -> Card:
    ensure_own(caller, member_id)
    return Card(title=catalog.t(caller.locale, "privacy.delete.cancelled"))


async def delete_my_data(ctx: Context, member_id: int) -> Later[Card]:
    """The "yes, delete" button: checks it is the caller's own data, then erases it once committed.

    The erasure is a workflow of several transactions and platform calls (see the module docstring),
    so it runs as the use case's effect; the returned `Later` holds its card, or is not `done` when
    it failed (a retry resumes where it stopped).
    """
    ensure_own(ctx.caller, member_id)
    exists = await ctx.session.scalar(
        select(Member.id).where(Member.community_id == ctx.community_id, Member.id == member_id)
    )
    if exists is None:
        raise NotFound("privacy.errors.gone")
    services, caller = ctx.services, ctx.caller

    async def erase(_notifier: Notifier | None) -> Card:
        return await delete_member_data(services, caller, member_id)

    return ctx.after_commit(erase)


async def _detach_kept_posts(services: Services, community_id: int, member_id: int) -> None:
    """Cards of objects a feature keeps for others (`PrivacyHook.keeps_posts`) are no longer the member's."""
    for feature in hooked(services.features):
        assert feature.privacy is not None
        if feature.privacy.keeps_posts is None:
            continue
        async with services.db.transaction() as session:
            kept = list(await feature.privacy.keeps_posts(session, community_id, member_id))
            if kept:
                await session.execute(
                    update(Post)
                    .where(Post.community_id == community_id, Post.feature == feature.name,
                           Post.member_id == member_id, Post.object_id.in_(kept))
                    .values(member_id=None)
                    .execution_options(synchronize_session=False)
                )


async def delete_member_data(services: Services, caller: Caller, member_id: int) -> Card:
    """Deletes everything about the caller in this community (see the module docstring for the order)."""
    ensure_own(caller, member_id)
    cid = caller.community_id
    async with services.db.transaction(write=False) as session:
        exists = await session.scalar(
            select(Member.id).where(Member.community_id == cid, Member.id == member_id)
        )
    if exists is None:
        raise NotFound("privacy.errors.gone")
    await _detach_kept_posts(services, cid, member_id)
    removed = await remove_posts(services, cid, member_id=member_id, retry=REMOVE)
    for feature in reversed(hooked(services.features)):
        assert feature.privacy is not None
        # A card the member got posted meanwhile (a form sent from another device): its message goes
        # before the hook can drop its row, or nothing would ever remove it. One read when none.
        removed += await remove_posts(services, cid, member_id=member_id, retry=REMOVE)
        async with services.db.transaction() as session:
            await feature.privacy.delete(session, cid, member_id)
    removed += await remove_posts(services, cid, member_id=member_id, retry=REMOVE)
    async with services.db.transaction() as session:
        await session.execute(
            select(Member.id).where(Member.community_id == cid, Member.id == member_id).with_for_update()
        )
        for feature in reversed(hooked(services.features)):  # what was written meanwhile (step 3)
            assert feature.privacy is not None
            await feature.privacy.delete(session, cid, member_id)
        await session.execute(delete(Post).where(Post.community_id == cid, Post.member_id == member_id))
        await outbox.forget_member(session, cid, member_id)
        await session.execute(delete(Member).where(Member.community_id == cid, Member.id == member_id))
    services.callers.forget(cid, member_id)  # gone: their next request is a first contact
    forget_in_memory(services.features, cid, member_id)
    log.info("privacy: deleted member %s of community %s (%s messages)", member_id, cid, removed)
    t = services.catalog.t
    return Card(title=t(caller.locale, "privacy.delete.done_title"),
                text=t(caller.locale, "privacy.delete.done_text"))
