"""What members and moderators do with pairing: opt in or out, snooze, avoid, history, check-in, stats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from bot.cards import Card
from bot.errors import NotFound, UserError
from bot.settings_registry import read_settings
from bot.usecase import Context, moderator_only
from cogs.pairing import _store
from cogs.pairing._cards import history_card, opt_text, stats_card
from cogs.pairing._rounds import slot_after
from cogs.pairing._settings import ENABLED, SETTINGS
from cogs.pairing.models import OUTCOMES, PairingAvoid, PairingGroup, PairingMember, PairingPreference
from storage.models import Member
from storage.sql import dialect_insert

SNOOZE_MIN, SNOOZE_MAX = 1, 8
MAX_AVOIDED = 50


async def set_opt_in(ctx: Context, on: bool) -> str:
    """The profile's "pair me" flag (the button on every pairing message, /pairing join|leave).

    The answer, in the caller's language: joining while rounds are off keeps the choice and says that
    no round comes until a moderator turns them on; while on, it names the next round. Joining ends a
    snooze: a member asking to be paired is in that next round, as the answer says.
    """
    if not await _store.set_opt_in(ctx.session, ctx.community_id, ctx.caller.member_id, on):
        raise NotFound("pairing.errors.no_profile")
    if on:
        await ctx.session.execute(
            update(PairingPreference)
            .where(
                PairingPreference.community_id == ctx.community_id,
                PairingPreference.member_id == ctx.caller.member_id,
                PairingPreference.snoozed_through != 0,
            )
            .values(snoozed_through=0, updated_at=ctx.clock.now())
            .execution_options(synchronize_session=False)
        )
    next_at = await next_round(ctx) if on else None
    return opt_text(ctx.catalog, ctx.caller.locale, on=on, rounds_on=next_at is not None, next_round=next_at,
                    timezone=ctx.caller.timezone)


async def next_round(ctx: Context) -> datetime | None:
    """When the next round is held (the slot the planner keeps); None while rounds are off."""
    values = await read_settings(ctx.session, ctx.community_id, SETTINGS)
    if not values[ENABLED.key]:
        return None
    last = await _store.last_round(ctx.session, ctx.community_id)
    return slot_after(values, ctx.clock.now(), ctx.caller.timezone, last.scheduled_for if last else None)


async def _current_seq(ctx: Context) -> int:
    last = await _store.last_round(ctx.session, ctx.community_id)
    return last.seq if last is not None else 0


async def snooze(ctx: Context, rounds: int) -> int:
    """Skip the next `rounds` rounds (1–8); 0 wakes the member up. Returns the rounds now skipped."""
    if not (rounds == 0 or SNOOZE_MIN <= rounds <= SNOOZE_MAX):
        raise UserError("pairing.errors.snooze_range", low=SNOOZE_MIN, high=SNOOZE_MAX)
    through = await _current_seq(ctx) + rounds if rounds else 0
    now = ctx.clock.now()
    await ctx.session.execute(
        dialect_insert(ctx.session, PairingPreference)
        .values(
            community_id=ctx.community_id,
            member_id=ctx.caller.member_id,
            snoozed_through=through,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["community_id", "member_id"], set_={"snoozed_through": through, "updated_at": now}
        )
    )
    return rounds


async def _other(ctx: Context, user_id: str) -> int:
    if user_id == ctx.caller.user_id:
        raise UserError("pairing.errors.avoid_self")
    member = await _store.member_by_user(ctx.session, ctx.community_id, user_id)
    if member is None:
        raise NotFound("pairing.errors.unknown_member")
    return member.id


async def avoid(ctx: Context, user_id: str) -> str:
    """Add a member to the caller's private "don't pair me with" list; their name.

    An entry kept on the same account from before it deleted its data gives way to this one.
    """
    other = await _other(ctx, user_id)
    await _store.forget_former(ctx.session, ctx.community_id, ctx.caller.member_id, user_id)
    count = len(await _store.avoided_names(ctx.session, ctx.community_id, ctx.caller.member_id))
    if count >= MAX_AVOIDED:
        raise UserError("pairing.errors.avoid_limit", count=MAX_AVOIDED)
    await ctx.session.execute(
        dialect_insert(ctx.session, PairingAvoid)
        .values(
            community_id=ctx.community_id,
            member_id=ctx.caller.member_id,
            avoided_id=other,
            created_at=ctx.clock.now(),
        )
        .on_conflict_do_nothing()
    )
    return await _name(ctx, other)


async def unavoid(ctx: Context, user_id: str) -> str:
    """Take a member off the list, and an entry kept on their account from before it deleted its data."""
    other = await _other(ctx, user_id)
    await ctx.session.execute(
        delete(PairingAvoid).where(
            PairingAvoid.community_id == ctx.community_id,
            PairingAvoid.member_id == ctx.caller.member_id,
            PairingAvoid.avoided_id == other,
        )
    )
    await _store.forget_former(ctx.session, ctx.community_id, ctx.caller.member_id, user_id)
    return await _name(ctx, other)


async def _name(ctx: Context, member_id: int) -> str:
    name = await ctx.session.scalar(
        select(Member.display_name).where(Member.community_id == ctx.community_id, Member.id == member_id)
    )
    return name or "…"


async def history(ctx: Context) -> Card:
    """The caller's own pairing: status, past partners, "don't pair me with" list (only they see it)."""
    cid, mid = ctx.community_id, ctx.caller.member_id
    opted = await _store.is_opted_in(ctx.session, cid, mid)
    through = await _store.snoozed_through(ctx.session, cid, mid)
    left = max(0, through - await _current_seq(ctx))
    next_at = await next_round(ctx)
    return history_card(
        ctx.catalog,
        ctx.caller.locale,
        opted_in=opted,
        rounds_on=next_at is not None,
        next_round=next_at,
        snoozed_rounds=left,
        rounds=await _store.partners(ctx.session, cid, mid),  # type: ignore[arg-type]
        avoided=await _store.avoided_names(ctx.session, cid, mid),
    )


@moderator_only
async def stats(ctx: Context) -> Card:
    return stats_card(ctx.catalog, ctx.caller.locale, await _store.stats(ctx.session, ctx.community_id))


async def answer_checkin(ctx: Context, group_id: int, answer: str) -> str:
    """We met / Not yet / We can't, by any member of the group (the last answer counts)."""
    if answer not in OUTCOMES:
        raise UserError("pairing.errors.bad_answer")
    mine = await ctx.session.scalar(
        select(PairingMember.id).where(
            PairingMember.community_id == ctx.community_id,
            PairingMember.group_id == group_id,
            PairingMember.member_id == ctx.caller.member_id,
        )
    )
    if mine is None:
        raise NotFound("pairing.errors.not_your_group")
    await ctx.session.execute(
        update(PairingGroup)
        .where(PairingGroup.community_id == ctx.community_id, PairingGroup.id == group_id)
        .values(outcome=answer, answered_at=ctx.clock.now())
        .execution_options(synchronize_session=False)
    )
    return answer
