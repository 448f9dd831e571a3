"""A member of community A can neither see nor change anything of community B, even by guessing ids.

Every use case or button handler that takes an id from the outside (a custom_id, an option) is a
`Case` below: called as a member of A with the id of B's object, it must fail exactly like with an
id that exists nowhere (same error class and catalog key), and no row of any table may change.

A later feature adds its handlers by appending to CASES (its objects go into `World` through
`seed_b`). The same check through the platforms: a cross-community click in
tests/e2e/test_directory_discord.py and tests/e2e/test_directory_slack.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from bot.community_time import community_today
from bot.context import Caller
from bot.errors import InvalidInput, NotFound, UserError
from bot.models import metadata
from bot.services import Services
from cogs.directory._filters import Filters
from cogs.directory._search import search_members, search_page
from cogs.intros._profile import own_profile, view_profile
from cogs.intros._publish import update_availability
from cogs.privacy._privacy import cancelled_card, delete_member_data
from storage.communities import trades
from tests.config import tenant_cases as config_cases
from tests.directory.factory import add_profile
from tests.fakes.callers import caller_for
from tests.fakes.notifier import RecordingNotifier

NOWHERE = 987_654


@dataclass
class World:
    """Community A (the caller's) and B (the target's), each with members, profiles and a search."""

    a: Caller  # the member of A who tries
    a_other: Caller
    b: Caller
    b_other: Caller
    ids: dict[str, Any] = field(default_factory=dict)  # B's objects by name


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # key of World.ids: B's object
    call: Callable[[Services, Caller, Any], Awaitable[object]]
    missing: Any = NOWHERE  # an id of nothing at all
    error: type[UserError] = NotFound


async def _in_session(services: Services, use: Callable[[Any], Awaitable[object]]) -> object:
    async with services.db.transaction() as session:
        return await use(session)


def _today(services: Services, caller: Caller) -> Any:
    return community_today(services.clock.now(), caller.timezone)


async def _as_coroutine(value: object) -> object:
    return value


CASES: list[Case] = [
    Case("intros: /profile of a member id", "b_member",
         lambda s, c, i: _in_session(s, lambda db: view_profile(db, c, i))),
    Case("intros: Edit button of a profile id", "b_profile",
         lambda s, c, i: _in_session(s, lambda db: own_profile(db, c, i))),
    Case("intros: availability button of a profile id", "b_profile",
         lambda s, c, i: update_availability(s, c, "busy", None, profile_id=i)),
    Case("directory: paging button of a search token", "b_token",
         lambda s, c, i: _in_session(s, lambda db: search_page(db, c, i, 2, today=_today(s, c))),
         missing="0123456789abcdef"),
    Case("directory: /members trade option with a trade id", "b_trade",
         lambda s, c, i: _in_session(s, lambda db: search_members(db, c, Filters(trade=str(i)),
                                                                   today=_today(s, c))),
         error=InvalidInput),
    Case("privacy: delete confirmation of a member id", "b_member",
         lambda s, c, i: delete_member_data(s, c, i)),
    Case("privacy: delete cancel of a member id", "b_member",
         lambda s, c, i: _as_coroutine(cancelled_card(s.catalog, c, i))),
    *config_cases.CASES,
]


async def seed_b(services: Services, world: World) -> None:
    """B's objects whose ids the cases try."""
    async with services.db.transaction() as session:
        profile = await add_profile(session, world.b, trades=("Développement",), skills=("figma",))
        for other in (world.b_other,):
            await add_profile(session, other, skills=("figma",))
        found = await search_members(session, world.b, Filters(skills=("figma",)), page_size=1,
                                     today=_today(services, world.b))
        world.ids.update(b_member=world.b.member_id, b_profile=profile.id, b_token=found.token,
                         b_trade=(await trades(session, world.b.community_id))[0].id)
        world.ids.update(await config_cases.seed_b(session, world.b))


@pytest.fixture
async def world(services: Services) -> World:
    services.notifiers["discord"] = RecordingNotifier()
    async with services.db.transaction() as session:
        built = World(
            a=await caller_for(session, "alice", guild="A"),
            a_other=await caller_for(session, "anna", guild="A"),
            b=await caller_for(session, "bob", guild="B"),
            b_other=await caller_for(session, "bea", guild="B"),
        )
        await add_profile(session, built.a, skills=("figma",))
        await add_profile(session, built.a_other, skills=("figma",))
    await seed_b(services, built)
    return built


async def dump(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: "nothing changed" is one comparison."""
    async with services.db.transaction() as session:
        return {name: sorted(tuple(map(repr, row)) for row in await session.execute(select(table)))
                for name, table in metadata.tables.items()}


def _answer(error: BaseException) -> tuple[type, str]:
    return type(error), getattr(error, "key", "")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_an_object_of_another_community_is_like_no_object(
    case: Case, world: World, services: Services
) -> None:
    before = await dump(services)

    with pytest.raises(case.error) as theirs:
        await case.call(services, world.a, world.ids[case.target])
    with pytest.raises(case.error) as nowhere:
        await case.call(services, world.a, case.missing)

    assert _answer(theirs.value) == _answer(nowhere.value)
    assert await dump(services) == before


async def test_the_world_is_seeded_as_the_cases_expect(world: World) -> None:
    assert {c.target for c in CASES} <= set(world.ids)
    assert world.a.community_id != world.b.community_id
