"""Inviting a proposed team: DMs with Accept / Decline, the answers, the next alternative, the private space.

How a team comes together (every step settled by the database):

1. Invite this team (the requester, once: `claim_invite`) makes each slot's first member `pending` and
   DMs them the request with Accept / Decline; each invitation expires after `EXPIRY` (a job).
2. An answer is one conditional UPDATE from `pending` (a second click changes nothing and says so),
   after a no-op UPDATE of the proposal that serializes the answers to one team.
3. A decline, an unreachable DM or an expiry invites the slot's next alternative (from the /match
   answer, in order, skipping who was already asked or left matching); with none left the slot stays
   empty. The requester gets a DM with the news and every slot's state.
4. Once nobody is pending, whoever settled the team last claims its private space (`claim_space`) and
   opens it with the requester and those who accepted, their profiles posted in it. When the platform
   refuses, the claim is released and Invite this team tries again.
5. The profiles card is recorded as a Post of the proposal (`store.SPACE_POSTS`). The platform failing
   to take it (a 5xx) leaves the space open, its reference kept by SPACE_CARD_JOB, which posts the card
   later, drawn as the team then is. A member's data deletion redraws the card without their profile
   (`store.REDRAW_JOB`); a requester's removes it (`store.UNPOST_JOB`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Card
from bot.errors import BUGS, Forbidden, NotFound, UserError
from bot.i18n import Catalog
from bot.notifier import CannotPost, Notifier, PostRef, ThreadRef
from bot.outbox import Addressed, send_dm
from bot.posting import (
    RETRY_AFTER,
    PostOwner,
    SyncResult,
    delete_messages,
    edit_posted,
    notifier_for,
    posted,
    retry_later,
)
from bot.usecase import Context, Later
from cogs.intros.profiles import ProfileView, get_profile
from cogs.matching import _store as store
from cogs.matching._invite_cards import answers_card, invitation_card
from cogs.matching._request import Resolved
from cogs.matching._space import space_card, space_name
from cogs.matching.models import Invitation, Proposal
from storage.models import Community, Member, Post
from storage.settings import get_settings

if TYPE_CHECKING:
    from bot.scheduler import JobRun
    from bot.services import Services

log = logging.getLogger(__name__)

EXPIRY = timedelta(days=7)
EXPIRE_JOB = store.EXPIRE_JOB
# A kept invitation (bot/outbox.py) that could not be delivered after all: a decline, as closed DMs.
UNREACHABLE_JOB = "matching.unreachable"
SPACE_CARD_JOB = "matching.space_card"  # the profiles card the platform failed to post in an open space
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"
UNREACHABLE, EXPIRED, RESERVE = "unreachable", "expired", "reserve"
ACTIVE = (PENDING, ACCEPTED)


@dataclass
class _Row:
    id: int
    member_id: int
    slot: int
    rank: int
    status: str
    invited_at: datetime | None


@dataclass(frozen=True)
class Dm:
    invitation_id: int
    invited_at: datetime
    member_id: int
    user_id: str
    name: str
    card: Card
    about: tuple[int, ...] = ()  # the other members the card names (bot/outbox.py: `send_dm`)


@dataclass(frozen=True)
class SpacePlan:
    channel_id: str
    users: list[str]
    name: str
    card: Card
    shown: tuple[int, ...]  # the members whose profiles the card shows
    requester: str  # platform user id, told the outcome
    requester_member: int
    opened: str  # the texts for the requester, in their language
    failed: str


@dataclass
class Plan:
    """What the platform must do after a commit: DMs to invitees, news to the requester, the space."""

    community_id: int
    platform: str
    external_id: str
    proposal_id: int
    invites: list[Dm] = field(default_factory=list)
    # (member id, user id, card, the other members it names)
    notes: list[tuple[int, str, Card, tuple[int, ...]]] = field(default_factory=list)
    space: SpacePlan | None = None


@dataclass
class Outcome:
    """What happened on the platform: who could not be reached, the space if it was opened."""

    unreachable: list[str] = field(default_factory=list)
    space: ThreadRef | None = None
    space_tried: bool = False


@dataclass(frozen=True)
class Invited:
    """Invite this team: the names invited now (none when it only retried the space), and the outcome."""

    names: tuple[str, ...]
    outcome: Later[Outcome]
    space_retry: bool = False


# -- settling a team -------------------------------------------------------------------------------


async def _rows(session: AsyncSession, community_id: int, proposal_id: int) -> list[_Row]:
    # Plain rows, not ORM objects: the conditional UPDATEs above bypass the session's identity map.
    i = Invitation.__table__.c
    result = await session.execute(
        select(i.id, i.member_id, i.slot, i.rank, i.status, i.invited_at)
        .where(i.community_id == community_id, i.proposal_id == proposal_id)
        .order_by(i.slot, i.rank, i.id)
    )
    return [_Row(*row) for row in result]


async def _people(session: AsyncSession, community_id: int, member_ids: set[int]
                  ) -> dict[int, tuple[str, str, str | None]]:
    """Member id -> (platform user id, display name, language)."""
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .where(Member.community_id == community_id, Member.id.in_(member_ids))
    )
    return {mid: (user, name, locale) for mid, user, name, locale in rows}


async def settle(session: AsyncSession, services: Services, community: Community, proposal_id: int,
                 now: datetime, news: list[tuple[str, int]], withdrawn: list[int] | None = None) -> Plan:
    """Invite the next member of every slot left without one, and open the space once nobody is pending.

    `news`: what just happened ((status, invitation id)), told to the requester with every slot's state.
    `withdrawn`: the slots whose pending invitee deleted their data (their invitation is gone, and so
    is their name).
    """
    catalog, cid = services.catalog, community.id
    proposal = (await session.execute(
        select(Proposal.requester_id, Proposal.request, Proposal.channel_id, Proposal.invited_at)
        .where(Proposal.community_id == cid, Proposal.id == proposal_id)
    )).one()
    resolved = Resolved.from_json(proposal.request)
    rows = await _rows(session, cid, proposal_id)
    asked = {r.member_id for r in rows if r.status != RESERVE}
    still_open = await store.opted_in(session, cid, {r.member_id for r in rows if r.status == RESERVE})
    invited_now: dict[int, _Row] = {}  # slot -> the row just invited
    for slot in sorted({r.slot for r in rows}):
        mine = [r for r in rows if r.slot == slot]
        if any(r.status in ACTIVE for r in mine):
            continue
        for r in mine:
            if r.status == RESERVE and r.member_id not in asked and r.member_id in still_open:
                if await store.set_status(session, cid, r.id, RESERVE, PENDING, now, invited=True):
                    r.status, r.invited_at = PENDING, now
                    asked.add(r.member_id)
                    invited_now[slot] = r
                    await services.scheduler.schedule(
                        session, kind=EXPIRE_JOB, due_at=now + EXPIRY, community_id=cid,
                        payload=_job_payload(r.id, now), dedupe_key=store.expire_key(cid, r.id, now))
                break
    people = await _people(session, cid, {proposal.requester_id, *(r.member_id for r in rows)})
    requester_user, requester_name, requester_locale = people.get(proposal.requester_id, ("", "", None))
    plan = Plan(cid, community.platform, community.external_id, proposal_id)

    def name(member_id: int) -> str:
        known = people.get(member_id, ("", "", None))[1]
        return known or catalog.t(community.locale, "matching.card.unnamed")

    def trade(slot: int) -> str:
        return resolved.slot_names[slot] if slot < len(resolved.slot_names) else ""

    for slot, r in invited_now.items():
        user, _, locale = people[r.member_id]
        card = invitation_card(catalog, locale or community.locale, resolved, requester_name, trade(slot),
                               r.id, now + EXPIRY, timezone=community.timezone)
        plan.invites.append(Dm(r.id, now, r.member_id, user, name(r.member_id), card,
                               about=(proposal.requester_id,)))
    pending = any(r.status == PENDING for r in rows)
    accepted = [r for r in rows if r.status == ACCEPTED]
    locale = requester_locale or community.locale
    lines = []
    by_id = {r.id: r for r in rows}
    for status, invitation_id in news:
        r = by_id[invitation_id]
        lines.append(catalog.t(locale, f"matching.answers.{status}", name=name(r.member_id),
                               trade=trade(r.slot)))
        if status != ACCEPTED:
            nxt = invited_now.get(r.slot)
            lines.append(catalog.t(locale, "matching.answers.next", name=name(nxt.member_id)) if nxt else
                         catalog.t(locale, "matching.answers.no_next", trade=trade(r.slot)))
    for slot in withdrawn or ():
        nxt = invited_now.get(slot)
        lines.append(catalog.t(locale, "matching.answers.withdrawn", trade=trade(slot)))
        lines.append(catalog.t(locale, "matching.answers.next", name=name(nxt.member_id)) if nxt else
                     catalog.t(locale, "matching.answers.no_next", trade=trade(slot)))
    if not pending and (news or withdrawn):
        lines.append(catalog.t(locale, "matching.answers.all_answered") if accepted else
                     catalog.t(locale, "matching.answers.nobody"))
    if lines:
        slots = [(trade(slot), [(name(r.member_id), r.status) for r in rows if r.slot == slot
                                and r.status != RESERVE]) for slot in sorted({r.slot for r in rows})]
        news_card = answers_card(catalog, locale, resolved, lines, slots)
        named = tuple(sorted({r.member_id for r in rows if r.status != RESERVE}))  # the lines and slots
        plan.notes.append((proposal.requester_id, requester_user, news_card, named))
    if (not pending and accepted and proposal.invited_at is not None
            and await store.claim_space(session, cid, proposal_id, now)):
        plan.space = await _space_plan(session, catalog, community, resolved, proposal.channel_id,
                                       (requester_user, requester_name, locale), proposal.requester_id,
                                       accepted)
    return plan


async def _space_plan(session: AsyncSession, catalog: Catalog, community: Community, resolved: Resolved,
                      channel_id: str | None, requester: tuple[str, str, str], requester_member: int,
                      accepted: list[_Row]) -> SpacePlan | None:
    profiles = await _profiles(session, community.id, [r.member_id for r in accepted])
    if not profiles:
        return None
    settings = await get_settings(session, community.id)
    user, name, locale = requester
    names = ", ".join(p.display_name for p in profiles)
    return SpacePlan(
        channel_id=settings.missions_channel_id or channel_id or "",
        users=[user, *(p.user_id for p in profiles)],
        name=space_name(catalog, community.locale, resolved),
        card=space_card(catalog, community.locale, resolved, name, profiles),
        shown=tuple(p.member_id for p in profiles),
        requester=user,
        requester_member=requester_member,
        opened=catalog.t(locale, "matching.invite.opened", names=names),
        failed=catalog.t(locale, "matching.invite.failed"),
    )


async def carry_out(services: Services, notifier: Notifier | None, plan: Plan) -> Outcome:
    """The platform side of a plan, after its commit.

    An invitee whose DMs are closed counts as a decline (`unreachable`): the slot's next alternative
    is invited, in a new transaction, and so on.
    """
    outcome = Outcome()
    if notifier is None:
        return outcome
    failed: list[Dm] = []
    place = Addressed(plan.community_id, plan.platform, plan.external_id)
    # A member who left the server is not sent the team's request: unreachable, as with closed DMs.
    invited, gone = [dm.user_id for dm in plan.invites], set[str]()
    try:
        gone = await notifier.departed(plan.external_id, invited) if invited else set()
    except BUGS:
        raise
    except Exception:  # cannot tell: nobody is taken for gone
        log.warning("matching: could not check who left community %s", plan.community_id, exc_info=True)
    for dm in plan.invites:  # a platform failure keeps the DM in the outbox (bot/outbox.py): still invited
        if dm.user_id in gone:
            failed.append(dm)
            continue
        if not await send_dm(services, place, dm.member_id, dm.user_id, dm.card, about=dm.about,
                             undelivered=(UNREACHABLE_JOB, _job_payload(dm.invitation_id, dm.invited_at))):
            failed.append(dm)  # DMs closed: unreachable
    for member_id, user, card, named in plan.notes:
        await send_dm(services, place, member_id, user, card, about=named)
    if plan.space is not None:
        outcome.space_tried = True
        outcome.space = await _open_space(services, notifier, plan, plan.space)
    if failed:
        outcome.unreachable = [dm.name for dm in failed]
        async with services.db.transaction() as session:
            await store.lock_proposal(session, plan.community_id, plan.proposal_id)
            community = await session.get(Community, plan.community_id)
            assert community is not None
            now = services.clock.now()
            news = [(UNREACHABLE, dm.invitation_id) for dm in failed
                    if await store.set_status(session, plan.community_id, dm.invitation_id, PENDING,
                                              UNREACHABLE, now)]
            following = await settle(session, services, community, plan.proposal_id, now, news)
        later = await carry_out(services, notifier, following)
        outcome.unreachable += later.unreachable
        outcome.space = outcome.space or later.space
        outcome.space_tried = outcome.space_tried or later.space_tried
    return outcome


async def _open_space(services: Services, notifier: Notifier, plan: Plan, space: SpacePlan
                      ) -> ThreadRef | None:
    opened = None
    try:
        opened = await notifier.open_private_space(plan.external_id, space.channel_id, space.users,
                                                   space.name)
    except CannotPost:
        opened = None
    except Exception:  # a platform failure (5xx): given back, so that "Invite this team" tries again
        log.warning("matching: the space of proposal %s failed", plan.proposal_id, exc_info=True)
    if opened is not None:  # kept, whatever happens to its card: a retry would open a second space
        place = Addressed(plan.community_id, plan.platform, plan.external_id)
        await _post_space_card(services, notifier, place, plan.proposal_id, opened, space.card, space.shown,
                               retry=True)
    if opened is None:
        async with services.db.transaction() as session:
            await store.release_space(session, plan.community_id, plan.proposal_id)
    told = Card(title=space.opened if opened else space.failed)
    await send_dm(services, Addressed(plan.community_id, plan.platform, plan.external_id),
                  space.requester_member, space.requester, told,
                  about=space.shown if opened else ())  # "opened" names the team
    return opened


async def _profiles(session: AsyncSession, community_id: int, member_ids: list[int]) -> list[ProfileView]:
    profiles: list[ProfileView] = []
    for member_id in member_ids:
        try:
            profiles.append(await get_profile(session, community_id, member_id))
        except NotFound:  # deleted their profile since they accepted
            continue
    return profiles


@dataclass(frozen=True)
class TeamCard:
    """A team's card as the team is now: its community, the card, whose profiles it shows, its posts."""

    community: Community
    card: Card
    shown: tuple[int, ...]
    posts: list[Any]


async def _team_card(services: Services, community_id: int, proposal_id: int) -> TeamCard | None:
    """The team's card drawn now, and where it was posted; None when the community or request is gone."""
    async with services.db.transaction(write=False) as session:
        community = await session.get(Community, community_id)
        proposal = (await session.execute(
            select(Proposal.request, Member.display_name)
            .join(Member, Member.id == Proposal.requester_id)
            .where(Proposal.community_id == community_id, Proposal.id == proposal_id)
        )).first()
        if community is None or proposal is None:
            return None
        accepted = await store.accepted(session, community_id, proposal_id)
        profiles = await _profiles(session, community_id, accepted)
        posts = await posted(session, PostOwner(community_id, store.SPACE_POSTS, proposal_id))
    card = space_card(services.catalog, community.locale, Resolved.from_json(proposal.request),
                      proposal.display_name, profiles)
    return TeamCard(community, card, tuple(p.member_id for p in profiles), posts)


async def _post_space_card(services: Services, notifier: Notifier, place: Addressed, proposal_id: int,
                           space: ThreadRef, card: Card, shown: tuple[int, ...], *, retry: bool) -> None:
    """The team's card in its open space, recorded (`_record_space_card`).

    With `retry`, a platform failure (a 5xx) queues SPACE_CARD_JOB, the space's reference in its payload,
    which draws the card again and posts it later; the job itself raises.
    """
    try:
        ref = await notifier.post_in_thread(place.external_id, space, card)
    except CannotPost as error:
        log.info("matching: the space of proposal %s refuses its card (%s)", proposal_id, error.reason)
        return
    except BUGS:
        raise
    except Exception:
        if not retry:
            raise
        log.warning("matching: the profiles card of proposal %s's space failed; posted later", proposal_id,
                    exc_info=True)
        await retry_later(services, SyncResult(retrying=[space.channel_id]), SPACE_CARD_JOB, place.id,
                          proposal_id, {"proposal_id": proposal_id, "channel_id": space.channel_id,
                                        "thread_id": space.thread_id})
        return
    if ref is not None:
        await _record_space_card(services, place.id, proposal_id, ref, shown)


async def _record_space_card(services: Services, community_id: int, proposal_id: int, ref: PostRef,
                             shown: tuple[int, ...]) -> None:
    """The card's Post, so that a member's data deletion finds it.

    A member who deleted their data while it was on its way gets it redrawn; a requester who did, removed.
    """
    now = services.clock.now()
    async with services.db.transaction() as session:
        if await session.scalar(select(Proposal.id).where(
                Proposal.community_id == community_id, Proposal.id == proposal_id)) is None:
            await services.scheduler.schedule(session, kind=store.UNPOST_JOB, due_at=now,
                                              community_id=community_id,
                                              payload={"messages": [[ref.channel_id, ref.message_id]]})
            return
        session.add(Post(community_id=community_id, member_id=None, feature=store.SPACE_POSTS,
                         object_id=proposal_id, channel_id=ref.channel_id, message_id=ref.message_id,
                         posted_at=now))
        if set(shown) - set(await store.accepted(session, community_id, proposal_id)):
            await services.scheduler.schedule(session, kind=store.REDRAW_JOB, due_at=now,
                                              community_id=community_id, payload={"proposal_id": proposal_id})


async def run_space_card(services: Services, run: JobRun) -> None:
    """SPACE_CARD_JOB: the team's card in its space, drawn as the team is now, if not posted since."""
    assert run.community_id is not None
    proposal_id = int(run.payload["proposal_id"])
    team = await _team_card(services, run.community_id, proposal_id)
    if team is None or team.posts:
        return
    community = team.community
    space = ThreadRef(str(run.payload["channel_id"]), str(run.payload["thread_id"]))
    place = Addressed(community.id, community.platform, community.external_id)
    await _post_space_card(services, notifier_for(services, community.platform), place, proposal_id, space,
                           team.card, team.shown, retry=False)


async def run_redraw(services: Services, run: JobRun) -> None:
    """REDRAW_JOB: the team's recorded cards show the team as it is now (a member deleted their data).

    An archived Discord thread refuses the edit: a short notice reopens it first. Raises while a card
    could not be edited, so that the scheduler tries again.
    """
    assert run.community_id is not None
    proposal_id = int(run.payload["proposal_id"])
    team = await _team_card(services, run.community_id, proposal_id)
    if team is None or not team.posts:
        return
    community, owner = team.community, PostOwner(run.community_id, store.SPACE_POSTS, proposal_id)
    place = (community.platform, community.external_id)
    result = await edit_posted(services, owner, *place, team.posts, team.card)
    failing = [post for post in team.posts if post.channel_id in result.retrying]
    archived = [post for post in failing if post.channel_id in result.archived]  # not an outage
    if archived and await _reopen(services, community, archived[0].channel_id):
        result = await edit_posted(services, owner, *place, failing, team.card)
    if result.retrying:
        raise RuntimeError(f"matching: the card of proposal {proposal_id} could not be redrawn")


async def _reopen(services: Services, community: Community, thread_id: str) -> bool:
    """A notice in the team's Discord thread, which reopens it once archived; False when refused."""
    if community.platform != "discord":  # only Discord threads archive themselves
        return False
    notice = Card(title=services.t(community.locale, "matching.space.former_notice"))
    try:
        sent = await notifier_for(services, community.platform).post_in_thread(
            community.external_id, ThreadRef(thread_id, thread_id), notice)
    except CannotPost as error:  # a locked thread, the bot removed: nothing reopens it
        log.warning("matching: a team's space refuses the bot (%s): its card stays as it was", error.reason)
        return False
    return sent is not None


async def run_unpost(services: Services, run: JobRun) -> None:
    """UNPOST_JOB: the cards of a team whose requester deleted their data, removed from its space."""
    assert run.community_id is not None
    await delete_messages(services, run.community_id, run.payload.get("messages", []))


# -- use cases -------------------------------------------------------------------------------------


async def invite_team(ctx: Context, token: str, channel_id: str) -> Invited:
    """Invite this team: DM each slot's proposed member. Only the requester may.

    Clicked again once everyone answered, it opens the private space that the platform refused before.
    """
    cid, now = ctx.community_id, ctx.clock.now()
    proposal = await store.proposal_by_token(ctx.session, cid, token)
    if proposal is None:
        raise NotFound("matching.errors.proposal_gone")
    if proposal.requester_id != ctx.caller.member_id:
        raise Forbidden("matching.errors.not_yours")
    services = ctx.services
    if await store.claim_invite(ctx.session, cid, proposal.id, now):
        await ctx.session.execute(
            Proposal.__table__.update().where(Proposal.id == proposal.id)
            .values(channel_id=channel_id[:32] or None)
        )
        plan = await settle(ctx.session, services, await ctx.community(), proposal.id, now, [])
        if not plan.invites:  # everyone proposed left matching since
            raise NotFound("matching.errors.proposal_gone")
        return Invited(tuple(dm.name for dm in plan.invites),
                       ctx.after_commit(functools.partial(carry_out, services, plan=plan)))
    if proposal.space_opened_at is None:
        plan = await settle(ctx.session, services, await ctx.community(), proposal.id, now, [])
        if plan.space is not None:
            return Invited((), ctx.after_commit(functools.partial(carry_out, services, plan=plan)),
                           space_retry=True)
    raise UserError("matching.errors.already_invited")


async def answer_invitation(ctx: Context, invitation_id: int, accept: bool) -> str:
    """Accept / Decline in the invitation's DM: only the invitee, once, within `EXPIRY`."""
    cid, now, t, locale = ctx.community_id, ctx.clock.now(), ctx.catalog.t, ctx.caller.locale
    found = await store.invitation(ctx.session, cid, invitation_id)
    if found is None or found.status == RESERVE:
        raise NotFound("matching.errors.invitation_gone")
    if found.member_id != ctx.caller.member_id:
        raise Forbidden("matching.errors.not_invited")
    await store.lock_proposal(ctx.session, cid, found.proposal_id)
    status, invited_at = (await ctx.session.execute(
        select(Invitation.status, Invitation.invited_at).where(Invitation.id == found.id)
    )).one()
    if status in (ACCEPTED, DECLINED):  # a second click, or an answer from another device
        return t(locale, f"matching.answered.already_{status}")
    if status != PENDING or (invited_at is not None and invited_at + EXPIRY <= now):
        raise UserError("matching.errors.invitation_expired")
    new = ACCEPTED if accept else DECLINED
    if not await store.set_status(ctx.session, cid, found.id, PENDING, new, now):
        raise UserError("matching.errors.invitation_expired")
    community = await ctx.community()
    plan = await settle(ctx.session, ctx.services, community, found.proposal_id, now, [(new, found.id)])
    ctx.after_commit(functools.partial(carry_out, ctx.services, plan=plan))
    return t(locale, f"matching.answered.{new}")


# -- expiry ----------------------------------------------------------------------------------------


async def run_expire(services: Services, run: JobRun) -> None:
    """Seven days without an answer: the invitation expires and the slot's next alternative is invited."""
    await _closed(services, run, EXPIRED)


async def run_unreachable(services: Services, run: JobRun) -> None:
    """A kept invitation could not be delivered after all: unreachable, the next alternative invited."""
    await _closed(services, run, UNREACHABLE)


def _job_payload(invitation_id: int, invited_at: datetime) -> dict[str, str | int]:
    """What an invitation's expiry or unreachable job is about: the invitation, sent at that time.

    An invitation's id may be given to another once it is deleted (SQLite reuses it): `_closed` acts
    only on the invitation sent at that time.
    """
    return {"invitation_id": invitation_id, "invited_at": invited_at.isoformat()}


async def _closed(services: Services, run: JobRun, status: str) -> None:
    """A pending invitation ends without an answer (`status`); the team is settled again.

    Jobs planned by earlier versions carry no time of sending, and are taken as they are.
    """
    assert run.community_id is not None
    invitation_id = int(run.payload["invitation_id"])
    sent = run.payload.get("invited_at")
    now = services.clock.now()
    async with services.db.transaction() as session:
        found = await store.invitation(session, run.community_id, invitation_id)
        community = await session.get(Community, run.community_id)
        if found is None or community is None or found.status != PENDING:
            return
        if sent is not None and found.invited_at != datetime.fromisoformat(sent):
            return  # planned for an invitation deleted since, whose id this one was given
        await store.lock_proposal(session, community.id, found.proposal_id)
        if not await store.set_status(session, community.id, invitation_id, PENDING, status, now):
            return
        plan = await settle(session, services, community, found.proposal_id, now, [(status, invitation_id)])
    await carry_out(services, notifier_for(services, community.platform), plan)


async def run_withdrawn(services: Services, run: JobRun) -> None:
    """A pending invitee deleted their data (privacy): the team is settled again, as on an expiry.

    Their slots go to the next alternatives, or the space opens with those who accepted; the requester
    is told.
    """
    assert run.community_id is not None
    proposal_id, slots = int(run.payload["proposal_id"]), [int(s) for s in run.payload["slots"]]
    async with services.db.transaction() as session:
        community = await session.get(Community, run.community_id)
        proposal = await session.scalar(select(Proposal.id).where(
            Proposal.community_id == run.community_id, Proposal.id == proposal_id))
        if community is None or proposal is None:  # the requester's data went too
            return
        await store.lock_proposal(session, community.id, proposal_id)
        plan = await settle(session, services, community, proposal_id, services.clock.now(), [], slots)
    await carry_out(services, notifier_for(services, community.platform), plan)


async def on_start(services: Services) -> None:
    services.scheduler.register(EXPIRE_JOB, functools.partial(run_expire, services))
    services.scheduler.register(UNREACHABLE_JOB, functools.partial(run_unreachable, services))
    services.scheduler.register(store.WITHDRAWN_JOB, functools.partial(run_withdrawn, services))
    # A team's card: posted when the platform failed at once, redrawn or removed after a data deletion.
    services.scheduler.register(SPACE_CARD_JOB, functools.partial(run_space_card, services),
                                retry_delay=RETRY_AFTER)
    services.scheduler.register(store.REDRAW_JOB, functools.partial(run_redraw, services))
    services.scheduler.register(store.UNPOST_JOB, functools.partial(run_unpost, services))
