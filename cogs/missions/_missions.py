"""Missions in the database: save, load for a card, candidacies, lifecycle moves, allowances, privacy.

Every query is scoped by community. Moves between statuses are conditional UPDATEs (`… WHERE status IN
…`), so two clicks at once (or a click and the expiry job) cannot both win; one candidacy per member
and mission is a unique constraint.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from difflib import SequenceMatcher
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller
from bot.errors import Forbidden, NotFound
from bot.posting import forget_removed
from bot.scheduler import queue
from cogs.intros.models import Profile, ProfileSkill, ProfileTrade
from cogs.missions._validation import CleanMission, title_key
from cogs.missions.models import (
    LIVE,
    Candidacy,
    Mission,
    MissionAllowance,
    MissionInvitation,
    MissionSkill,
    MissionTrade,
)
from storage.communities import ensure_member
from storage.models import Community, Member, Sector, Trade
from storage.sql import dialect_insert, insert_for
from storage.text import city_key

FEATURE = "missions"
NOT_FOUND = "missions.errors.not_found"
NOT_AUTHOR = "missions.errors.not_author"
WEEK = timedelta(days=7)
REPOST_DAYS = timedelta(days=7)
SIMILAR = 0.85
ENDED = ("expired", "closed")  # no longer shown as taking answers: sharing it again is no repost


@dataclass(frozen=True)
class CandidateProfile:
    """What a candidate line shows of a profile: its skills (key, label) and availability."""

    skills: tuple[tuple[str, str], ...]
    availability: str


async def candidate_profiles(
    session: AsyncSession, community_id: int, member_ids: list[int]
) -> dict[int, CandidateProfile]:
    """These members' profile summaries, in one query (a member without a profile is left out)."""
    if not member_ids:
        return {}
    found: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for member_id, availability, key, label in await session.execute(
        select(Profile.member_id, Profile.availability, ProfileSkill.key, ProfileSkill.label)
        .outerjoin(
            ProfileSkill,
            (ProfileSkill.profile_id == Profile.id) & (ProfileSkill.community_id == community_id),
        )
        .where(Profile.community_id == community_id, Profile.member_id.in_(sorted(set(member_ids))))
        .order_by(Profile.member_id, ProfileSkill.id)
    ):
        entry = found.setdefault(member_id, (availability, []))
        if key is not None:
            entry[1].append((key, label))
    return {m: CandidateProfile(tuple(skills), availability) for m, (availability, skills) in found.items()}


@dataclass(frozen=True)
class CandidateView:
    candidacy_id: int  # in the order of applying: a page of candidates is a range of them
    member_id: int
    user_id: str
    display_name: str
    trade_ids: tuple[int, ...]
    note: str
    selected: bool
    profile: CandidateProfile | None


@dataclass(frozen=True)
class MissionView:
    """Everything a mission card shows, loaded once."""

    id: int
    community_id: int
    author_member_id: int | None
    author_user_id: str | None
    author_name: str
    brought_by_name: str
    title: str
    description: str
    skills: tuple[tuple[str, str], ...]
    budget_kind: str
    budget_min: int | None
    budget_max: int | None
    currency: str
    start_date: date | None
    duration: str
    work_mode: str
    city: str
    sector: str
    answer_by: date
    source: str
    platform_name: str
    referral_fee: int | None
    link: str
    client_name: str
    status: str
    outcome: str | None
    origin_channel_id: str | None
    trades: tuple[tuple[int, str, str | None], ...]  # (trade id, name, channel id)
    counts: tuple[int, ...]  # candidates per trade, in the order of `trades`
    candidates: tuple[CandidateView, ...]

    @property
    def live(self) -> bool:
        return self.status in LIVE


async def get_mission(session: AsyncSession, community_id: int, mission_id: int) -> Mission:
    """The mission of this community; NotFound alike when it is another community's or nothing."""
    mission = await session.scalar(
        select(Mission).where(Mission.community_id == community_id, Mission.id == mission_id)
    )
    if mission is None:
        raise NotFound(NOT_FOUND)
    return mission


async def authored(
    session: AsyncSession, caller: Caller, mission_id: int, *, moderator: bool = True
) -> Mission:
    """The mission if `caller` wrote it (or moderates, when `moderator`); NotFound / Forbidden otherwise."""
    mission = await get_mission(session, caller.community_id, mission_id)
    if mission.author_member_id != caller.member_id and not (moderator and caller.is_moderator):
        raise Forbidden(NOT_AUTHOR)
    return mission


# The statements of the posting path are built once with bound parameters (building one costs more
# Python time than SQLite takes to run it), as cogs/feedback/_store.py does.


@functools.cache
def _mission_trades_query() -> Any:
    cid = bindparam("community_id")
    return (
        select(Trade.id, Trade.name, Trade.channel_id)
        .join(MissionTrade, MissionTrade.trade_id == Trade.id)
        .where(MissionTrade.community_id == cid, MissionTrade.mission_id == bindparam("mission_id"))
        .order_by(MissionTrade.position)
    )


@functools.cache
def _candidacies_query() -> Any:
    return (
        select(Candidacy, Member.platform_user_id, Member.display_name)
        .join(Member, Member.id == Candidacy.member_id)
        .where(
            Candidacy.community_id == bindparam("community_id"),
            Candidacy.mission_id == bindparam("mission_id"),
        )
        .order_by(Candidacy.id)
    )


@functools.cache
def _names_query() -> Any:
    return select(Member.id, Member.platform_user_id, Member.display_name).where(
        Member.community_id == bindparam("community_id"), Member.id.in_(bindparam("ids", expanding=True))
    )


@functools.cache
def _sector_query() -> Any:
    return select(Sector.name).where(
        Sector.community_id == bindparam("community_id"), Sector.id == bindparam("sector_id")
    )


async def sector_name(session: AsyncSession, community_id: int, sector_id: int) -> str | None:
    """The sector's name; None when the community has no such sector."""
    return await session.scalar(_sector_query(), {"community_id": community_id, "sector_id": sector_id})


async def _names(session: AsyncSession, community_id: int, mission: Any) -> dict[int, tuple[str, str]]:
    """(user id, shown name) of the mission's author and of who brought it."""
    names: dict[int, tuple[str, str]] = {}
    people = [m for m in (mission.author_member_id, mission.brought_by_member_id) if m is not None]
    if people:
        for member_id, user_id, name in await session.execute(
            _names_query(), {"community_id": community_id, "ids": people}
        ):
            names[member_id] = (user_id, name or user_id)
    return names


async def load_view(session: AsyncSession, mission: Mission, *, with_profiles: bool = False) -> MissionView:
    cid = mission.community_id
    keys = {"community_id": cid, "mission_id": mission.id}
    trades = (await session.execute(_mission_trades_query(), keys)).all()
    rows = (await session.execute(_candidacies_query(), keys)).all()
    profiles = (
        await candidate_profiles(session, cid, [candidacy.member_id for candidacy, _, _ in rows])
        if with_profiles
        else {}
    )
    candidates = [
        CandidateView(
            candidacy.id,
            candidacy.member_id,
            user_id,
            name or user_id,
            tuple(candidacy.trade_ids or ()),
            candidacy.note,
            candidacy.selected,
            profiles.get(candidacy.member_id),
        )
        for candidacy, user_id, name in rows
    ]
    sector = ""
    if mission.sector_id is not None:
        sector = await sector_name(session, cid, mission.sector_id) or ""
    return _view(mission, trades, candidates, await _names(session, cid, mission), sector)


async def new_mission_view(
    session: AsyncSession, mission_id: int, values: dict[str, Any], trades: Sequence[Row[Any]], sector: str
) -> MissionView:
    """The view of a mission this transaction just inserted, from what it has in hand.

    `values` as inserted, its trades in order, its sector's name: a new mission has no candidate yet,
    so only the names of its author and of who brought it are read.
    """
    mission = SimpleNamespace(id=mission_id, outcome=None, **values)
    return _view(mission, trades, [], await _names(session, mission.community_id, mission), sector)


def _view(
    mission: Any,
    trades: Sequence[Row[Any]],
    candidates: list[CandidateView],
    names: dict[int, tuple[str, str]],
    sector: str,
) -> MissionView:
    author = names.get(mission.author_member_id) if mission.author_member_id else None
    brought = names.get(mission.brought_by_member_id) if mission.brought_by_member_id else None
    counts = tuple(sum(1 for c in candidates if trade_id in c.trade_ids) for trade_id, _, _ in trades)
    return MissionView(
        id=mission.id,
        community_id=mission.community_id,
        author_member_id=mission.author_member_id,
        author_user_id=author[0] if author else None,
        author_name=author[1] if author else "",
        brought_by_name=brought[1] if brought else "",
        title=mission.title,
        description=mission.description,
        skills=tuple((k, label) for k, label in mission.skills or ()),
        budget_kind=mission.budget_kind,
        budget_min=mission.budget_min,
        budget_max=mission.budget_max,
        currency=mission.currency,
        start_date=mission.start_date,
        duration=mission.duration,
        work_mode=mission.work_mode,
        city=mission.city,
        sector=sector,
        answer_by=mission.answer_by,
        source=mission.source,
        platform_name=mission.platform_name,
        referral_fee=mission.referral_fee,
        link=mission.link,
        client_name=mission.client_name,
        status=mission.status,
        outcome=mission.outcome,
        origin_channel_id=mission.origin_channel_id,
        trades=tuple((t.id, t.name, t.channel_id) for t in trades),
        counts=counts,
        candidates=tuple(candidates),
    )


@dataclass(frozen=True)
class ListedMission:
    """What a /missions line shows of a mission."""

    id: int
    title: str
    answer_by: date
    status: str
    outcome: str | None
    trades: tuple[tuple[int, str, str | None], ...]
    counts: tuple[int, ...]


async def listed(session: AsyncSession, community_id: int, missions: list[Mission]) -> list[ListedMission]:
    """The lines of a /missions page: trades and candidates per trade of every mission, in two queries."""
    ids = [m.id for m in missions]
    trades: dict[int, list[tuple[int, str, str | None]]] = {i: [] for i in ids}
    counts: dict[int, dict[int, int]] = {i: {} for i in ids}
    if ids:
        for mission_id, trade_id, name in await session.execute(
            select(MissionTrade.mission_id, Trade.id, Trade.name)
            .join(Trade, Trade.id == MissionTrade.trade_id)
            .where(MissionTrade.community_id == community_id, MissionTrade.mission_id.in_(ids))
            .order_by(MissionTrade.mission_id, MissionTrade.position)
        ):
            trades[mission_id].append((trade_id, name, None))
        for mission_id, trade_ids in await session.execute(
            select(Candidacy.mission_id, Candidacy.trade_ids).where(
                Candidacy.community_id == community_id, Candidacy.mission_id.in_(ids)
            )
        ):
            for trade_id in trade_ids or ():
                counts[mission_id][trade_id] = counts[mission_id].get(trade_id, 0) + 1
    return [
        ListedMission(
            m.id,
            m.title,
            m.answer_by,
            m.status,
            m.outcome,
            tuple(trades[m.id]),
            tuple(counts[m.id].get(t, 0) for t, _, _ in trades[m.id]),
        )
        for m in missions
    ]


@functools.cache
def _trade_names_query() -> Any:
    return select(Trade.id, Trade.name).where(Trade.community_id == bindparam("community_id"))


async def trade_names(session: AsyncSession, community_id: int) -> dict[int, str]:
    rows = await session.execute(_trade_names_query(), {"community_id": community_id})
    return {row.id: row.name for row in rows}


@functools.cache
def _sector_ids_query() -> Any:
    return select(Sector.id).where(Sector.community_id == bindparam("community_id"))


async def sector_ids(session: AsyncSession, community_id: int) -> list[int]:
    return list(await session.scalars(_sector_ids_query(), {"community_id": community_id}))


@functools.cache
def _trades_query() -> Any:
    return select(Trade.id, Trade.name, Trade.channel_id).where(
        Trade.community_id == bindparam("community_id"), Trade.id.in_(bindparam("ids", expanding=True))
    )


async def trades_of(session: AsyncSession, community_id: int, trade_ids: list[int]) -> list[Row[Any]]:
    """These trades of the community as (id, name, channel id), in the order given; a missing one left out."""
    if not trade_ids:
        return []
    found = {
        row.id: row
        for row in await session.execute(_trades_query(), {"community_id": community_id, "ids": trade_ids})
    }
    return [found[t] for t in trade_ids if t in found]


# -- posting allowance and reposts -----------------------------------------------------------------


@functools.cache
def _claim_query() -> Any:
    now = bindparam("b_now", type_=MissionAllowance.window_start.type)
    cid, member_id = bindparam("b_community_id"), bindparam("b_member_id")
    renew = MissionAllowance.window_start <= bindparam("b_week_ago")
    return (
        update(MissionAllowance)
        .where(
            MissionAllowance.community_id == cid,
            MissionAllowance.member_id == member_id,
            or_(renew, MissionAllowance.used < bindparam("b_limit")),
        )
        .values(
            used=func.coalesce(_case(renew, 1, MissionAllowance.used + 1), 1),
            window_start=_case(renew, now, MissionAllowance.window_start),
        )
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _allowance_insert(dialect: str) -> Any:
    """The member's allowance row, unless it exists (a concurrent first post is not an error)."""
    return insert_for(dialect, MissionAllowance.__table__).on_conflict_do_nothing()


@functools.cache
def _allowance_start_query() -> Any:
    return select(MissionAllowance.window_start).where(
        MissionAllowance.community_id == bindparam("community_id"),
        MissionAllowance.member_id == bindparam("member_id"),
    )


@functools.cache
def _allowance_query() -> Any:
    return select(MissionAllowance.window_start, MissionAllowance.used).where(
        MissionAllowance.community_id == bindparam("community_id"),
        MissionAllowance.member_id == bindparam("member_id"),
    )


async def allowance_of(session: AsyncSession, community_id: int, member_id: int) -> Row[Any] | None:
    """The member's posting allowance as (window_start, used), None before their first post."""
    values = {"community_id": community_id, "member_id": member_id}
    return (await session.execute(_allowance_query(), values)).first()


@functools.cache
def _hold_allowance_query() -> Any:
    return (
        update(MissionAllowance)
        .where(
            MissionAllowance.community_id == bindparam("b_community_id"),
            MissionAllowance.member_id == bindparam("b_member_id"),
        )
        .values(used=MissionAllowance.used)
        .execution_options(synchronize_session=False)
    )


async def hold_allowance(session: AsyncSession, community_id: int, member_id: int, now: datetime) -> None:
    """The member's turn for a new mission: their allowance row (made if need be) held by a no-op UPDATE.

    Taken before the repost check, so that a form submitted twice at once (a double click, two devices)
    is checked the second time with the first one saved, and refused as its repost. Without it, on
    PostgreSQL both read no such mission yet and both were posted.
    """
    await session.execute(
        _allowance_insert(session.get_bind().dialect.name),
        {"community_id": community_id, "member_id": member_id, "window_start": now, "used": 0},
    )
    await session.execute(_hold_allowance_query(), {"b_community_id": community_id, "b_member_id": member_id})


async def claim_allowance(
    session: AsyncSession, community_id: int, member_id: int, now: datetime, limit: int
) -> datetime | None:
    """Takes one of the member's weekly posts: None when taken, else when the next one is possible."""
    await session.execute(
        _allowance_insert(session.get_bind().dialect.name),
        {"community_id": community_id, "member_id": member_id, "window_start": now, "used": 0},
    )
    result = await session.execute(
        _claim_query(),
        {
            "b_now": now,
            "b_community_id": community_id,
            "b_member_id": member_id,
            "b_week_ago": now - WEEK,
            "b_limit": limit,
        },
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return None
    values = {"community_id": community_id, "member_id": member_id}
    start = await session.scalar(_allowance_start_query(), values)
    assert start is not None
    return start + WEEK


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    from sqlalchemy import case

    return case((condition, then), else_=otherwise)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    matcher = SequenceMatcher(None, a[:200], b[:200])
    # The quick ratios are upper bounds of ratio(): most pairs are told apart without the full match.
    return all(bound() >= SIMILAR for bound in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio))


@functools.cache
def _recent_query() -> Any:
    return (
        select(Mission.id, Mission.title, Mission.title_key, func.substr(Mission.description, 1, 300))
        .where(
            Mission.community_id == bindparam("community_id"),
            Mission.author_member_id == bindparam("member_id"),
            Mission.created_at >= bindparam("since"),
            Mission.status.notin_(ENDED),
        )
        .order_by(Mission.id.desc())
        .limit(50)
    )


@dataclass(frozen=True)
class Found:
    """A mission found by a check (a repost, a similar one): what the answer names of it."""

    id: int
    title: str


async def own_repost(
    session: AsyncSession,
    community_id: int,
    member_id: int,
    clean: CleanMission,
    now: datetime,
    *,
    editing: int | None = None,
) -> Found | None:
    """The author's own mission of the last 7 days that this one repeats (same or near title and text).

    An expired or closed one is not: its cards take no answers, it cannot be edited, and the expiry
    DM tells the author to share it again.
    """
    key = title_key(clean.title)
    rows = await session.execute(
        _recent_query(), {"community_id": community_id, "member_id": member_id, "since": now - REPOST_DAYS}
    )
    for mission_id, title, other_key, description in rows:
        if mission_id == editing or not _similar(other_key, key):
            continue
        if not clean.description or not description or _similar(description, clean.description[:300]):
            return Found(mission_id, title)
    return None


@functools.cache
def _similar_open_query() -> Any:
    member_id = bindparam("member_id")
    return (
        select(Mission.id, Mission.title)
        .where(
            Mission.community_id == bindparam("community_id"),
            Mission.title_key == bindparam("title_key"),
            Mission.status.in_(LIVE),
            or_(Mission.author_member_id.is_(None), Mission.author_member_id != member_id),
        )
        .limit(1)
    )


async def similar_open(
    session: AsyncSession, community_id: int, member_id: int, clean: CleanMission
) -> Found | None:
    """Another member's live mission with the same title words (an index lookup): a warning only."""
    values = {"community_id": community_id, "member_id": member_id, "title_key": title_key(clean.title)}
    row = (await session.execute(_similar_open_query(), values)).first()
    return None if row is None else Found(row.id, row.title)


# -- saving ----------------------------------------------------------------------------------------


async def _brought_by(session: AsyncSession, community: Community, author_user_id: str | None,
                      clean: CleanMission) -> int | None:
    """The member who brought the mission, stored with the name the platform showed for them.

    Nobody when it is the mission's author, whoever saves the form (a moderator may have brought the
    mission they edit). They may never have used Collectif: without the name their card would show
    their raw user id.
    """
    if not clean.behalf or clean.behalf == author_user_id:
        return None
    member = await ensure_member(session, community, clean.behalf, display_name=clean.behalf_name)
    return member.id


async def _user_id(session: AsyncSession, community_id: int, member_id: int | None) -> str | None:
    """The member's platform user id; None for none (a former member)."""
    if member_id is None:
        return None
    return await session.scalar(
        select(Member.platform_user_id).where(Member.community_id == community_id, Member.id == member_id)
    )


@functools.cache
def _insert_mission() -> Any:
    return insert(Mission).returning(Mission.id)


@functools.cache
def _insert_slots() -> Any:
    return insert(MissionTrade)


@functools.cache
def _insert_skills() -> Any:
    return insert(MissionSkill)


@dataclass(frozen=True)
class Saved:
    """A mission as saved: its id and the values written (all its columns but id and outcome when new)."""

    id: int
    values: dict[str, Any]


async def save_mission(
    session: AsyncSession,
    caller: Caller,
    clean: CleanMission,
    now: datetime,
    *,
    origin_channel_id: str | None,
    mission: Mission | None = None,
) -> Saved:
    """A new mission (or `mission` edited): fields, then its trade slots in order, then its skill keys.

    A new mission is one INSERT … RETURNING, its slots and skills one INSERT each (no unit of work).
    """
    community = await session.get(Community, caller.community_id)
    assert community is not None
    author = caller.user_id if mission is None else await _user_id(session, caller.community_id,
                                                                    mission.author_member_id)
    brought = await _brought_by(session, community, author, clean)
    values: dict[str, Any] = {
        "title": clean.title,
        "title_key": title_key(clean.title),
        "description": clean.description,
        "skills": clean.skills,
        "budget_kind": clean.budget.kind,
        "budget_min": clean.budget.low,
        "budget_max": clean.budget.high,
        "currency": clean.budget.currency,
        "start_date": clean.start_date,
        "duration": clean.duration,
        "work_mode": clean.work_mode,
        "city": clean.city,
        "city_key": city_key(clean.city),
        "sector_id": clean.sector_id,
        "answer_by": clean.answer_by,
        "source": clean.source,
        "platform_name": clean.platform_name,
        "referral_fee": clean.fee,
        "link": clean.link,
        "client_name": clean.client_name,
        "brought_by_member_id": brought,
        "updated_at": now,
    }
    if mission is None:
        values.update(
            community_id=caller.community_id,
            author_member_id=caller.member_id,
            origin_channel_id=origin_channel_id,
            created_at=now,
            status="open",
        )
        mission_id = int(await session.scalar(_insert_mission(), values))
    else:
        mission_id = mission.id
        for name, value in values.items():
            setattr(mission, name, value)
        for model in (MissionTrade, MissionSkill):
            await session.execute(
                delete(model).where(model.community_id == caller.community_id, model.mission_id == mission.id)
            )
        await session.flush()
    slots = [
        {"community_id": caller.community_id, "mission_id": mission_id, "trade_id": t, "position": i}
        for i, t in enumerate(clean.trade_ids)
    ]
    if slots:
        await session.execute(_insert_slots(), slots)
    skills = [
        {"community_id": caller.community_id, "mission_id": mission_id, "key": key}
        for key in sorted({key[:100] for key, _ in clean.skills})
    ]
    if skills:
        await session.execute(_insert_skills(), skills)
    if mission is not None:
        await recount_candidacies(session, caller.community_id, mission_id)
    return Saved(mission_id, values)


# -- candidacies and lifecycle ---------------------------------------------------------------------


async def _covered(
    session: AsyncSession, community_id: int, mission_id: int, member_ids: list[int]
) -> dict[int, list[int]]:
    """Member -> the mission's trades their profile has, in the mission's order (one query)."""
    covered: dict[int, list[int]] = {m: [] for m in member_ids}
    if not member_ids:
        return covered
    for member_id, trade_id in await session.execute(
        select(Profile.member_id, MissionTrade.trade_id)
        .join(ProfileTrade, ProfileTrade.profile_id == Profile.id)
        .join(MissionTrade, MissionTrade.trade_id == ProfileTrade.trade_id)
        .where(
            Profile.community_id == community_id,
            Profile.member_id.in_(sorted(set(member_ids))),
            ProfileTrade.community_id == community_id,
            MissionTrade.community_id == community_id,
            MissionTrade.mission_id == mission_id,
        )
        .order_by(Profile.member_id, MissionTrade.position)
    ):
        covered[member_id].append(trade_id)
    return covered


async def recount_candidacies(session: AsyncSession, community_id: int, mission_id: int) -> None:
    """Each candidacy's trades (`trade_ids`) read again from the mission's trades as saved now.

    A candidate counts for the needed trades of their profile: a trade the author adds later counts
    those already there, a trade taken away no longer does.
    """
    rows = (
        await session.execute(
            select(Candidacy.id, Candidacy.member_id).where(
                Candidacy.community_id == community_id, Candidacy.mission_id == mission_id
            )
        )
    ).all()
    covered = await _covered(session, community_id, mission_id, [member_id for _, member_id in rows])
    alike: dict[tuple[int, ...], list[int]] = {}  # one UPDATE per distinct list of trades
    for candidacy_id, member_id in rows:
        alike.setdefault(tuple(covered[member_id]), []).append(candidacy_id)
    for trade_ids, candidacy_ids in alike.items():
        await session.execute(
            update(Candidacy)
            .where(Candidacy.community_id == community_id, Candidacy.id.in_(candidacy_ids))
            .values(trade_ids=list(trade_ids))
            .execution_options(synchronize_session=False)
        )


async def add_candidacy(
    session: AsyncSession, caller: Caller, mission: Mission, note: str, now: datetime
) -> bool:
    """True when this made a new candidacy (a second click, even at once, makes none: the unique row)."""
    cid = caller.community_id
    needed = (await _covered(session, cid, mission.id, [caller.member_id]))[caller.member_id]
    result = await session.execute(
        dialect_insert(session, Candidacy.__table__)
        .values(
            community_id=cid,
            mission_id=mission.id,
            member_id=caller.member_id,
            trade_ids=needed,
            note=note,
            selected=False,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def remove_candidacy(session: AsyncSession, caller: Caller, mission_id: int) -> bool:
    result = await session.execute(
        delete(Candidacy).where(
            Candidacy.community_id == caller.community_id,
            Candidacy.mission_id == mission_id,
            Candidacy.member_id == caller.member_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def move(
    session: AsyncSession,
    community_id: int,
    mission_id: int,
    from_statuses: tuple[str, ...],
    to: str,
    now: datetime,
    **values: Any,
) -> bool:
    """One conditional UPDATE: True when this call moved the mission (nobody else did first)."""
    result = await session.execute(
        update(Mission)
        .where(
            Mission.community_id == community_id, Mission.id == mission_id, Mission.status.in_(from_statuses)
        )
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def hold_live(session: AsyncSession, community_id: int, mission_id: int) -> bool:
    """Take the mission's turn while it is live (open or forming); False when it is not.

    A no-op conditional UPDATE: it locks the mission's row (PostgreSQL) or takes the write lock
    (SQLite), so a team confirmed, a mission closed or expired at the same moment is settled
    entirely before or after the change that holds it (a withdrawal, an application, a selection).
    """
    result = await session.execute(
        update(Mission)
        .where(Mission.community_id == community_id, Mission.id == mission_id, Mission.status.in_(LIVE))
        .values(status=Mission.status)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def reopen_teamless(session: AsyncSession, community_id: int, mission_ids: list[int]) -> None:
    """These missions forming a team with nobody selected any more go back to open (one UPDATE).

    A team whose last selected member left (withdrew, or deleted their data) is no longer forming.
    """
    if not mission_ids:
        return
    selected = select(Candidacy.id).where(
        Candidacy.community_id == community_id, Candidacy.mission_id == Mission.id, Candidacy.selected
    )
    await session.execute(
        update(Mission)
        .where(
            Mission.community_id == community_id,
            Mission.id.in_(sorted(set(mission_ids))),
            Mission.status == "forming",
            ~selected.exists(),
        )
        .values(status="open")
        .execution_options(synchronize_session=False)
    )


async def set_selection(
    session: AsyncSession, community_id: int, mission_id: int, member_ids: list[int]
) -> int:
    """Marks exactly these candidates selected; returns how many are."""
    await session.execute(
        update(Candidacy)
        .where(Candidacy.community_id == community_id, Candidacy.mission_id == mission_id)
        .values(selected=Candidacy.member_id.in_(member_ids or [-1]))
        .execution_options(synchronize_session=False)
    )
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Candidacy)
            .where(
                Candidacy.community_id == community_id, Candidacy.mission_id == mission_id, Candidacy.selected
            )
        )
        or 0
    )


async def decline_invitations(
    session: AsyncSession, community_id: int, mission_id: int, member_ids: list[int], now: datetime
) -> int:
    """These members' invitations to the mission, declined unless already (one conditional UPDATE).

    How many this call declined: a second click (or one at once) declines nothing more.
    """
    result = await session.execute(
        update(MissionInvitation)
        .where(
            MissionInvitation.community_id == community_id,
            MissionInvitation.mission_id == mission_id,
            MissionInvitation.member_id.in_(member_ids),
            MissionInvitation.declined_at.is_(None),
        )
        .values(declined_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def member_user_ids(session: AsyncSession, community_id: int, member_ids: list[int]) -> dict[int, str]:
    rows = await session.execute(
        select(Member.id, Member.platform_user_id).where(
            Member.community_id == community_id, Member.id.in_(member_ids)
        )
    )
    return {row.id: row.platform_user_id for row in rows}


# -- privacy ---------------------------------------------------------------------------------------


def _mission_json(mission: Mission, member_id: int) -> dict[str, Any]:
    """The author's mission whole; a mission the member only brought, its number, title and their part.

    What the author wrote (the confidential client above all: the author's and the final team's only)
    is not the data of who brought it.
    """
    if mission.author_member_id != member_id:
        return {"id": mission.id, "title": mission.title, "role": "brought_by"}
    return {
        "id": mission.id,
        "role": "author",
        "title": mission.title,
        "description": mission.description,
        "skills": [label for _, label in mission.skills or ()],
        "budget_kind": mission.budget_kind,
        "budget_min": mission.budget_min,
        "budget_max": mission.budget_max,
        "currency": mission.currency,
        "start_date": mission.start_date.isoformat() if mission.start_date else None,
        "duration": mission.duration,
        "work_mode": mission.work_mode,
        "city": mission.city,
        "answer_by": mission.answer_by.isoformat(),
        "source": mission.source,
        "platform_name": mission.platform_name,
        "referral_fee": mission.referral_fee,
        "link": mission.link,
        "client_name": mission.client_name,
        "status": mission.status,
        "outcome": mission.outcome,
        "created_at": mission.created_at.isoformat(),
    }


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """The member's missions (authored or brought) and candidacies."""
    missions = await session.scalars(
        select(Mission)
        .where(
            Mission.community_id == community_id,
            or_(Mission.author_member_id == member_id, Mission.brought_by_member_id == member_id),
        )
        .order_by(Mission.id)
    )
    candidacies = (
        await session.execute(
            select(Candidacy, Mission.title)
            .join(Mission, Mission.id == Candidacy.mission_id)
            .where(Candidacy.community_id == community_id, Candidacy.member_id == member_id)
            .order_by(Candidacy.id)
        )
    ).all()
    invitations = (
        await session.execute(
            select(MissionInvitation, Mission.title)
            .join(Mission, Mission.id == MissionInvitation.mission_id)
            .where(MissionInvitation.community_id == community_id, MissionInvitation.member_id == member_id)
            .order_by(MissionInvitation.id)
        )
    ).all()
    allowance = await session.scalar(
        select(MissionAllowance).where(
            MissionAllowance.community_id == community_id, MissionAllowance.member_id == member_id
        )
    )
    return {
        "missions": [_mission_json(m, member_id) for m in missions],
        "candidacies": [
            {
                "mission_id": c.mission_id,
                "mission": title,
                "note": c.note,
                "selected": c.selected,
                "created_at": c.created_at.isoformat(),
            }
            for c, title in candidacies
        ],
        "invitations": [
            {"mission_id": i.mission_id, "mission": title, "invited_at": i.invited_at.isoformat()}
            for i, title in invitations
        ],
        "posting_allowance": None
        if allowance is None
        else {"window_start": allowance.window_start.isoformat(), "used": allowance.used},
    }


CARDS_JOB = "missions.cards"  # a mission's cards follow it (edited, reposted or removed): _publish.cards_job
# Jobs queued from the privacy hook, which has no clock: due at once whatever the clock says (run by
# the next sweep; the kind has no lateness limit).
AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


async def kept_missions(session: AsyncSession, community_id: int, member_id: int) -> list[int]:
    """The member's missions that someone else is a candidate of: kept, under "a former member"."""
    return list(
        await session.scalars(
            select(Mission.id)
            .where(
                Mission.community_id == community_id,
                Mission.author_member_id == member_id,
                Mission.id.in_(
                    select(Candidacy.mission_id).where(
                        Candidacy.community_id == community_id, Candidacy.member_id != member_id
                    )
                ),
            )
            .order_by(Mission.id)
        )
    )


def queue_cards(session: AsyncSession, community_id: int, mission_ids: list[int]) -> None:
    """A job per mission whose cards must follow a change made without the platform at hand."""
    for mission_id in sorted(set(mission_ids)):
        queue(session, CARDS_JOB, community_id, {"mission_id": mission_id}, due_at=AT_ONCE)


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Candidacies go; an authored mission goes when nobody else is involved, else stays anonymous.

    A team left with nobody selected goes back to open, as when its last selected member withdraws.

    Cards follow (a job per touched mission, run by the next sweep): a kept mission's cards (detached
    from the member beforehand, `kept_missions`) are edited to show "a former member", a removed
    mission's cards are removed, and the cards of the missions they were a candidate of or brought
    show the new counts and names.
    """
    touched = set(
        await session.scalars(
            select(Mission.id).where(
                Mission.community_id == community_id,
                or_(
                    Mission.author_member_id == member_id,
                    Mission.brought_by_member_id == member_id,
                    Mission.id.in_(
                        select(Candidacy.mission_id).where(
                            Candidacy.community_id == community_id, Candidacy.member_id == member_id
                        )
                    ),
                ),
            )
        )
    )
    await session.execute(
        delete(Candidacy).where(Candidacy.community_id == community_id, Candidacy.member_id == member_id)
    )
    await reopen_teamless(session, community_id, list(touched))
    await session.execute(
        delete(MissionAllowance).where(
            MissionAllowance.community_id == community_id, MissionAllowance.member_id == member_id
        )
    )
    await session.execute(
        delete(MissionInvitation).where(
            MissionInvitation.community_id == community_id, MissionInvitation.member_id == member_id
        )
    )
    await session.execute(
        update(Mission)
        .where(Mission.community_id == community_id, Mission.brought_by_member_id == member_id)
        .values(brought_by_member_id=None)
        .execution_options(synchronize_session=False)
    )
    queue_cards(session, community_id, list(touched))
    authored_ids = list(
        await session.scalars(
            select(Mission.id).where(
                Mission.community_id == community_id, Mission.author_member_id == member_id
            )
        )
    )
    if not authored_ids:
        return
    involved = set(
        await session.scalars(
            select(Candidacy.mission_id)
            .where(Candidacy.community_id == community_id, Candidacy.mission_id.in_(authored_ids))
            .distinct()
        )
    )
    alone = [m for m in authored_ids if m not in involved]
    if alone:
        # Their posts stay until the cards job removed the messages (it finds the mission gone).
        await session.execute(
            delete(Mission).where(Mission.community_id == community_id, Mission.id.in_(alone))
        )
        await forget_removed(session, community_id, FEATURE, alone)
    if involved:
        await session.execute(
            update(Mission)
            .where(Mission.community_id == community_id, Mission.id.in_(list(involved)))
            .values(author_member_id=None, client_name="")
            .execution_options(synchronize_session=False)
        )
