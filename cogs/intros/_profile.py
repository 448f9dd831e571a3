"""Profiles: save, read (with visibility), availability, export and deletion; always inside one community."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    String,
    bindparam,
    cast,
    delete,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.community_time import community_today
from bot.context import Caller
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.posting import forget_removed
from cogs.intros._validation import IntroForm, ProfileData, check_availability, validate
from cogs.intros.models import Profile, ProfileLink, ProfileSector, ProfileSkill, ProfileTrade
from storage.models import Member, Post, Sector, Trade
from storage.sql import dialect_insert
from storage.text import city_key

FEATURE = "intros"
NO_PROFILE = "intros.errors.no_profile"
NO_OWN_PROFILE = "intros.errors.no_own_profile"  # the caller's own: says to run /intro


@dataclass(frozen=True)
class ProfileView:
    """Everything a card shows about a profile, loaded once (no lazy loading afterwards)."""

    id: int
    community_id: int
    member_id: int
    user_id: str  # platform user id
    display_name: str
    trades: tuple[tuple[int, str, str | None], ...]  # (trade id, name, channel id)
    sectors: tuple[tuple[int, str], ...]
    skills: tuple[tuple[str, str], ...]  # (key, label)
    city: str
    work_mode: str
    languages: tuple[str, ...]
    rate_min: int | None
    rate_max: int | None
    currency: str
    availability: str
    available_from: date | None
    links: tuple[str, ...]
    bio: str
    opt_matching: bool
    opt_pairing: bool
    opt_directory: bool
    opt_leaderboards: bool
    last_posted_at: datetime | None
    updated_at: datetime


async def known_skill_keys(session: AsyncSession, community_id: int) -> set[str]:
    rows = await session.scalars(
        select(ProfileSkill.key).where(ProfileSkill.community_id == community_id).distinct()
    )
    return set(rows)


@functools.cache
def _profile_query(by: str) -> Any:
    """The profile row by member or by id, in a community: built once per shape (bound values)."""
    column = Profile.member_id if by == "member" else Profile.id
    return select(Profile).where(Profile.community_id == bindparam("cid"), column == bindparam("key"))


async def _profile_row(
    session: AsyncSession, community_id: int, *, member_id: int | None = None, profile_id: int | None = None
) -> Profile | None:
    if member_id is not None and profile_id is not None:
        query = select(Profile).where(Profile.community_id == community_id, Profile.member_id == member_id,
                                      Profile.id == profile_id)
        return await session.scalar(query)
    by, key = ("member", member_id) if member_id is not None else ("id", profile_id)
    return await session.scalar(_profile_query(by), {"cid": community_id, "key": key})


def _kind(kind: int, o1: Any, o2: Any, number: Any = None, name: Any = None, channel: Any = None,
          text: Any = None) -> list[Any]:
    """One kind's columns in `_view_query`: what it lacks is a typed NULL (PostgreSQL's UNION wants types)."""

    def typed(value: Any, type_: Any) -> Any:
        return cast(null(), type_) if value is None else value

    return [literal_column(str(kind), Integer).label("kind"), o1.label("o1"), o2.label("o2"),
            typed(number, Integer).label("number"), typed(name, String).label("name"),
            typed(channel, String).label("channel"), typed(text, String).label("text")]


@functools.cache
def _view_query() -> Any:
    """What a profile's card shows besides its row, in one statement built once (bound values).

    Its member's name, trades, sectors, skills and links, as (kind, o1, o2, number, name, channel,
    text) rows, each kind in its order. Measured: a statement's way through SQLAlchemy costs more
    than SQLite's work here (0.5-0.7 ms each in the running bot, where code runs cold between two
    interactions); with these five SELECTs made one, /profile of another member went from 1.9 to
    1.2 ms in a tight loop.
    """
    cid, pid, member = (bindparam(name, type_=Integer) for name in ("cid", "pid", "member_id"))
    zero = literal_column("0", Integer)
    return union_all(
        select(*_kind(0, zero, zero, name=Member.display_name, text=Member.platform_user_id))
        .where(Member.community_id == cid, Member.id == member),
        select(*_kind(1, ProfileTrade.position, Trade.id, Trade.id, Trade.name, Trade.channel_id))
        .join(ProfileTrade, ProfileTrade.trade_id == Trade.id)
        .where(ProfileTrade.community_id == cid, ProfileTrade.profile_id == pid, Trade.community_id == cid),
        select(*_kind(2, Sector.position, Sector.id, Sector.id, Sector.name))
        .join(ProfileSector, ProfileSector.sector_id == Sector.id)
        .where(ProfileSector.community_id == cid, ProfileSector.profile_id == pid,
               Sector.community_id == cid),
        select(*_kind(3, ProfileSkill.id, zero, name=ProfileSkill.label, text=ProfileSkill.key))
        .where(ProfileSkill.community_id == cid, ProfileSkill.profile_id == pid),
        select(*_kind(4, ProfileLink.position, ProfileLink.id, text=ProfileLink.url))
        .where(ProfileLink.community_id == cid, ProfileLink.profile_id == pid),
    ).order_by(literal_column("kind"), literal_column("o1"), literal_column("o2"))


async def load_view(session: AsyncSession, profile: Profile | Row[Any]) -> ProfileView:
    """Reads the profile's member and lists in one scoped statement (`profile`: its row, or its values)."""
    cid, pid = profile.community_id, profile.id
    values = {"cid": cid, "pid": pid, "member_id": profile.member_id}
    rows = (await session.execute(_view_query(), values)).all()
    by_kind: tuple[list[Any], ...] = ([], [], [], [], [])
    for row in rows:
        by_kind[row.kind].append(row)
    (member,), trades, sectors, skills, links = by_kind
    return ProfileView(
        id=pid,
        community_id=cid,
        member_id=profile.member_id,
        user_id=member.text,
        display_name=member.name,
        trades=tuple((r.number, r.name, r.channel) for r in trades),
        sectors=tuple((r.number, r.name) for r in sectors),
        skills=tuple((r.text, r.name) for r in skills),
        city=profile.city,
        work_mode=profile.work_mode,
        languages=tuple(profile.languages or ()),
        rate_min=profile.rate_min,
        rate_max=profile.rate_max,
        currency=profile.currency,
        availability=profile.availability,
        available_from=profile.available_from,
        links=tuple(r.text for r in links),
        bio=profile.bio,
        opt_matching=profile.opt_matching,
        opt_pairing=profile.opt_pairing,
        opt_directory=profile.opt_directory,
        opt_leaderboards=profile.opt_leaderboards,
        last_posted_at=profile.last_posted_at,
        updated_at=profile.updated_at,
    )


@functools.cache
def _profile_values() -> Any:
    """A member's profile row as plain values (reading, not changing it: no ORM object to build)."""
    row = Profile.__table__.c
    return select(*row).where(row.community_id == bindparam("cid"), row.member_id == bindparam("key"))


async def get_profile(session: AsyncSession, community_id: int, member_id: int) -> ProfileView:
    """A member's profile in this community; NotFound when they have none (here)."""
    profile = (await session.execute(_profile_values(), {"cid": community_id, "key": member_id})).first()
    if profile is None:
        raise NotFound(NO_PROFILE)
    return await load_view(session, profile)


def can_see(caller: Caller, view: ProfileView) -> bool:
    """Profiles not listed in the directory are shown only to their owner and moderators."""
    return view.opt_directory or caller.is_moderator or view.member_id == caller.member_id


async def view_profile(session: AsyncSession, caller: Caller, member_id: int) -> ProfileView:
    """The profile `caller` asked for; hidden ones answer exactly like missing ones."""
    try:
        view = await get_profile(session, caller.community_id, member_id)
    except NotFound:
        if member_id == caller.member_id:
            raise NotFound(NO_OWN_PROFILE) from None
        raise
    if not can_see(caller, view):
        raise NotFound(NO_PROFILE)
    return view


async def member_id_for(session: AsyncSession, community_id: int, platform_user_id: str) -> int:
    """The member id of a platform user in this community; NotFound when never seen here."""
    member_id = await session.scalar(
        select(Member.id).where(
            Member.community_id == community_id, Member.platform_user_id == platform_user_id
        )
    )
    if member_id is None:
        raise NotFound(NO_PROFILE)
    return member_id


async def own_profile(session: AsyncSession, caller: Caller, profile_id: int | None = None) -> Profile:
    """The caller's profile row; with `profile_id` (from a button), it must be theirs and here."""
    if profile_id is None:
        profile = await _profile_row(session, caller.community_id, member_id=caller.member_id)
    else:
        profile = await _profile_row(session, caller.community_id, profile_id=profile_id)
        if profile is not None and profile.member_id != caller.member_id:
            raise Forbidden("intros.errors.not_yours")
    if profile is None:
        raise NotFound(NO_PROFILE if profile_id is not None else NO_OWN_PROFILE)
    return profile


@dataclass(frozen=True)
class Saved:
    view: ProfileView
    created: bool


async def check_form(session: AsyncSession, caller: Caller, form: IntroForm, clock: Clock) -> ProfileData:
    """The clean profile `form` makes against the community's lists, or InvalidInput; reads only."""
    trade_ids = list(await session.scalars(select(Trade.id).where(Trade.community_id == caller.community_id)))
    sector_ids = list(
        await session.scalars(select(Sector.id).where(Sector.community_id == caller.community_id))
    )
    return validate(
        form,
        trade_ids=trade_ids,
        sector_ids=sector_ids,
        today=community_today(clock.now(), caller.timezone),
        locale=caller.community_locale,
        known_skill_keys=await known_skill_keys(session, caller.community_id),
    )


async def save_profile(session: AsyncSession, caller: Caller, form: IntroForm, clock: Clock) -> Saved:
    """Validates `form` against the community's lists, then creates or replaces the caller's profile.

    Runs inside the caller's transaction: on InvalidInput nothing was written.
    """
    data = await check_form(session, caller, form, clock)
    now = clock.now()
    profile = await _profile_row(session, caller.community_id, member_id=caller.member_id)
    created = False
    if profile is None:
        # Two first submits may race: the unique (community, member) constraint picks the winner,
        # and the loser updates the winner's row instead of failing on an IntegrityError.
        inserted = await session.execute(
            dialect_insert(session, Profile)
            .values(community_id=caller.community_id, member_id=caller.member_id, created_at=now)
            .on_conflict_do_nothing()
        )
        created = inserted.rowcount == 1  # type: ignore[attr-defined]
        profile = await _profile_row(session, caller.community_id, member_id=caller.member_id)
        assert profile is not None
    _apply(profile, data, now)
    await session.flush()
    await _replace_lists(session, profile, data)
    return Saved(await load_view(session, profile), created)


def _apply(profile: Profile, data: ProfileData, now: datetime) -> None:
    profile.city = data.city
    profile.city_key = city_key(data.city)
    profile.work_mode = data.work_mode
    profile.languages = list(data.languages)
    profile.rate_min, profile.rate_max, profile.currency = data.rate_min, data.rate_max, data.currency
    profile.availability, profile.available_from = data.availability, data.available_from
    profile.bio = data.bio
    profile.opt_matching, profile.opt_pairing = data.opt_matching, data.opt_pairing
    profile.opt_directory, profile.opt_leaderboards = data.opt_directory, data.opt_leaderboards
    profile.updated_at = now


async def _replace_lists(session: AsyncSession, profile: Profile, data: ProfileData) -> None:
    # Core statements rather than collection assignment: the unit of work would insert the new rows
    # before deleting the old ones and trip the (profile, trade) unique constraints.
    cid, pid = profile.community_id, profile.id
    for table in (ProfileTrade, ProfileSkill, ProfileSector, ProfileLink):
        await session.execute(delete(table).where(table.community_id == cid, table.profile_id == pid))
    rows: list[Any] = [
        *(
            ProfileTrade(community_id=cid, profile_id=pid, trade_id=t, position=i)
            for i, t in enumerate(data.trade_ids)
        ),
        *(ProfileSector(community_id=cid, profile_id=pid, sector_id=s) for s in data.sector_ids),
        *(ProfileSkill(community_id=cid, profile_id=pid, key=s.key, label=s.label) for s in data.skills),
        *(ProfileLink(community_id=cid, profile_id=pid, url=u, position=i) for i, u in enumerate(data.links)),
    ]
    session.add_all(rows)
    await session.flush()


async def set_availability(
    session: AsyncSession,
    caller: Caller,
    availability: str,
    available_from: str | date | None,
    clock: Clock,
    *,
    profile_id: int | None = None,
) -> ProfileView:
    """Quick update of the caller's availability; InvalidInput for a bad choice or a past date."""
    problems: dict[str, tuple[str, dict[str, Any]]] = {}
    today = community_today(clock.now(), caller.timezone)
    # The member typed the date in their own language (both are read).
    availability, when = check_availability(availability, available_from, today, problems, caller.locale)
    if problems:
        raise InvalidInput(problems)
    profile = await own_profile(session, caller, profile_id)
    await session.execute(
        update(Profile)
        .where(Profile.community_id == caller.community_id, Profile.id == profile.id)
        .values(availability=availability, available_from=when, updated_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    await session.refresh(profile)
    return await load_view(session, profile)


def form_from_view(view: ProfileView) -> IntroForm:
    """The form pre-filled with a saved profile (to edit it)."""
    if view.rate_min is None:
        rate = ""
    elif view.rate_min == view.rate_max:
        rate = f"{view.rate_min} {view.currency}"
    else:
        rate = f"{view.rate_min}-{view.rate_max} {view.currency}"
    return IntroForm(
        trade_ids=[str(t[0]) for t in view.trades],
        sector_ids=[str(s[0]) for s in view.sectors],
        skills=", ".join(label for _, label in view.skills),
        city=view.city,
        work_mode=view.work_mode,
        languages=list(view.languages),
        rate=rate,
        availability=view.availability,
        available_from=view.available_from.isoformat() if view.available_from else "",
        links="\n".join(view.links),
        bio=view.bio,
        opt_matching=view.opt_matching,
        opt_pairing=view.opt_pairing,
        opt_directory=view.opt_directory,
        opt_leaderboards=view.opt_leaderboards,
    )


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """Privacy export: the member's profile and the intro cards posted for it ({} when none)."""
    profile = await _profile_row(session, community_id, member_id=member_id)
    if profile is None:
        return {}
    view = await load_view(session, profile)
    posts = await session.execute(
        select(Post.channel_id, Post.message_id, Post.posted_at).where(
            Post.community_id == community_id, Post.feature == FEATURE, Post.object_id == profile.id
        )
    )
    return {
        "profile": {
            "trades": [name for _, name, _ in view.trades],
            "skills": [label for _, label in view.skills],
            "sectors": [name for _, name in view.sectors],
            "city": view.city,
            "work_mode": view.work_mode,
            "languages": list(view.languages),
            "rate_min": view.rate_min,
            "rate_max": view.rate_max,
            "currency": view.currency,
            "availability": view.availability,
            "available_from": view.available_from.isoformat() if view.available_from else None,
            "portfolio_links": list(view.links),
            "bio": view.bio,
            "opt_in_matching": view.opt_matching,
            "opt_in_pairing": view.opt_pairing,
            "listed_in_directory": view.opt_directory,
            "shown_on_leaderboards": view.opt_leaderboards,
            "created_at": profile.created_at.isoformat(),
            "updated_at": profile.updated_at.isoformat(),
            "last_posted_at": profile.last_posted_at.isoformat() if profile.last_posted_at else None,
        },
        "intro_cards": [{"channel_id": c, "message_id": m, "posted_at": p.isoformat()} for c, m, p in posts],
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Privacy deletion of the rows: the profile, its lists and its Post rows.

    Messages on the platform are removed beforehand by `bot.posting.remove_posts` (it needs the
    notifier, which a hook does not get); a Post row still here is forgotten with the profile.
    """
    profile = await _profile_row(session, community_id, member_id=member_id)
    if profile is None:
        return
    await session.execute(
        delete(Post).where(
            Post.community_id == community_id, Post.feature == FEATURE, Post.object_id == profile.id
        )
    )
    for table in (ProfileTrade, ProfileSkill, ProfileSector, ProfileLink):
        await session.execute(
            delete(table).where(table.community_id == community_id, table.profile_id == profile.id)
        )
    await session.execute(
        delete(Profile).where(Profile.community_id == community_id, Profile.id == profile.id)
    )
    await forget_removed(session, community_id, FEATURE, [profile.id])


async def claim_repost(
    session: AsyncSession, community_id: int, profile_id: int, now: datetime, days: int, timezone: str = "UTC"
) -> bool:
    """Takes the right to post NEW intro cards now; False within `days` of the last new post.

    Counted in the community's days (`timezone`), as the member is told: posted on 26 November,
    7 days, new cards may go out from 3 December at 00:00 local time, not at the hour of the first
    post. One conditional UPDATE, so two submits racing cannot both post.
    """
    condition: ColumnElement[bool]
    if days > 0:
        cutoff = _repost_cutoff(now, days, timezone)
        condition = Profile.last_posted_at.is_(None) | (Profile.last_posted_at < cutoff)
    else:  # no limit set by the moderators
        condition = Profile.id == profile_id
    result = await session.execute(
        update(Profile)
        .where(Profile.community_id == community_id, Profile.id == profile_id, condition)
        .values(last_posted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _repost_cutoff(now: datetime, days: int, timezone: str) -> datetime:
    """The instant before which the last new cards must have gone out for new ones to go out today.

    The local midnight that starts the day after `today - days`: a post that day or earlier is
    `days` community days ago.
    """
    last_allowed_day = community_today(now, timezone) - timedelta(days=days - 1)
    return local_midnight(last_allowed_day, timezone)


def local_midnight(day: date, timezone: str) -> datetime:
    """The instant `day` starts in `timezone`, as aware UTC (RFC 5545's reading when 00:00 is skipped)."""
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


async def give_back_repost(
    session: AsyncSession, community_id: int, profile_id: int, claimed_at: datetime, previous: datetime | None
) -> None:
    """Undo `claim_repost` when nothing got posted: only this claim's own mark is undone."""
    await session.execute(
        update(Profile)
        .where(Profile.community_id == community_id, Profile.id == profile_id,
               Profile.last_posted_at == claimed_at)
        .values(last_posted_at=previous)
        .execution_options(synchronize_session=False)
    )
