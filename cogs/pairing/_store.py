"""Pairing's data access: the roster, the history, snoozes and avoid lists, stats, export and deletion.

Every query is scoped by community. Profiles (trades and the "pair me" opt-in) are read from intros'
public tables (`cogs.intros.models`), as the directory reads them; pairing never writes them except
the opt-in flag, through `set_opt_in`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cogs.intros.models import Profile, ProfileTrade
from cogs.pairing._grouping import pair_key
from cogs.pairing.models import (
    HELD,
    SPACE_DMS,
    SPACE_OPEN,
    PairingAvoid,
    PairingGroup,
    PairingMember,
    PairingPreference,
    PairingRound,
    PairingSalt,
)
from storage.models import Community, Member
from storage.sql import dialect_insert

FORMER_MEMBER = "a former member"  # in an export (not localized, like its keys), an entry on no one now
# The groups whose members were told of them: a space opened, or its card sent by DM. Only these count
# as having met (the grouping's history, a member's history, the stats): a group still being opened, or
# one the platform never let the bot tell ("failed": every DM refused, or given up at the round's
# check-in, `_rounds.run_open`) introduced nobody.
TOLD = (SPACE_OPEN, SPACE_DMS)


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
    """How many times each pair was grouped together and told of it (`TOLD`), over the whole history."""
    a, b = aliased(PairingMember), aliased(PairingMember)
    rows = await session.execute(
        select(a.member_id, b.member_id, func.count())
        .join(b, (b.group_id == a.group_id) & (b.member_id > a.member_id))
        .where(a.community_id == community_id, b.community_id == community_id,
               a.group_id.in_(_told_groups(community_id)))
        .group_by(a.member_id, b.member_id)
    )
    return {pair_key(x, y): n for x, y, n in rows}


def _told_groups(community_id: int) -> Select[int]:
    """The ids of the community's groups told of (`TOLD`), as a subquery."""
    return select(PairingGroup.id).where(PairingGroup.community_id == community_id,
                                         PairingGroup.space.in_(TOLD))


async def trio_counts(session: AsyncSession, community_id: int) -> dict[int, int]:
    """How many times each member was in a group of three or more told of it (`TOLD`)."""
    sizes = (
        select(PairingMember.group_id)
        .where(PairingMember.community_id == community_id,
               PairingMember.group_id.in_(_told_groups(community_id)))
        .group_by(PairingMember.group_id)
        .having(func.count() >= 3)
    )
    rows = await session.scalars(
        select(PairingMember.member_id).where(
            PairingMember.community_id == community_id, PairingMember.group_id.in_(sizes)
        )
    )
    return dict(Counter(rows))


async def avoid_pairs(
    session: AsyncSession, community_id: int, people: Iterable[Person]
) -> set[tuple[int, int]]:
    """Who may not be grouped together, each entry both ways.

    An entry about a member who deleted their data (`avoided_key`) holds against whoever of `people`
    came back with the same platform account.
    """
    rows = (
        await session.execute(
            select(PairingAvoid.member_id, PairingAvoid.avoided_id, PairingAvoid.avoided_key).where(
                PairingAvoid.community_id == community_id
            )
        )
    ).all()
    returned = await _by_key(session, community_id, people) if any(k for _, _, k in rows) else {}
    pairs = set()
    for member_id, avoided_id, key in rows:
        other = avoided_id if avoided_id is not None else returned.get(key or "")
        if other is not None and other != member_id:
            pairs.add(pair_key(member_id, other))
    return pairs


async def group_members(
    session: AsyncSession, community_id: int, group_ids: list[int]
) -> dict[int, list[tuple[int, str, str, str | None]]]:
    """Each group's members: (member id, platform user id, name, their own locale if they chose one)."""
    rows = await session.execute(
        select(PairingMember.group_id, Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .join(Member, Member.id == PairingMember.member_id)
        .where(
            PairingMember.community_id == community_id,
            PairingMember.group_id.in_(group_ids),
            Member.community_id == community_id,
        )
        .order_by(PairingMember.id)
    )
    found: dict[int, list[tuple[int, str, str, str | None]]] = {}
    for group_id, member_id, user_id, name, locale in rows:
        found.setdefault(group_id, []).append((member_id, user_id, name, locale))
    return found


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
    session: AsyncSession, community_id: int, member_id: int, limit: int = 20, *, told_only: bool = True
) -> list[tuple[datetime, list[str]]]:
    """The member's past groups, newest first: (round time, the others' names).

    `told_only`: only the groups they were told of (`TOLD`), their history; else every group stored
    with them (their data export).
    """
    mine = (
        await session.execute(
            select(PairingMember.group_id, PairingRound.scheduled_for)
            .join(PairingRound, PairingRound.id == PairingMember.round_id)
            .where(
                PairingMember.community_id == community_id,
                PairingMember.member_id == member_id,
                PairingRound.community_id == community_id,
                *((PairingMember.group_id.in_(_told_groups(community_id)),) if told_only else ()),
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


async def avoided_names(session: AsyncSession, community_id: int, member_id: int) -> list[str | None]:
    """The member's "don't pair me with" list by name; None for a member who deleted their data since."""
    rows = await session.scalars(
        select(Member.display_name)
        .select_from(PairingAvoid)
        .outerjoin(Member, (Member.id == PairingAvoid.avoided_id) & (Member.community_id == community_id))
        .where(PairingAvoid.community_id == community_id, PairingAvoid.member_id == member_id)
        .order_by(Member.display_name.is_(None), Member.display_name)
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
    """The community's rounds; their groups and members only as told of them (`TOLD`)."""
    told = _told_groups(community_id)
    rounds = await session.scalar(
        select(func.count())
        .select_from(PairingRound)
        .where(PairingRound.community_id == community_id, PairingRound.state == HELD)
    )
    per_round = (
        await session.execute(
            select(PairingRound.seq, func.count(PairingMember.id))
            .join(PairingMember, PairingMember.round_id == PairingRound.id)
            .where(PairingRound.community_id == community_id, PairingMember.community_id == community_id,
                   PairingMember.group_id.in_(told))
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
            ).where(PairingGroup.community_id == community_id, PairingGroup.space.in_(TOLD))
        )
    ).one()
    ever = select(PairingMember.member_id).where(PairingMember.community_id == community_id,
                                                 PairingMember.group_id.in_(told))
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


# -- keys of former members -----------------------------------------------------------------------


def user_key(salt: str, user_id: str) -> str:
    """A keyed hash of a platform user id: recognizes an account that comes back, names no one by itself.

    Keyed with the community's random salt: a plain hash of a user id could be recomputed by anyone
    from a list of user ids.
    """
    return hmac.new(bytes.fromhex(salt), user_id.encode(), hashlib.sha256).hexdigest()


async def _salt(session: AsyncSession, community_id: int, *, create: bool = False) -> str | None:
    """The community's salt for `user_key`; None when none was needed yet (and not `create`)."""
    if create:
        await session.execute(
            dialect_insert(session, PairingSalt)
            .values(community_id=community_id, salt=secrets.token_hex(32))
            .on_conflict_do_nothing()
        )
    return await session.scalar(select(PairingSalt.salt).where(PairingSalt.community_id == community_id))


async def _by_key(session: AsyncSession, community_id: int, people: Iterable[Person]) -> dict[str, int]:
    salt = await _salt(session, community_id)
    return {user_key(salt, p.user_id): p.member_id for p in people} if salt else {}


async def forget_former(session: AsyncSession, community_id: int, member_id: int, user_id: str) -> None:
    """Drops `member_id`'s entry on `user_id` kept from before that account deleted its data.

    /pairing unavoid ends it; /pairing avoid replaces it with an entry naming the member again.
    """
    salt = await _salt(session, community_id)
    if salt is None:
        return
    await session.execute(
        delete(PairingAvoid).where(
            PairingAvoid.community_id == community_id,
            PairingAvoid.member_id == member_id,
            PairingAvoid.avoided_key == user_key(salt, user_id),
        )
    )


async def _keep_avoided(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Others' entries on a member deleting their data stay, keyed by their platform account.

    "Don't pair me with" always holds, even once they come back; their member id goes.
    """
    user_id = await session.scalar(
        select(Member.platform_user_id).where(Member.community_id == community_id, Member.id == member_id)
    )
    kept = await session.scalar(
        select(PairingAvoid.id)
        .where(PairingAvoid.community_id == community_id, PairingAvoid.avoided_id == member_id)
        .limit(1)
    )
    if user_id is None or kept is None:
        return
    salt = await _salt(session, community_id, create=True)
    assert salt is not None
    await session.execute(
        update(PairingAvoid)
        .where(PairingAvoid.community_id == community_id, PairingAvoid.avoided_id == member_id)
        .values(avoided_id=None, avoided_key=user_key(salt, user_id))
        .execution_options(synchronize_session=False)
    )


# -- privacy -------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """Privacy export: past groups (with partners' names), snooze and the "don't pair me with" list."""
    history = await partners(session, community_id, member_id, limit=10_000, told_only=False)
    through = await snoozed_through(session, community_id, member_id)
    avoided = await avoided_names(session, community_id, member_id)
    if not history and not through and not avoided:
        return {}
    return {
        "rounds": [{"at": at.isoformat(), "partners": names} for at, names in history],
        "snoozed_through_round": through,
        "dont_pair_with": [name or FORMER_MEMBER for name in avoided],
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> list[int]:
    """Privacy deletion: their past groups (which then constrain nobody), snooze and own avoid list.

    Each of their groups counts one more former member, whom its card shows instead of them; those
    groups are returned. Others' entries on them stay, keyed (`_keep_avoided`).
    """
    groups = list(
        await session.scalars(
            select(PairingMember.group_id).where(
                PairingMember.community_id == community_id, PairingMember.member_id == member_id
            )
        )
    )
    if groups:
        await session.execute(
            update(PairingGroup)
            .where(PairingGroup.community_id == community_id, PairingGroup.id.in_(groups))
            .values(former_members=PairingGroup.former_members + 1)
            .execution_options(synchronize_session=False)
        )
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
            PairingAvoid.community_id == community_id, PairingAvoid.member_id == member_id
        )
    )
    await _keep_avoided(session, community_id, member_id)
    return groups


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
