"""The missions cases for tests/test_tenant_isolation.py (registry: tests/tenant.py): B's mission."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.errors import NotFound
from bot.services import Services
from bot.usecase import run
from cogs.missions._publish import (
    ask_close,
    candidates_of,
    check_interest,
    close_mission,
    confirm_team,
    edit_mission,
    extend_mission,
    list_missions,
    select_team,
    show_interest,
    turn_missions_page,
    withdraw,
)
from cogs.missions._suggest import decline_invitation, invite_suggested, suggest_team
from cogs.missions.models import Mission
from tests.tenant import Case, World

CASES = [
    Case(
        "missions: I'm interested on a mission id",
        "b_mission",
        lambda s, c, i: run(s, c, check_interest, i, write=False),
        covers=("missions:interest:42",),
    ),
    Case(
        "missions: the note form of a mission id",
        "b_mission",
        lambda s, c, i: run(s, c, show_interest, i, "note"),
        covers=("missions:note:42",),
    ),
    Case(
        "missions: Withdraw",
        "b_mission",
        lambda s, c, i: run(s, c, withdraw, i),
        covers=("missions:withdraw:42",),
    ),
    Case(
        "missions: Candidates",
        "b_mission",
        lambda s, c, i: run(s, c, candidates_of, i, write=False),
        covers=("missions:candidates:42",),
    ),
    Case(
        "missions: the collaborators select",
        "b_mission",
        lambda s, c, i: run(s, c, select_team, i, []),
        covers=("missions:select:42",),
    ),
    Case(
        "missions: the collaborators select of the candidacies a page showed",
        "b_mission",
        lambda s, c, i: run(s, c, select_team, i, [], 0, (1, 9)),
        covers=("missions:select:42:0:1-9",),
    ),
    Case(
        "missions: Confirm team",
        "b_mission",
        lambda s, c, i: run(s, c, confirm_team, i),
        covers=("missions:confirm:42",),
    ),
    Case(
        "missions: Edit",
        "b_mission",
        lambda s, c, i: run(s, c, edit_mission, i, write=False),
        covers=("missions:edit:42",),
    ),
    Case(
        "missions: an edit form's modal submitted after its draft expired (the mission it names)",
        "b_mission",
        lambda s, c, i: run(s, c, edit_mission, i, write=False),
        covers=("missions:form:submit_texts:42", "missions:form:submit_details:42"),
    ),
    Case(
        "missions: Close",
        "b_mission",
        lambda s, c, i: run(s, c, ask_close, i, write=False),
        covers=("missions:close:42",),
    ),
    Case(
        "missions: Close as",
        "b_mission",
        lambda s, c, i: run(s, c, close_mission, i, "won"),
        covers=("missions:closeas:42:won", "missions:closeas:42:lost", "missions:closeas:42:cancelled"),
    ),
    Case(
        "missions: Extend",
        "b_mission",
        lambda s, c, i: run(s, c, extend_mission, i),
        covers=("missions:extend:42",),
    ),
]


CASES += [
    Case(
        "missions: Suggest a team",
        "b_mission",
        lambda s, c, i: run(s, c, suggest_team, i, write=False),
        covers=("missions:suggest:42",),
    ),
    Case(
        "missions: Invite them (the suggested team)",
        "b_mission",
        lambda s, c, i: run(s, c, invite_suggested, i),
        covers=("missions:invite:42",),
    ),
    Case(
        "missions: Not for me (an invitation)",
        "b_mission",
        lambda s, c, i: run(s, c, decline_invitation, i),
        covers=("missions:decline:42",),
    ),
]


async def _listing_of_b_trade(services: Services, caller, trade_id: int) -> object:
    """A trade of B as a /missions filter: nothing of B's shows; refused like an unknown trade."""
    card = await run(services, caller, list_missions, 0, "all", trade_id, write=False)
    if "B's mission" in card.text:
        return card
    raise NotFound("missions.errors.not_found")


CASES.append(
    Case(
        "missions: /missions paging with a trade id",
        "b_trade",
        _listing_of_b_trade,
        covers=("missions:list:0:all:42", "missions:list:1:mine:42", "missions:list:1:candidate:42"),
    )
)

async def _page_of_b_search(services: Services, caller, token: str) -> object:
    """B's stored search token turned by A: NotFound (searches are scoped by community)."""
    return await run(services, caller, turn_missions_page, token, 1, write=False)


CASES.append(
    Case(
        "missions: /missions Previous / Next with a search token",
        "b_search",
        _page_of_b_search,
        missing="0123456789abcdef",  # a token is text: an integer id of nothing fails on PostgreSQL's types
        covers=("missions:page:1:0123456789abcdef", "missions:page:1:0123456789abcdef:a0-42"),
    )
)

WITHOUT_OBJECT_IDS = {
    **{
        f"missions:pick:{name}": "a field of the caller's own draft"
        for name in ("trades", "pack", "work_mode", "source", "sector", "fee", "behalf")
    },
    "missions:step:1": "a page of the caller's own form",
    "missions:step:2": "a page of the caller's own form",
}


async def seed(services: Services, world: World) -> None:
    """B's first member shares a mission needing one of B's trades."""
    from storage.communities import trades

    async with services.db.transaction() as session:
        b_trades = await trades(session, world.b.community_id)
        mission = Mission(
            community_id=world.b.community_id,
            author_member_id=world.b.member_id,
            title="B's mission",
            title_key="b mission s",
            answer_by=date(2099, 1, 1),
        )
        session.add(mission)
        await session.flush()
        from cogs.missions.models import MissionTrade

        session.add(
            MissionTrade(community_id=world.b.community_id, mission_id=mission.id, trade_id=b_trades[0].id)
        )
    async with services.db.transaction() as session:
        from cogs.missions._search import Query, remember

        now = datetime(2026, 12, 1, tzinfo=UTC)
        token = await remember(session, world.b.community_id, Query(scope="all"), now)
    world.ids.update(b_mission=mission.id, b_trade=b_trades[0].id, b_search=token)
