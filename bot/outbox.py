"""The outbox: a direct message the platform failed to take is kept and sent again later, never lost.

A notice goes out at once (`send_dm`). When the platform fails (a 5xx or a rate limit after the
client's own retries, the network), the card is kept in a job of kind `OUTBOX`, one per message,
and the scheduler sends it again with its backoff (1, 2, 4… minutes, `scheduler.max_attempts`
tries in all). The member's answer does not wait for it, and the other members of a loop are still
told. Closed DMs (the member refuses them) are the member's choice: not retried.

A kept message is the member's data: listed by their export (`pending`), deleted with their data
(`forget_member`, called by the privacy cog), and with the community (the jobs' foreign key).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card, card_from_data, card_to_data
from bot.notifier import CannotPost, Notifier
from bot.scheduler import PENDING, JobRun, Scheduler
from storage.models import Community, Job, Member

if TYPE_CHECKING:
    from bot.clock import Clock
    from storage.engine import Database

log = logging.getLogger(__name__)
OUTBOX = "outbox.dm"
# A notice more than a day late (the bot was down) is stale news: dropped, not sent.
MAX_LATENESS = timedelta(days=1)


class Services(Protocol):
    """What the outbox needs of bot.services.Services (a protocol: no import cycle back up)."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def scheduler(self) -> Scheduler: ...
    @property
    def notifiers(self) -> dict[str, Notifier]: ...


class Place(Protocol):
    """Where a DM goes: a `storage.models.Community` row, or any object with the same three fields."""

    @property
    def id(self) -> int: ...
    @property
    def platform(self) -> str: ...
    @property
    def external_id(self) -> str: ...


@dataclass(frozen=True)
class Addressed:
    """A `Place` for callers that hold the three fields, not the row."""

    id: int
    platform: str
    external_id: str


def _key(community_id: int, member_id: int) -> str:
    """The dedupe key's prefix of one member's kept messages (their export and deletion find them by it)."""
    return f"{OUTBOX}:{community_id}:{member_id}:"


async def send_dm(services: Services, community: Place, member_id: int, user_id: str, card: Card) -> bool:
    """DM `card` to a member now, or keep it for later when the platform fails.

    True when sent or kept; False when the member's DMs are closed (or the message could not even be
    kept: the database failed too, logged).
    """
    notifier = services.notifiers.get(community.platform)
    if notifier is not None:
        try:
            return await notifier.dm(community.external_id, user_id, card) is not None
        except CannotPost as refused:  # the platform refuses it for good: as closed DMs
            log.info("DM to member %s refused (%s)", member_id, refused.reason)
            return False
        except Exception:
            log.warning("DM to member %s of community %s failed; kept in the outbox", member_id, community.id,
                        exc_info=True)
    try:
        async with services.db.transaction() as session:
            await services.scheduler.schedule(
                session, kind=OUTBOX, due_at=services.clock.now() + timedelta(minutes=1),
                community_id=community.id, dedupe_key=_key(community.id, member_id) + uuid.uuid4().hex,
                payload={"member_id": member_id, "user_id": user_id, "card": card_to_data(card)},
            )
    except Exception:
        log.exception("DM to member %s of community %s lost: it could not be kept", member_id, community.id)
        return False
    return True


async def deliver(services: Services, run: JobRun) -> None:
    """The job: send a kept message; a failure raises, so the scheduler tries again later."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, run.community_id)
        member = await session.scalar(
            select(Member.id).where(Member.community_id == run.community_id,
                                    Member.id == run.payload["member_id"])
        )
    if community is None or member is None or not community.active:
        return  # gone since (their deletion also deletes the job; this is the race with it)
    notifier = services.notifiers.get(community.platform)
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    card = card_from_data(run.payload["card"])
    try:
        sent = await notifier.dm(community.external_id, run.payload["user_id"], card)
    except CannotPost:
        sent = None
    if sent is None:
        log.info("kept DM to member %s not sent: their DMs are closed now", run.payload["member_id"])
    # Delivered: the row no longer keeps what it said.
    async with services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == run.id)
            .values(payload={k: v for k, v in run.payload.items() if k != "card"})
            .execution_options(synchronize_session=False)
        )


async def pending(session: AsyncSession, community_id: int, member_id: int) -> list[dict[str, Any]]:
    """The member's kept messages, for their export."""
    rows = await session.execute(
        select(Job.payload, Job.created_at).where(
            Job.community_id == community_id, Job.kind == OUTBOX, Job.state == PENDING,
            Job.dedupe_key.startswith(_key(community_id, member_id), autoescape=True),
        ).order_by(Job.id)
    )
    return [
        {"title": payload["card"]["title"], "text": payload["card"]["text"], "kept_at": created_at}
        for payload, created_at in rows
    ]


async def forget_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Delete the member's kept messages, sent or not (their deletion)."""
    await session.execute(
        delete(Job).where(
            Job.community_id == community_id, Job.kind == OUTBOX,
            Job.dedupe_key.startswith(_key(community_id, member_id), autoescape=True),
        )
    )


def register_jobs(services: Services) -> None:
    """The outbox's job kind (registered when the services are built, before the scheduler starts)."""
    services.scheduler.register(OUTBOX, functools.partial(deliver, services), max_lateness=MAX_LATENESS)
