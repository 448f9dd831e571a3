"""The use cases the bindings run: /match (read-only, the proposal stored after the answer) and Invite."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from bot.community_time import community_today
from bot.errors import Forbidden, InvalidInput, NotFound, UserError
from bot.notifier import CannotPost, Notifier, ThreadRef
from bot.usecase import Context, Later
from cogs.intros.profiles import ProfileView, get_profile
from cogs.matching import _store as store
from cogs.matching._request import MatchInput, Resolved, resolve
from cogs.matching._space import space_card, space_name
from cogs.matching._team import Request, Team, propose
from storage.text import fold

TOKEN_BYTES = 8  # 16 hex characters: models.Proposal.token


@dataclass(frozen=True)
class Answer:
    """What the /match card shows: the request, the team, who is who, and the Invite button's token."""

    resolved: Resolved
    team: Team
    token: str
    people: dict[int, tuple[str, str]]  # member id -> (platform user id, display name)
    today: date


@dataclass(frozen=True)
class Invited:
    """An invitation: the names of the team, and (once the effect ran) the private space or None."""

    names: tuple[str, ...]
    space: Later[ThreadRef | None]


async def find_team(ctx: Context, typed: MatchInput) -> Answer:
    """/match: resolve, load the candidates, propose; the proposal is stored once the answer is out."""
    now = ctx.clock.now()
    today = community_today(now, ctx.caller.timezone)
    cid, me = ctx.community_id, ctx.caller.member_id
    resolved = await resolve(ctx.session, cid, ctx.caller.community_locale, typed, today)
    found = await store.candidates(ctx.session, cid, resolved.slots, resolved.skill_keys, resolved.sector_id,
                                   now, me)
    seed = resolved.seed(cid, me)
    request = Request(
        slots=resolved.slots, today=today, skill_keys=resolved.skill_keys, city_key=fold(resolved.city),
        remote=resolved.remote, available_by=resolved.available_by, max_rate=resolved.max_rate,
        sector_id=resolved.sector_id, requester_id=me, include_requester=resolved.include_me, seed=seed,
    )
    team = propose(request, found)
    if resolved.include_me and not any(s.requester for s in team.slots):
        raise InvalidInput({"include_me": ("matching.errors.include_me", {})})
    shown = {f.member_id for s in team.slots for f in (
        *((s.chosen,) if s.chosen else ()), *s.alternatives, *s.closest)}
    people = await store.people(ctx.session, cid, shown)
    token = secrets.token_hex(TOKEN_BYTES)
    members = [(i, s.trade_id, s.chosen.member_id) for i, s in enumerate(team.slots)
               if s.chosen is not None and not s.requester]
    if members:
        db, data = ctx.services.db, resolved.to_json()

        async def remember(_notifier: Notifier | None) -> None:
            async with db.transaction() as session:
                await store.store_proposal(session, cid, me, token, seed, data, members, now)

        ctx.after_commit(remember)
    return Answer(resolved, team, token, people, today)


async def invite_team(ctx: Context, token: str, channel_id: str) -> Invited:
    """Invite this team: a private space with the requester and the proposed members, their profiles in it.

    Only the requester may invite, once; when the space cannot be opened the claim is released.
    """
    cid = ctx.community_id
    proposal = await store.proposal_by_token(ctx.session, cid, token)
    if proposal is None:
        raise NotFound("matching.errors.proposal_gone")
    if proposal.requester_id != ctx.caller.member_id:
        raise Forbidden("matching.errors.not_yours")
    if not await store.claim_invite(ctx.session, cid, proposal.id, ctx.clock.now()):
        raise UserError("matching.errors.already_invited")
    team = await store.team_of(ctx.session, cid, proposal.id)
    profiles: list[ProfileView] = []
    for member_id in team:
        try:
            profiles.append(await get_profile(ctx.session, cid, member_id))
        except NotFound:  # deleted their profile since: not invited
            continue
    if not profiles:
        raise NotFound("matching.errors.proposal_gone")
    settings = await ctx.settings()
    where = settings.missions_channel_id or channel_id
    resolved = Resolved.from_json(proposal.request)
    external_id = ctx.community.external_id
    users = [ctx.caller.user_id, *(p.user_id for p in profiles)]
    name = space_name(ctx.catalog, ctx.caller.community_locale, resolved)
    card = space_card(ctx.catalog, ctx.caller.community_locale, resolved, ctx.caller.display_name, profiles)
    db, proposal_id = ctx.services.db, proposal.id

    async def open_space(notifier: Notifier | None) -> ThreadRef | None:
        space = None
        try:
            if notifier is not None:
                space = await notifier.open_private_space(external_id, where, users, name)
                if space is not None:
                    await notifier.post_in_thread(external_id, space, card)
        except CannotPost:
            space = None
        finally:
            if space is None:
                async with db.transaction() as session:
                    await store.release_invite(session, cid, proposal_id)
        return space

    return Invited(tuple(p.display_name for p in profiles), ctx.after_commit(open_space))
