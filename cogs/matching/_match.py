"""The /match use case: read-only; the proposal (with alternatives, for declines) stored after the answer."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.community_time import community_today
from bot.errors import InvalidInput
from bot.notifier import Notifier
from bot.usecase import Context
from cogs.matching import _store as store
from cogs.matching._request import MatchInput, Resolved, resolve
from cogs.matching._team import Request, Team, propose
from storage.text import city_key

if TYPE_CHECKING:
    from bot.services import Services

TOKEN_BYTES = 8  # 16 hex characters: models.Proposal.token
STORE_WAIT = 5.0  # seconds an Invite waits for its proposal, answered but not stored yet
FRESH = timedelta(seconds=15)  # an answer this recent may still be stored by the process that sent it
STORE_POLL = 0.2  # seconds between two looks for it then
# Proposals this process answered and is storing (an entry goes with its storing, done or dropped).
_storing: weakref.WeakValueDictionary[str, asyncio.Event] = weakref.WeakValueDictionary()


async def stored(services: Services, community_id: int, token: str, answered_at: datetime | None) -> None:
    """Waits (at most STORE_WAIT) for the proposal behind `token` while it may still be being stored.

    The proposal is stored after the answer went out: an Invite clicked at once, or while another
    process holds SQLite's write lock, would otherwise find no proposal and say it is gone. This
    process waits for its own storing; an answer another process sent (`answered_at`: when the card
    was posted) is looked for in the database, only while it is FRESH: an old card's Invite is
    answered at once.
    """
    storing = _storing.get(token)
    if storing is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(storing.wait(), STORE_WAIT)
        return
    if answered_at is None or services.clock.now() - answered_at > FRESH:
        return
    deadline = asyncio.get_running_loop().time() + STORE_WAIT
    while True:
        async with services.db.transaction(write=False) as session:
            if await store.proposal_by_token(session, community_id, token) is not None:
                return
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(STORE_POLL)


@dataclass(frozen=True)
class Answer:
    """What the /match card shows: the request, the team, who is who, and the Invite button's token."""

    resolved: Resolved
    team: Team
    token: str
    people: dict[int, tuple[str, str]]  # member id -> (platform user id, display name)
    today: date


async def find_team(ctx: Context, typed: MatchInput) -> Answer:
    """/match: resolve, load the candidates, propose; the proposal is stored once the answer is out."""
    now = ctx.clock.now()
    today = community_today(now, ctx.caller.timezone)
    cid, me = ctx.community_id, ctx.caller.member_id
    resolved = await resolve(ctx.session, cid, ctx.caller.community_locale, typed, today)
    seed = resolved.seed(cid, me)
    request = Request(
        slots=resolved.slots, today=today, skill_keys=resolved.skill_keys, city_key=city_key(resolved.city),
        remote=resolved.remote, available_by=resolved.available_by, max_rate=resolved.max_rate,
        sector_id=resolved.sector_id, requester_id=me, include_requester=resolved.include_me, seed=seed,
    )
    # The database ranks every candidate; only the few `propose` can use are loaded in full.
    short = await store.shortlist(ctx.session, cid, request, now)
    found = await store.candidates(ctx.session, cid, resolved.slots, resolved.skill_keys, resolved.sector_id,
                                   now, me, profile_ids=short)
    team = propose(request, found)
    if resolved.include_me and not any(s.requester for s in team.slots):
        raise InvalidInput({"include_me": ("matching.errors.include_me", {})})
    shown = {f.member_id for s in team.slots for f in (
        *((s.chosen,) if s.chosen else ()), *s.alternatives, *s.closest)}
    people = await store.people(ctx.session, cid, shown)
    token = secrets.token_hex(TOKEN_BYTES)
    members = [(i, s.trade_id, s.chosen.member_id) for i, s in enumerate(team.slots)
               if s.chosen is not None and not s.requester]
    alternatives = [(i, rank, f.member_id) for i, s in enumerate(team.slots) if s.chosen is not None
                    and not s.requester for rank, f in enumerate(s.alternatives, start=1)]
    if members:
        db, data = ctx.services.db, resolved.to_json()
        storing = _storing[token] = asyncio.Event()

        async def remember(_notifier: Notifier | None) -> None:
            try:
                async with db.transaction() as session:
                    await store.store_proposal(session, cid, me, token, seed, data, members, now,
                                               alternatives)
            finally:
                storing.set()

        ctx.after_commit(remember)
    return Answer(resolved, team, token, people, today)
