"""**Suggest a team** on a mission (author or moderator): matching's proposal, and inviting it.

The request is the mission itself: its trades are the slots, its skills, its city (or remote), its start
date (members available by then), its daily-rate budget (members whose rate fits) and its client sector.
Members who opted in to matching are proposed, one distinct member per trade, each with the *why*;
the author and the mission's candidates are left out (they are already in). **Invite them** DMs each
proposed member once per mission (`MissionInvitation`, a unique row settles two clicks at once) with the
mission and its **I'm interested** button: accepting is becoming a candidate like anyone else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from bot.cards import Card
from bot.community_time import community_today
from bot.errors import NotFound, UserError
from bot.notifier import Notifier
from bot.usecase import Context
from cogs.matching.teams import Request, Team, propose_team
from cogs.missions._cards import declined_dm, invitation_dm, suggestion_card
from cogs.missions._missions import (
    MissionView,
    authored,
    decline_invitations,
    get_mission,
    load_view,
    member_user_ids,
)
from cogs.missions._publish import UNREACHED, _dm, departed, tell_unreached, withdraw
from cogs.missions.models import LIVE, Candidacy, Mission, MissionInvitation
from storage.models import Member
from storage.sql import dialect_insert
from storage.text import city_key


def request_for(view: MissionView, mission: Mission, today: date) -> Request:
    """Matching's request for this mission (pure)."""
    daily = view.budget_kind == "daily" and view.budget_min is not None
    return Request(
        slots=tuple(trade_id for trade_id, _, _ in view.trades),
        today=today,
        skill_keys=tuple(key for key, _ in view.skills),
        city_key=city_key(view.city) if view.work_mode != "remote" and view.city else "",
        remote=view.work_mode == "remote",
        available_by=view.start_date if view.start_date and view.start_date > today else None,
        max_rate=(view.budget_max or view.budget_min) if daily else None,
        sector_id=mission.sector_id,
        requester_id=mission.author_member_id,
        seed=mission.id,
    )


async def _proposal(ctx: Context, mission_id: int) -> tuple[MissionView, Team, dict[int, str], set[int]]:
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if mission.status not in LIVE:
        raise UserError("missions.errors.not_live")
    view = await load_view(ctx.session, mission)
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    declined = set(
        await ctx.session.scalars(
            select(MissionInvitation.member_id).where(
                MissionInvitation.community_id == ctx.community_id,
                MissionInvitation.mission_id == mission_id,
                MissionInvitation.declined_at.is_not(None),
            )
        )
    )
    exclude = {c.member_id for c in view.candidates} | declined
    if mission.author_member_id is not None:
        exclude.add(mission.author_member_id)
    team = await propose_team(
        ctx.session, ctx.community_id, request_for(view, mission, today), ctx.clock.now(), exclude=exclude
    )
    shown = {
        f.member_id
        for s in team.slots
        for f in (*((s.chosen,) if s.chosen else ()), *s.alternatives, *s.closest)
    }
    names: dict[int, str] = {}
    if shown:
        rows = await ctx.session.execute(
            select(Member.id, Member.display_name, Member.platform_user_id).where(
                Member.community_id == ctx.community_id, Member.id.in_(shown)
            )
        )
        names = {member_id: name or user_id for member_id, name, user_id in rows}
    invited = set(
        await ctx.session.scalars(
            select(MissionInvitation.member_id).where(
                MissionInvitation.community_id == ctx.community_id, MissionInvitation.mission_id == mission_id
            )
        )
    )
    return view, team, names, invited


async def suggest_team(ctx: Context, mission_id: int) -> Card:
    """The author's (or a moderator's) suggested team, with the why, and **Invite them** (read only)."""
    view, team, names, invited = await _proposal(ctx, mission_id)
    return suggestion_card(ctx.catalog, ctx.caller.locale, view, team, names, invited, ctx.clock.now().date())


async def invite_suggested(ctx: Context, mission_id: int) -> str:
    """**Invite them**: each proposed member not yet invited gets the mission in a DM, once."""
    view, team, names, _ = await _proposal(ctx, mission_id)
    chosen = [(s.trade_id, s.chosen.member_id) for s in team.slots if s.chosen is not None]
    if not chosen:
        raise UserError("missions.suggest.nobody")
    now = ctx.clock.now()
    new: list[tuple[int, int]] = []
    for trade_id, member_id in chosen:
        result = await ctx.session.execute(
            dialect_insert(ctx.session, MissionInvitation.__table__)
            .values(
                community_id=ctx.community_id,
                mission_id=mission_id,
                member_id=member_id,
                trade_id=trade_id,
                invited_at=now,
            )
            .on_conflict_do_nothing()
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            new.append((trade_id, member_id))
    if not new:
        return ctx.t("missions.suggest.already_invited")
    services, community_id, caller = ctx.services, ctx.community_id, ctx.caller
    trade_names = {trade_id: name for trade_id, name, _ in view.trades}
    user_ids = await member_user_ids(ctx.session, community_id, [m for _, m in new])

    async def tell_them(_notifier: Notifier | None) -> int:
        """Each invitation DMed; those that reach nobody (left, DMs closed) are declined and named."""
        gone = await departed(services, caller, list(user_ids.values()))
        unreached: list[int] = []
        for trade_id, member_id in new:
            trade = trade_names.get(trade_id, "")
            later: tuple[str, dict[str, Any]] = (
                UNREACHED, {"mission_id": mission_id, "member_id": member_id, "invited": True})
            if user_ids.get(member_id) in gone or not await _dm(
                services,
                community_id,
                member_id,
                lambda locale, trade=trade: invitation_dm(services.catalog, locale, view, trade),
                about=[m for m in (view.author_member_id,) if m is not None],  # it names the author
                undelivered=later,
            ):
                unreached.append(member_id)
        if unreached:
            async with services.db.transaction() as session:
                await decline_invitations(session, community_id, mission_id, unreached, services.clock.now())
            await tell_unreached(services, community_id, view.author_member_id, mission_id, view.title,
                                 [names.get(m, "?") for m in unreached], invited=True, about=unreached)
        return len(new) - len(unreached)

    ctx.after_commit(tell_them)
    return ctx.t(
        "missions.suggest.invited", names=", ".join(names.get(m, "?") for _, m in new), count=len(new)
    )


async def decline_invitation(ctx: Context, mission_id: int) -> str:
    """**Not for me** in the invitation DM: declined once (a conditional UPDATE); the author is told.

    Clicked after **I'm interested** (both buttons stay in the DM, which has no Withdraw), it withdraws
    the candidacy too: the author is never told "X passes" about one of their candidates.
    """
    mission = await get_mission(ctx.session, ctx.community_id, mission_id)
    member_id = ctx.caller.member_id
    now = ctx.clock.now()
    declined = await decline_invitations(ctx.session, ctx.community_id, mission_id, [member_id], now)
    if declined != 1:
        invited = await ctx.session.scalar(
            select(MissionInvitation.id).where(
                MissionInvitation.community_id == ctx.community_id,
                MissionInvitation.mission_id == mission_id,
                MissionInvitation.member_id == member_id,
            )
        )
        if invited is None:
            raise NotFound("missions.errors.not_invited")
        return ctx.t("missions.suggest.declined")
    withdrawn = await withdraw(ctx, mission_id) if await _is_candidate(ctx, mission_id) else False
    author, services, community_id = mission.author_member_id, ctx.services, ctx.community_id
    name, title = ctx.caller.display_name, mission.title
    if author is not None:

        async def tell_author(_notifier: Notifier | None) -> bool:
            return await _dm(
                services,
                community_id,
                author,
                lambda locale: declined_dm(services.catalog, locale, mission_id, title, name),
                about=(member_id,),  # it names who declined
            )

        ctx.after_commit(tell_author)
    return ctx.t("missions.suggest.declined_and_withdrawn" if withdrawn else "missions.suggest.declined")


async def _is_candidate(ctx: Context, mission_id: int) -> bool:
    found = await ctx.session.scalar(
        select(Candidacy.id).where(
            Candidacy.community_id == ctx.community_id,
            Candidacy.mission_id == mission_id,
            Candidacy.member_id == ctx.caller.member_id,
        )
    )
    return found is not None
