"""Matching's data access: candidates from the profiles, rotation and kudos counts, proposals stored and read.

Profiles are read through the intros' public models (`cogs.intros.models`), kudos through the
feedback's (`cogs.feedback.models`): a few columns for thousands of members, in four statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    case,
    cast,
    delete,
    distinct,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduler import PENDING, SKIPPED, queue
from cogs.feedback.models import Kudos, public_kudos
from cogs.intros.models import Profile, ProfileSector, ProfileSkill, ProfileTrade
from cogs.matching._team import (
    _TIE,
    AVAILABLE_BY,
    AVAILABLE_NOW,
    CITY,
    CLOSEST,
    KUDOS,
    KUDOS_MAX,
    RATE,
    REMOTE,
    ROTATION,
    ROTATION_MAX,
    SECTOR,
    SKILL,
    TIE_M1,
    TIE_M2,
    TIE_PRIME,
    Candidate,
    Request,
    shortlist_size,
)
from cogs.matching.models import Invitation, Proposal, ProposedMember
from storage.models import Community, Job, Member, Post

ROTATION_WINDOW = timedelta(days=30)
KUDOS_WINDOW = timedelta(days=365)


async def candidates(
    session: AsyncSession, community_id: int, trade_ids: tuple[int, ...], skill_keys: tuple[str, ...],
    sector_id: int | None, now: datetime, requester_id: int, *, profile_ids: set[int] | None = None,
) -> list[Candidate]:
    """The opted-in members with one of these trades (and the requester, for "include me").

    With `profile_ids` (from `shortlist`), only those profiles: a few dozen rows instead of thousands.
    """
    p, pt = Profile.__table__.c, ProfileTrade.__table__.c
    query = (
        select(p.id, p.member_id, pt.trade_id, p.city_key, p.work_mode, p.availability, p.available_from,
               p.rate_min, p.rate_max, p.currency)
        .join_from(Profile.__table__, ProfileTrade.__table__, pt.profile_id == p.id)
        .where(p.community_id == community_id, pt.community_id == community_id,
               pt.trade_id.in_(sorted(set(trade_ids))),
               (p.opt_matching.is_(True)) | (p.member_id == requester_id))
    )
    if profile_ids is not None:
        query = query.where(p.id.in_(sorted(profile_ids)))
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    trades: dict[int, set[int]] = defaultdict(set)
    profiles: dict[int, Any] = {}
    for row in rows:
        trades[row[0]].add(row[2])
        profiles[row[0]] = row
    skills: dict[int, set[str]] = defaultdict(set)
    if skill_keys:
        s = ProfileSkill.__table__.c
        skill_query = select(s.profile_id, s.key).where(s.community_id == community_id, s.key.in_(skill_keys))
        if profile_ids is not None:
            skill_query = skill_query.where(s.profile_id.in_(sorted(profile_ids)))
        for pid, key in await session.execute(skill_query):
            skills[pid].add(key)
    sectors: set[int] = set()
    if sector_id is not None:
        sc = ProfileSector.__table__.c
        sectors = set((await session.scalars(
            select(sc.profile_id).where(sc.community_id == community_id, sc.sector_id == sector_id)
        )).all())
    members = {row[1] for row in rows} if profile_ids is not None else None
    recent = await recent_proposals(session, community_id, now - ROTATION_WINDOW, members)
    kudos = await kudos_received(session, community_id, now - KUDOS_WINDOW, members)
    none: frozenset[Any] = frozenset()
    out = []
    for pid, (_, member_id, _, city_key, work_mode, availability, available_from, rate_min, rate_max,
              currency) in profiles.items():
        out.append(Candidate(
            member_id=member_id, trade_ids=frozenset(trades[pid]),
            skill_keys=frozenset(skills[pid]) if pid in skills else none,
            sector_ids=frozenset((sector_id,)) if pid in sectors else none,
            city_key=city_key, work_mode=work_mode, availability=availability,
            available_from=available_from, rate_min=rate_min, rate_max=rate_max, currency=currency,
            kudos=kudos.get(member_id, 0), recent_proposals=recent.get(member_id, 0),
        ))
    return out


def _recent(community_id: int, since: datetime) -> Select[Any]:
    """(member_id, n): how many members had them proposed since `since` (rotation).

    Distinct requesters, never the member themself: one member repeating /match counts once, so
    that nobody can push a competitor down by asking again and again.
    """
    c, p = ProposedMember.__table__.c, Proposal.__table__.c
    return (select(c.member_id.label("member_id"), func.count(distinct(p.requester_id)).label("n"))
            .join_from(ProposedMember.__table__, Proposal.__table__, p.id == c.proposal_id)
            .where(c.community_id == community_id, c.proposed_at >= since, p.community_id == community_id,
                   p.requester_id != c.member_id)
            .group_by(c.member_id))


def _kudos(community_id: int, since: datetime) -> Select[Any]:
    c = Kudos.__table__.c
    return (select(c.receiver_id.label("member_id"), func.count().label("n"))
            .where(c.community_id == community_id, c.created_at >= since, public_kudos())
            .group_by(c.receiver_id))


async def recent_proposals(session: AsyncSession, community_id: int, since: datetime,
                           member_ids: set[int] | None = None) -> dict[int, int]:
    query = _recent(community_id, since)
    if member_ids is not None:
        query = query.where(ProposedMember.__table__.c.member_id.in_(sorted(member_ids)))
    return dict((await session.execute(query)).all())  # type: ignore[arg-type]


async def kudos_received(session: AsyncSession, community_id: int, since: datetime,
                         member_ids: set[int] | None = None) -> dict[int, int]:
    query = _kudos(community_id, since)
    if member_ids is not None:
        query = query.where(Kudos.__table__.c.receiver_id.in_(sorted(member_ids)))
    return dict((await session.execute(query)).all())  # type: ignore[arg-type]


def _scored(community_id: int, request: Request, now: datetime, trades: set[int] | None = None,
            *, skilled: bool = False, exclude: Collection[int] = ()) -> Select[Any]:
    """The database's `_team._quick` and `tie_break`: (profile_id, member_id, trade_id, score, blocked, tie).

    One row per opted-in candidate and slot trade (or of `trades`), the requester left out; `skilled`:
    only the candidates with at least one requested skill; `exclude`: members left out.
    """
    p, pt = Profile.__table__.c, ProfileTrade.__table__.c
    cid = community_id
    zero: Any = literal(0)
    skill_n: Any = zero
    query = (select(p.id.label("profile_id"), p.member_id, pt.trade_id)
             .join_from(Profile.__table__, ProfileTrade.__table__, pt.profile_id == p.id))
    if request.skill_keys:
        s = ProfileSkill.__table__.c
        skills = (select(s.profile_id, func.count().label("n"))
                  .where(s.community_id == cid, s.key.in_(sorted(set(request.skill_keys))))
                  .group_by(s.profile_id).subquery())
        query = (query.join(skills, skills.c.profile_id == p.id) if skilled
                 else query.outerjoin(skills, skills.c.profile_id == p.id))
        skill_n = func.coalesce(skills.c.n, 0)
    sector: Any = zero
    if request.sector_id is not None:
        sc = ProfileSector.__table__.c
        sectors = (select(sc.profile_id).where(sc.community_id == cid, sc.sector_id == request.sector_id)
                   .subquery())
        query = query.outerjoin(sectors, sectors.c.profile_id == p.id)
        sector = case((sectors.c.profile_id.is_not(None), SECTOR), else_=0)
    recent = _recent(cid, now - ROTATION_WINDOW).subquery()
    kudos = _kudos(cid, now - KUDOS_WINDOW).subquery()
    query = (query.outerjoin(recent, recent.c.member_id == p.member_id)
             .outerjoin(kudos, kudos.c.member_id == p.member_id))
    later = and_(p.availability == "from_date", p.available_from.is_not(None),
                 p.available_from > request.today)
    too_late = and_(later, p.available_from > request.by)
    score: Any = (
        SKILL * skill_n
        + case((p.availability == "busy", 0), (too_late, 0), (later, AVAILABLE_BY), else_=AVAILABLE_NOW)
        + sector
        + KUDOS * case((kudos.c.n > KUDOS_MAX, KUDOS_MAX), else_=func.coalesce(kudos.c.n, 0))
        - ROTATION * case((recent.c.n > ROTATION_MAX, ROTATION_MAX), else_=func.coalesce(recent.c.n, 0))
    )
    blocked: Any = case((p.availability == "busy", 1), (too_late, 1), else_=0)
    if request.max_rate is not None:
        # Only a rate in the budget's currency is compared (`_team.compared_rate`).
        same = p.currency == request.currency
        within = func.coalesce(p.rate_max, p.rate_min) <= request.max_rate
        score += case((and_(p.rate_min.is_not(None), same, within), RATE), else_=0)
        blocked += case((and_(same, p.rate_min > request.max_rate), 1), else_=0)
    if request.city_key or request.remote:
        in_city = p.city_key == request.city_key if request.city_key else literal(False)
        score += case((in_city, CITY), (p.work_mode == "onsite", 0), else_=REMOTE)
        blocked += case((in_city, 0), (p.work_mode == "onsite", 1), else_=0)
    scored = query.add_columns(score.label("score"), blocked.label("blocked"),
                               tie_sql(request.seed, p.member_id).label("tie")).where(
        p.community_id == cid, pt.community_id == cid,
        pt.trade_id.in_(sorted(set(request.slots) if trades is None else trades)),
        p.opt_matching.is_(True))
    if request.requester_id is not None:  # never a competitor in the ranking, as in `propose`
        scored = scored.where(p.member_id != request.requester_id)
    if exclude:
        scored = scored.where(p.member_id.not_in(sorted(set(exclude))))
    return scored


def tie_sql(seed: int, member_id: Any) -> Any:
    """`_team.tie_break(seed, member_id)` as a SQL expression (64-bit integers on SQLite and PostgreSQL)."""
    x = (cast(member_id, BigInteger) + seed % TIE_PRIME) % TIE_PRIME * TIE_M1 % TIE_PRIME
    shifted = x.op(">>")(literal_column("15"))  # PostgreSQL shifts a bigint by an integer, not a bigint
    return (x.op("|")(shifted) - x.op("&")(shifted)) * TIE_M2 % TIE_PRIME % _TIE


async def sql_scores(session: AsyncSession, community_id: int, request: Request, now: datetime
                     ) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(member id, trade id) -> (score, blockers, tie) as the database computes them (tests compare)."""
    scored = _scored(community_id, request, now).subquery()
    rows = await session.execute(
        select(scored.c.member_id, scored.c.trade_id, scored.c.score, scored.c.blocked, scored.c.tie))
    return {(member, trade): (score, blocked, tie) for member, trade, score, blocked, tie in rows}


def skill_less_best(request: Request) -> int:
    """The highest score `_team._quick` can give a candidate with none of the requested skills."""
    return (AVAILABLE_NOW + (max(CITY, REMOTE) if request.city_key or request.remote else 0)
            + (SECTOR if request.sector_id is not None else 0) + (RATE if request.max_rate is not None else 0)
            + KUDOS * KUDOS_MAX)


def _ranked(community_id: int, request: Request, now: datetime, trades: set[int], *, skilled: bool,
            exclude: Collection[int] = ()) -> Select[Any]:
    """(profile_id, trade_id, score, blocked) of each trade's best `keep` eligible and CLOSEST kept out."""
    scored = _scored(community_id, request, now, trades, skilled=skilled, exclude=exclude).subquery()
    rank = func.row_number().over(
        partition_by=(scored.c.trade_id, case((scored.c.blocked == 0, 0), else_=1)),
        order_by=(scored.c.blocked, scored.c.score.desc(), scored.c.tie.desc(), scored.c.member_id),
    )
    ranked = select(scored.c.profile_id, scored.c.trade_id, scored.c.score, scored.c.blocked,
                    rank.label("rank")).subquery()
    keep = shortlist_size(len(request.slots))
    return select(ranked.c.profile_id, ranked.c.trade_id, ranked.c.score, ranked.c.blocked).where(
        ((ranked.c.blocked == 0) & (ranked.c.rank <= keep))
        | ((ranked.c.blocked > 0) & (ranked.c.rank <= CLOSEST)))


async def shortlist(session: AsyncSession, community_id: int, request: Request, now: datetime, *,
                    exclude: Collection[int] = ()) -> set[int]:
    """The profiles `propose` can choose or show for `request`, ranked by the database.

    Per slot trade, its best `keep` eligible and best CLOSEST kept out, in `propose`'s order (score,
    tie-break, member id), and the requester. The score, blockers and tie-break are `_team`'s, computed
    by the database (tests/matching/test_shortlist.py checks they agree), so that thousands of
    candidates never reach Python: `propose` on these few profiles gives the same team as on everyone.

    With skills requested, the members having one of them are ranked first (a few hundred rows, not
    thousands): a trade whose best `keep` among them all score above what anyone without those skills
    can score (`skill_less_best`) is settled, since nobody else can enter its best `keep`, and its slots
    are all filled (each has more candidates than there are slots), so its closest options are never
    shown. Only the other trades are ranked over everyone.

    `exclude`: members to leave out (e.g. a mission's current candidates); `propose` over the
    shortlist then equals `propose` over every candidate but them.
    """
    p = Profile.__table__.c
    cid = community_id
    keep = shortlist_size(len(request.slots))
    open_trades = set(request.slots)
    found: set[int] = set()
    if request.skill_keys:
        best = skill_less_best(request)
        rows = (await session.execute(
            _ranked(cid, request, now, open_trades, skilled=True, exclude=exclude))).all()
        above: dict[int, int] = defaultdict(int)
        for _, trade, score, blocked in rows:
            above[trade] += not blocked and score > best
        settled = {t for t in open_trades if above[t] >= keep}
        found |= {pid for pid, trade, _, blocked in rows if trade in settled and not blocked}
        open_trades -= settled
    if open_trades:
        everyone = _ranked(cid, request, now, open_trades, skilled=False, exclude=exclude)
        found |= {row[0] for row in await session.execute(everyone)}
    if request.include_requester and request.requester_id is not None:
        found |= set((await session.scalars(
            select(p.id).where(p.community_id == cid, p.member_id == request.requester_id))).all())
    return found


async def people(
    session: AsyncSession, community_id: int, member_ids: set[int]
) -> dict[int, tuple[str, str]]:
    """Member id -> (platform user id, display name), in this community only."""
    if not member_ids:
        return {}
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name)
        .where(Member.community_id == community_id, Member.id.in_(member_ids))
    )
    return {mid: (user, name) for mid, user, name in rows}


async def store_proposal(
    session: AsyncSession, community_id: int, requester_id: int, token: str, seed: int,
    request: dict[str, Any], team: list[tuple[int, int, int]], now: datetime,
    alternatives: list[tuple[int, int, int]] = (),  # type: ignore[assignment]
) -> None:
    """A proposal and its members ((slot, trade id, member id)); they now count for rotation.

    Each member and each alternative ((slot, rank from 1, member id)) is also stored as an
    invitation in reserve: Invite and the declines draw from them, in rank order.
    """
    proposal = Proposal(community_id=community_id, requester_id=requester_id, token=token, seed=seed,
                        request=request, created_at=now)
    session.add(proposal)
    await session.flush()
    session.add_all(
        ProposedMember(community_id=community_id, proposal_id=proposal.id, member_id=member, slot=slot,
                       trade_id=trade, proposed_at=now)
        for slot, trade, member in team
    )
    session.add_all(
        Invitation(community_id=community_id, proposal_id=proposal.id, member_id=member, slot=slot,
                   rank=rank, status="reserve")
        for slot, rank, member in [*((slot, 0, member) for slot, _, member in team), *alternatives]
    )


async def forget_proposals(session: AsyncSession, before: datetime) -> int:
    """Remove the proposals created before `before` and never invited (the nightly `_cleanup`).

    Their proposed members and reserves go with them (ON DELETE CASCADE). The condition is the
    DELETE's own: an Invite claimed meanwhile (`claim_invite`) keeps its proposal.
    """
    result = await session.execute(
        delete(Proposal).where(Proposal.invited_at.is_(None), Proposal.created_at < before)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def proposal_by_token(session: AsyncSession, community_id: int, token: str) -> Proposal | None:
    return await session.scalar(
        select(Proposal).where(Proposal.community_id == community_id, Proposal.token == token)
    )


async def team_of(session: AsyncSession, community_id: int, proposal_id: int) -> list[int]:
    c = ProposedMember.__table__.c
    return list((await session.scalars(
        select(c.member_id).where(c.community_id == community_id, c.proposal_id == proposal_id)
        .order_by(c.slot)
    )).all())


async def claim_invite(session: AsyncSession, community_id: int, proposal_id: int, now: datetime) -> bool:
    """Mark the proposal invited once: a second click (or a second process) finds it taken."""
    result = await session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.community_id == community_id,
                               Proposal.invited_at.is_(None))
        .values(invited_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def lock_proposal(session: AsyncSession, community_id: int, proposal_id: int) -> None:
    """Serialize the answers to one proposal.

    A no-op UPDATE takes its row lock (PostgreSQL) or the write lock (SQLite), so the next answer
    reads this one's outcome (whoever settles the team last opens its space).
    """
    await session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.community_id == community_id)
        .values(invited_at=Proposal.invited_at).execution_options(synchronize_session=False)
    )


async def claim_space(session: AsyncSession, community_id: int, proposal_id: int, now: datetime) -> bool:
    """Whoever settles the team opens its private space, once."""
    result = await session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.community_id == community_id,
                               Proposal.space_opened_at.is_(None))
        .values(space_opened_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def accepted(session: AsyncSession, community_id: int, proposal_id: int) -> list[int]:
    """The members who accepted the team, slot by slot: those its private space's card shows."""
    return list(await session.scalars(
        select(Invitation.member_id).where(
            Invitation.community_id == community_id, Invitation.proposal_id == proposal_id,
            Invitation.status == "accepted")
        .order_by(Invitation.slot, Invitation.rank, Invitation.id)
    ))


async def release_space(session: AsyncSession, community_id: int, proposal_id: int) -> None:
    """The private space could not be opened: Invite this team tries again."""
    await session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.community_id == community_id)
        .values(space_opened_at=None).execution_options(synchronize_session=False)
    )


async def invitations(session: AsyncSession, community_id: int, proposal_id: int) -> list[Invitation]:
    """A proposal's invitations and reserves, by slot then rank."""
    return list((await session.scalars(
        select(Invitation).where(Invitation.community_id == community_id,
                                 Invitation.proposal_id == proposal_id)
        .order_by(Invitation.slot, Invitation.rank, Invitation.id)
    )).all())


async def invitation(session: AsyncSession, community_id: int, invitation_id: int) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(Invitation.community_id == community_id, Invitation.id == invitation_id)
    )


async def invitee_community(session: AsyncSession, platform: str, invitation_id: int,
                            user_id: str) -> int | None:
    """The community of an invitation, when `user_id` is its invitee on `platform` (a click in a DM)."""
    i = Invitation.__table__.c
    return await session.scalar(
        select(i.community_id)
        .join(Member, (Member.id == i.member_id) & (Member.community_id == i.community_id))
        .join(Community, Community.id == i.community_id)
        .where(i.id == invitation_id, Member.platform_user_id == user_id, Community.platform == platform)
    )


async def set_status(session: AsyncSession, community_id: int, invitation_id: int, before: str, after: str,
                     now: datetime, *, invited: bool = False) -> bool:
    """One conditional UPDATE: True only for the request that moved the invitation from `before`."""
    values: dict[str, Any] = {"status": after}
    values["invited_at" if invited else "answered_at"] = now
    result = await session.execute(
        update(Invitation).where(Invitation.id == invitation_id, Invitation.community_id == community_id,
                                 Invitation.status == before)
        .values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def opted_in(session: AsyncSession, community_id: int, member_ids: set[int]) -> set[int]:
    """Those of `member_ids` who still have a profile open to matching (reserves may have left since)."""
    if not member_ids:
        return set()
    p = Profile.__table__.c
    return set((await session.scalars(
        select(p.member_id).where(p.community_id == community_id, p.member_id.in_(member_ids),
                                  p.opt_matching.is_(True))
    )).all())


# -- privacy ---------------------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _slot(request: dict[str, Any], slot: int) -> tuple[int | None, str | None]:
    """The trade (id, name) of a proposal's slot, from its request as resolved."""
    ids, names = request.get("slots") or [], request.get("slot_names") or []
    return (ids[slot] if slot < len(ids) else None, names[slot] if slot < len(names) else None)


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """The teams a member asked for, and their places in others' (never who asked).

    The times they were proposed for a slot, and their invitations: sent, or kept as a slot's
    alternative (`reserve`), with the slot's trade and the proposal's date.
    """
    asked = (await session.scalars(
        select(Proposal).where(Proposal.community_id == community_id, Proposal.requester_id == member_id)
        .order_by(Proposal.id)
    )).all()
    c = ProposedMember.__table__.c
    proposed = (await session.execute(
        select(c.proposed_at, c.trade_id).where(c.community_id == community_id, c.member_id == member_id)
        .order_by(c.id)
    )).all()
    i, p = Invitation.__table__.c, Proposal.__table__.c
    invited = (await session.execute(
        select(i.status, i.slot, i.invited_at, i.answered_at, p.created_at, p.request)
        .join_from(Invitation.__table__, Proposal.__table__, p.id == i.proposal_id)
        .where(i.community_id == community_id, i.member_id == member_id, p.community_id == community_id)
        .order_by(i.id)
    )).all()
    return {
        "requests": [
            {"request": p.request, "created_at": _iso(p.created_at), "invited_at": _iso(p.invited_at)}
            for p in asked
        ],
        "proposed": [{"proposed_at": _iso(at), "trade_id": trade} for at, trade in proposed],
        "invitations": [
            {"status": status, "trade_id": _slot(request, slot)[0], "trade": _slot(request, slot)[1],
             "proposed_at": _iso(proposed_at), "invited_at": _iso(at), "answered_at": _iso(answered)}
            for status, slot, at, answered, proposed_at, request in invited
        ],
    }


WITHDRAWN_JOB = "matching.withdrawn"  # a pending invitee's data deleted: their team settled again (_invite)
# The card in a team's private space (profiles, the request) is recorded as a Post of the proposal: a
# member's data deletion redraws it without them (REDRAW_JOB), a requester's removes it (UNPOST_JOB).
SPACE_POSTS = "matching.space"
REDRAW_JOB = "matching.redraw"
UNPOST_JOB = "matching.unpost"
EXPIRE_JOB = "matching.expire"  # an invitation without an answer after `_invite.EXPIRY`


def expire_key(community_id: int, invitation_id: int, invited_at: datetime) -> str:
    """The dedupe key of an invitation's expiry: its community, its id and when it was sent.

    SQLite gives a deleted invitation's id to the next one: with the id alone, that invitation's
    expiry was taken for the deleted one's (still pending) and never planned.
    """
    return f"{EXPIRE_JOB}:{community_id}:{invitation_id}:{invited_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Forget a member's requests (with the teams proposed and invited) and their places in others' teams.

    A team still waiting on this member's answer would wait for ever (their invitation, and its expiry
    with it, is gone): a job settles it again, inviting the slot's next alternative or opening the space.
    The deleted invitations' expiry jobs are cancelled: left pending, they would expire the next
    invitation given the same id (SQLite reuses it), in another team. The team cards in private spaces
    that show them are redrawn without them, or removed with their own requests (`_forget_space_cards`).
    """
    mine = select(Proposal.id).where(Proposal.community_id == community_id,
                                     Proposal.requester_id == member_id)
    sent = [(invitation_id, at) for invitation_id, at in await session.execute(
        select(Invitation.id, Invitation.invited_at).where(
            Invitation.community_id == community_id,
            Invitation.proposal_id.in_(mine) | (Invitation.member_id == member_id))
    ) if at is not None]  # a reserve was never invited: no expiry
    if sent:  # the hook has no scheduler at hand: the rows are marked as `Scheduler.cancel` does
        keys = [expire_key(community_id, invitation_id, at) for invitation_id, at in sent]
        keys += [f"{EXPIRE_JOB}:{invitation_id}" for invitation_id, _ in sent]  # earlier versions' keys
        await session.execute(
            update(Job)
            .where(Job.community_id == community_id, Job.state == PENDING, Job.dedupe_key.in_(keys))
            .values(state=SKIPPED, finished_at=datetime.now(UTC), last_error="cancelled")
            .execution_options(synchronize_session=False)
        )
    await _forget_space_cards(session, community_id, member_id, mine)
    waiting: dict[int, list[int]] = defaultdict(list)  # proposal -> the slots this member was asked for
    for proposal_id, slot in await session.execute(
        select(Invitation.proposal_id, Invitation.slot).where(
            Invitation.community_id == community_id, Invitation.member_id == member_id,
            Invitation.status == "pending", Invitation.proposal_id.not_in(mine))
    ):
        waiting[proposal_id].append(slot)
    for proposal_id, slots in waiting.items():
        queue(session, WITHDRAWN_JOB, community_id, {"proposal_id": proposal_id, "slots": slots})
    await session.execute(delete(ProposedMember).where(ProposedMember.community_id == community_id,
                                                       ProposedMember.proposal_id.in_(mine)))
    await session.execute(delete(Invitation).where(Invitation.community_id == community_id,
                                                   Invitation.proposal_id.in_(mine)))
    await session.execute(delete(Invitation).where(Invitation.community_id == community_id,
                                                   Invitation.member_id == member_id))
    await session.execute(delete(ProposedMember).where(ProposedMember.community_id == community_id,
                                                       ProposedMember.member_id == member_id))
    await session.execute(delete(Proposal).where(Proposal.community_id == community_id,
                                                 Proposal.requester_id == member_id))


async def _forget_space_cards(session: AsyncSession, community_id: int, member_id: int,
                              mine: Select[Any]) -> None:
    """The team cards showing the member, queued to change (the hook has no platform at hand).

    The cards of their own requests go (the request is theirs): rows deleted now, messages by
    UNPOST_JOB. The card of a team they accepted is redrawn without their profile by REDRAW_JOB.
    Read before their invitations are deleted; a second run of the hook finds nothing more.
    """
    theirs = (await session.execute(
        select(Post.id, Post.channel_id, Post.message_id).where(
            Post.community_id == community_id, Post.feature == SPACE_POSTS, Post.object_id.in_(mine))
    )).all()
    if theirs:
        await session.execute(delete(Post).where(Post.id.in_([row.id for row in theirs])))
        queue(session, UNPOST_JOB, community_id,
              {"messages": [[row.channel_id, row.message_id] for row in theirs]})
    joined = select(Invitation.proposal_id).where(
        Invitation.community_id == community_id, Invitation.member_id == member_id,
        Invitation.status == "accepted", Invitation.proposal_id.not_in(mine))
    shown = await session.scalars(
        select(Post.object_id).where(
            Post.community_id == community_id, Post.feature == SPACE_POSTS, Post.object_id.in_(joined))
        .distinct()
    )
    for proposal_id in sorted(shown):
        queue(session, REDRAW_JOB, community_id, {"proposal_id": proposal_id})
