"""Pairing's data access: the roster, the history, snoozes and avoid lists, stats, export and deletion.

Every query is scoped by community. Profiles (trades and the "pair me" opt-in) are read from intros'
public tables (`cogs.intros.models`), as the directory reads them; pairing never writes them except
the opt-in flag, through `set_opt_in`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cogs.intros.models import Profile, ProfileTrade
from cogs.pairing._grouping import pair_key
from cogs.pairing.models import (
    HELD,
    PairingAvoid,
    PairingGroup,
    PairingMember,
    PairingPreference,
    PairingRound,
)
from storage.models import Community, Member


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: str
    name: str
    trades: frozenset[int]


async def opted_in(session: AsyncSession, community_id: int) -> list[Person]:
    """Members whose profile says "pair me", with their trades, by member id."""
    rows = (
        await session.execute(
            select(Profile.id, Member.id, Member.platform_user_id, Member.display_name)
            .join(Member, Member.id == Profile.member_id)
            .where(
                Profile.community_id == community_id,
                Member.community_id == community_id,
                Profile.opt_pairing.is_(True),
            )
            .order_by(Member.id)
        )
    ).all()
    trades: dict[int, set[int]] = {}
    for profile_id, trade_id in await session.execute(
        select(ProfileTrade.profile_id, ProfileTrade.trade_id).where(
            ProfileTrade.community_id == community_id
        )
    ):
        trades.setdefault(profile_id, set()).add(trade_id)
    return [Person(m, u, n, frozenset(trades.get(p, ()))) for p, m, u, n in rows]


async def snoozed(session: AsyncSession, community_id: int, seq: int) -> set[int]:
    """Members who asked to skip round `seq`."""
    rows = await session.scalars(
        select(PairingPreference.member_id).where(
            PairingPreference.community_id == community_id, PairingPreference.snoozed_through >= seq
        )
    )
    return set(rows)


async def met_counts(session: AsyncSession, community_id: int) -> dict[tuple[int, int], int]:
    """How many times each pair was grouped together, over the whole history."""
    a, b = aliased(PairingMember), aliased(PairingMember)
    rows = await session.execute(
        select(a.member_id, b.member_id, func.count())
        .join(b, (b.group_id == a.group_id) & (b.member_id > a.member_id))
        .where(a.community_id == community_id, b.community_id == community_id)
        .group_by(a.member_id, b.member_id)
    )
    return {pair_key(x, y): n for x, y, n in rows}


async def trio_counts(session: AsyncSession, community_id: int) -> dict[int, int]:
    sizes = (
        select(PairingMember.group_id)
        .where(PairingMember.community_id == community_id)
        .group_by(PairingMember.group_id)
        .having(func.count() >= 3)
    )
    rows = await session.scalars(
        select(PairingMember.member_id).where(
            PairingMember.community_id == community_id, PairingMember.group_id.in_(sizes)
        )
    )
    return dict(Counter(rows))


async def avoid_pairs(session: AsyncSession, community_id: int) -> set[tuple[int, int]]:
    rows = await session.execute(
        select(PairingAvoid.member_id, PairingAvoid.avoided_id).where(
            PairingAvoid.community_id == community_id
        )
    )
    return {pair_key(a, b) for a, b in rows}


async def last_round(
    session: AsyncSession, community_id: int, *, before: datetime | None = None
) -> PairingRound | None:
    query = select(PairingRound).where(PairingRound.community_id == community_id)
    if before is not None:
        query = query.where(PairingRound.scheduled_for < before)
    return await session.scalar(query.order_by(PairingRound.seq.desc()).limit(1))


async def member_by_user(session: AsyncSession, community_id: int, user_id: str) -> Member | None:
    return await session.scalar(
        select(Member).where(Member.community_id == community_id, Member.platform_user_id == user_id)
    )


async def set_opt_in(session: AsyncSession, community_id: int, member_id: int, on: bool) -> bool:
    """The profile's "pair me" flag; False when the member has no profile here."""
    result = await session.execute(
        update(Profile)
        .where(Profile.community_id == community_id, Profile.member_id == member_id)
        .values(opt_pairing=on)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def is_opted_in(session: AsyncSession, community_id: int, member_id: int) -> bool | None:
    return await session.scalar(
        select(Profile.opt_pairing).where(
            Profile.community_id == community_id, Profile.member_id == member_id
        )
    )


async def snoozed_through(session: AsyncSession, community_id: int, member_id: int) -> int:
    value = await session.scalar(
        select(PairingPreference.snoozed_through).where(
            PairingPreference.community_id == community_id, PairingPreference.member_id == member_id
        )
    )
    return value or 0


async def partners(
    session: AsyncSession, community_id: int, member_id: int, limit: int = 20
) -> list[tuple[datetime, list[str]]]:
    """The member's past groups, newest first: (round time, the others' names)."""
    mine = (
        await session.execute(
            select(PairingMember.group_id, PairingRound.scheduled_for)
            .join(PairingRound, PairingRound.id == PairingMember.round_id)
            .where(
                PairingMember.community_id == community_id,
                PairingMember.member_id == member_id,
                PairingRound.community_id == community_id,
            )
            .order_by(PairingRound.seq.desc())
            .limit(limit)
        )
    ).all()
    groups = [g for g, _ in mine]
    names: dict[int, list[str]] = {}
    for group_id, name in await session.execute(
        select(PairingMember.group_id, Member.display_name)
        .join(Member, Member.id == PairingMember.member_id)
        .where(
            PairingMember.community_id == community_id,
            PairingMember.group_id.in_(groups),
            PairingMember.member_id != member_id,
            Member.community_id == community_id,
        )
        .order_by(Member.display_name)
    ):
        names.setdefault(group_id, []).append(name)
    return [(at, names.get(g, [])) for g, at in mine]


async def avoided_names(session: AsyncSession, community_id: int, member_id: int) -> list[str]:
    rows = await session.scalars(
        select(Member.display_name)
        .join(PairingAvoid, PairingAvoid.avoided_id == Member.id)
        .where(
            PairingAvoid.community_id == community_id,
            PairingAvoid.member_id == member_id,
            Member.community_id == community_id,
        )
        .order_by(Member.display_name)
    )
    return list(rows)


@dataclass(frozen=True)
class Stats:
    rounds: int
    per_round: list[tuple[int, int]]  # (round number, members grouped), newest first
    groups: int
    answered: int
    met: int
    new_cross: int
    never_paired: list[str]


async def stats(session: AsyncSession, community_id: int) -> Stats:
    rounds = await session.scalar(
        select(func.count())
        .select_from(PairingRound)
        .where(PairingRound.community_id == community_id, PairingRound.state == HELD)
    )
    per_round = (
        await session.execute(
            select(PairingRound.seq, func.count(PairingMember.id))
            .join(PairingMember, PairingMember.round_id == PairingRound.id)
            .where(PairingRound.community_id == community_id, PairingMember.community_id == community_id)
            .group_by(PairingRound.seq)
            .order_by(PairingRound.seq.desc())
            .limit(6)
        )
    ).all()
    groups, answered, met, new_cross = (
        await session.execute(
            select(
                func.count(PairingGroup.id),
                func.count(PairingGroup.outcome),
                func.coalesce(func.sum((PairingGroup.outcome == "met").cast(Integer)), 0),
                func.coalesce(func.sum(PairingGroup.new_cross_pairs), 0),
            ).where(PairingGroup.community_id == community_id)
        )
    ).one()
    ever = select(PairingMember.member_id).where(PairingMember.community_id == community_id)
    never = await session.scalars(
        select(Member.display_name)
        .join(Profile, Profile.member_id == Member.id)
        .where(
            Profile.community_id == community_id,
            Member.community_id == community_id,
            Profile.opt_pairing.is_(True),
            Member.id.not_in(ever),
        )
        .order_by(Member.display_name)
    )
    return Stats(
        int(rounds or 0),
        [(s, n) for s, n in per_round],
        int(groups),
        int(answered),
        int(met),
        int(new_cross),
        list(never),
    )


# -- privacy -------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """Privacy export: past groups (with partners' names), snooze and the "don't pair me with" list."""
    history = await partners(session, community_id, member_id, limit=10_000)
    through = await snoozed_through(session, community_id, member_id)
    avoided = await avoided_names(session, community_id, member_id)
    if not history and not through and not avoided:
        return {}
    return {
        "rounds": [{"at": at.isoformat(), "partners": names} for at, names in history],
        "snoozed_through_round": through,
        "dont_pair_with": avoided,
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Privacy deletion: their past groups (which then constrain nobody), snooze and avoid lists."""
    await session.execute(
        delete(PairingMember).where(
            PairingMember.community_id == community_id, PairingMember.member_id == member_id
        )
    )
    await session.execute(
        delete(PairingPreference).where(
            PairingPreference.community_id == community_id, PairingPreference.member_id == member_id
        )
    )
    await session.execute(
        delete(PairingAvoid).where(
            PairingAvoid.community_id == community_id,
            or_(PairingAvoid.member_id == member_id, PairingAvoid.avoided_id == member_id),
        )
    )


async def group_community(session: AsyncSession, platform: str, group_id: int, user_id: str) -> int | None:
    """The community of a group, when `user_id` is in it on `platform` (a click on its card in a DM)."""
    return await session.scalar(
        select(PairingGroup.community_id)
        .join(PairingMember, (PairingMember.group_id == PairingGroup.id)
              & (PairingMember.community_id == PairingGroup.community_id))
        .join(Member, (Member.id == PairingMember.member_id)
              & (Member.community_id == PairingGroup.community_id))
        .join(Community, Community.id == PairingGroup.community_id)
        .where(PairingGroup.id == group_id, Member.platform_user_id == user_id,
               Community.platform == platform)
    )
