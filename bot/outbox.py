"""The outbox: a direct message the platform failed to take is kept and sent again later, never lost.

A notice goes out at once (`send_dm`). When the platform fails (a 5xx or a rate limit after the
client's own retries, the network), the card is kept in a job of kind `OUTBOX`, one per message,
and the scheduler sends it again with its backoff (1, 2, 4… minutes, `scheduler.max_attempts`
tries in all). The member's answer does not wait for it, and the other members of a loop are still
told. Closed DMs (the member refuses them) are the member's choice: not retried.

A kept message is the member's data: listed by their export (`pending`), deleted with their data
(`forget_member`, called by the privacy cog), and with the community (the jobs' foreign key). It may
also name or show other members (who answered, who declined, the team): every caller says which
(`about`, required so that none forgets), and a kept message about a member who deletes their data
is deleted with it, never sent with her name afterwards.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card, card_from_data, card_to_data, expand_when
from bot.errors import BUGS
from bot.i18n import expand_commands
from bot.notifier import CannotPost, Notifier
from bot.scheduler import PENDING, RUNNING, JobRun, Runtime, Scheduler, queue
from storage.models import Community, Job, Member

log = logging.getLogger(__name__)
OUTBOX = "outbox.dm"
# A notice more than a day late (the bot was down) is stale news: dropped, not sent.
MAX_LATENESS = timedelta(days=1)
# Kept DMs this process sent whose row still holds the card (its write failed or was cancelled by a
# stop): a later run in this process does not send them again. By scheduler, i.e. by database.
_sent_here: weakref.WeakKeyDictionary[Scheduler, set[int]] = weakref.WeakKeyDictionary()


class Services(Runtime, Protocol):
    """What the outbox needs of bot.services.Services."""

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


async def send_dm(services: Services, community: Place, member_id: int, user_id: str, card: Card, *,
                  about: Collection[int], undelivered: tuple[str, dict[str, Any]] | None = None) -> bool:
    """DM `card` to a member now, or keep it for later when the platform fails.

    True when sent or kept, or dropped because a member it is `about` deleted their data meanwhile
    (not kept with their name); False when the member's DMs are closed (or the member is gone, or the
    message could not even be kept: the database failed too, logged). `about`: the ids of the other
    members the card names or shows (`()` when none): a kept message is deleted with their data
    (`forget_member`). `undelivered` (a job kind and its payload) is queued when a kept message finally
    cannot be delivered (DMs closed by then, or every attempt failed), for a caller that counted on it
    (a matching invitation).
    A programming error (`BUGS`) is raised, not kept: retrying it would not help.
    """
    notifier = services.notifiers.get(community.platform)
    if notifier is not None:
        try:
            return await notifier.dm(community.external_id, user_id, card) is not None
        except CannotPost as refused:  # the platform refuses it for good: as closed DMs
            log.info("DM to member %s refused (%s)", member_id, refused.reason)
            return False
        except BUGS:
            raise
        except Exception:
            log.warning("DM to member %s of community %s failed; kept in the outbox", member_id, community.id,
                        exc_info=True)
    others = sorted({int(m) for m in about} - {member_id})
    payload: dict[str, Any] = {"member_id": member_id, "user_id": user_id, "card": card_to_data(card)}
    if others:
        payload["about"] = others
    if undelivered is not None:
        payload["undelivered"] = {"kind": undelivered[0], "payload": undelivered[1]}
    try:
        async with services.db.transaction() as session:
            if not await _member_is(session, community.id, member_id, user_id):
                return False  # deleted their data meanwhile: nothing of theirs is kept
            if not await _all_there(session, community.id, others, hold=True):
                return True  # one it names deleted their data meanwhile: not kept with her name
            await services.scheduler.schedule(
                session, kind=OUTBOX, due_at=services.clock.now() + timedelta(minutes=1),
                community_id=community.id, dedupe_key=_key(community.id, member_id) + uuid.uuid4().hex,
                payload=payload,
            )
    except Exception:
        log.exception("DM to member %s of community %s lost: it could not be kept", member_id, community.id)
        return False
    return True


async def _member_is(session: AsyncSession, community_id: int, member_id: int, user_id: str) -> bool:
    """Still this member (an id freed by a deletion may be given to a newcomer on SQLite)."""
    found = await session.scalar(select(Member.id).where(
        Member.community_id == community_id, Member.id == member_id, Member.platform_user_id == user_id))
    return found is not None


async def _all_there(session: AsyncSession, community_id: int, member_ids: list[int], *, hold: bool = False
                     ) -> bool:
    """None of these members deleted their data.

    `hold`: their rows are held until the commit (FOR KEY SHARE), so that a deletion running meanwhile
    either waits for the kept message (and deletes it with her data) or is seen here.
    """
    if not member_ids:
        return True
    query = select(Member.id).where(Member.community_id == community_id, Member.id.in_(member_ids))
    if hold:
        query = query.with_for_update(read=True, key_share=True)
    return len(set(await session.scalars(query))) == len(member_ids)


async def deliver(services: Services, run: JobRun) -> None:
    """The job: send a kept message; a platform failure raises, so the scheduler tries again later.

    Once sent (or dropped), the row forgets the card, so that no later run sends it again.
    """
    if "card" not in run.payload:
        return  # sent by an earlier run whose end was not recorded (its process died, or a lock)
    member_id, user_id = int(run.payload["member_id"]), str(run.payload["user_id"])
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, run.community_id)
        there = (community is not None and await _member_is(session, community.id, member_id, user_id)
                 and await _all_there(session, community.id, _about(run.payload)))
    if community is None or not there or not community.active:
        await _forget_card(services, run)  # gone since: dropped, its text with it
        return
    notifier = services.notifiers.get(community.platform)
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    done_here = _sent_here.setdefault(services.scheduler, set())
    if run.id in done_here:  # sent by this process, then its bookkeeping was cancelled or failed
        await _forget_card(services, run)
        return
    card = card_from_data(run.payload["card"])
    try:
        sent = await notifier.dm(community.external_id, user_id, card)
    except CannotPost:
        sent = None
    except Exception:
        if run.attempt >= services.scheduler.max_attempts:  # the last attempt: given up
            log.warning("kept DM to member %s given up after %d attempts", member_id, run.attempt)
            await _forget_card(services, run, undelivered=True)
        raise
    done_here.add(run.id)
    if sent is None:
        log.info("kept DM to member %s not sent: their DMs are closed now", member_id)
    await _forget_card(services, run, undelivered=sent is None)


async def _forget_card(services: Services, run: JobRun, *, undelivered: bool = False) -> None:
    """The row no longer keeps what the message said; with `undelivered`, the caller's follow-up is queued.

    Shielded (a stop cancelling the job after the send must not leave the card for another run) and
    never raising: the message went out or was dropped, whatever happens to this bookkeeping.
    """
    follow = run.payload.get("undelivered") if undelivered else None

    async def write() -> None:
        async with services.db.transaction() as session:
            await session.execute(
                update(Job).where(Job.id == run.id)
                .values(payload={k: v for k, v in run.payload.items() if k != "card"})
                .execution_options(synchronize_session=False)
            )
            if follow:
                queue(session, follow["kind"], run.community_id, follow["payload"],
                      due_at=services.clock.now())

    try:
        await asyncio.shield(write())
    except Exception:
        log.warning("kept DM job %s: forgetting its text failed", run.id, exc_info=True)
    else:
        _sent_here.get(services.scheduler, set()).discard(run.id)


async def pending(session: AsyncSession, community_id: int, member_id: int) -> list[dict[str, Any]]:
    """The member's kept messages that still hold their text (waiting, or given up), for their export.

    As the member reads them: dates and command names in words, not the cards' markers.
    """
    platform = str(await session.scalar(select(Community.platform).where(Community.id == community_id)))

    def read(text: str) -> str:
        return expand_commands(expand_when(text), platform)

    rows = await session.execute(
        select(Job.payload, Job.created_at, Job.state).where(
            Job.community_id == community_id, Job.kind == OUTBOX,
            Job.dedupe_key.startswith(_key(community_id, member_id), autoescape=True),
        ).order_by(Job.id)
    )
    return [
        {"title": read(payload["card"]["title"]), "text": read(payload["card"]["text"]),
         "kept_at": created_at, "state": "waiting" if state in (PENDING, RUNNING) else "not sent"}
        for payload, created_at, state in rows if "card" in (payload or {})
    ]


async def forget_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Delete the member's kept messages, sent or not, and those of others naming or showing them.

    Another member's kept message about them is deleted whole: its text is drawn already, and the
    outbox cannot write it again without them (news of someone now gone is stale anyway). Called by
    their deletion.
    """
    await session.execute(
        delete(Job).where(
            Job.community_id == community_id, Job.kind == OUTBOX,
            Job.dedupe_key.startswith(_key(community_id, member_id), autoescape=True),
        )
    )
    # Read in Python, not by a JSON operator (SQLite and PostgreSQL differ): few rows, a rare event.
    rows = await session.execute(
        select(Job.id, Job.payload).where(Job.community_id == community_id, Job.kind == OUTBOX)
    )
    naming = [job_id for job_id, payload in rows if member_id in _about(payload)]
    if naming:
        await session.execute(delete(Job).where(Job.community_id == community_id, Job.id.in_(naming)))


def _about(payload: dict[str, Any] | None) -> list[int]:
    """The other members a kept message names or shows (none in a message kept by an earlier version)."""
    about = (payload or {}).get("about")
    return [int(m) for m in about] if isinstance(about, list) else []


def register_jobs(services: Services) -> None:
    """The outbox's job kind (registered when the services are built, before the scheduler starts)."""
    services.scheduler.register(OUTBOX, functools.partial(deliver, services), max_lateness=MAX_LATENESS)
