"""The router's DM-aware caller (bot/discord_bot/router.py, `dm=`), with matching's invitation finder.

A button clicked in a direct message has no guild: the community comes from the stored invitation,
and only its invitee, a member of that community, gets a caller.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.context import Caller
from bot.discord_bot.router import DiscordRequest, DiscordRouter
from bot.errors import Forbidden, UserError
from bot.services import Services
from bot.usecase import run
from cogs.matching import _ids
from cogs.matching._discord import invitation_community
from cogs.matching._invite import invite_team
from cogs.matching._match import find_team
from cogs.matching._request import MatchInput
from cogs.matching.models import Invitation
from tests.directory.factory import add_profile
from tests.fakes.callers import make_caller
from tests.fakes.notifier import RecordingNotifier


class Bot:
    """What the router needs of the bot; its guild resolution is not what these tests exercise."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.guild_calls = 0

    async def caller(self, interaction: Any, check: Any = None) -> Caller:
        self.guild_calls += 1
        raise UserError("errors.generic")

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        pass


def click(custom_id: str, user: str, guild_id: int | None = None) -> Any:
    return SimpleNamespace(
        type=discord.InteractionType.component, data={"custom_id": custom_id, "component_type": 2},
        guild_id=guild_id, user=SimpleNamespace(id=int(user), display_name=f"User {user}"),
        locale=discord.Locale.french, extras={},
    )


SEEN: list[Caller | Exception] = []


async def record(request: DiscordRequest) -> None:
    try:
        SEEN.append(await request.caller())
    except Exception as error:  # what the central handler would report
        SEEN.append(error)


async def caller_of(router: DiscordRouter, bot: Bot, interaction: Any) -> Caller:
    """Dispatch the click as the bot does; the caller the handler got, or what it raised."""
    SEEN.clear()
    assert await router.dispatch(bot, interaction)
    [seen] = SEEN
    if isinstance(seen, Exception):
        raise seen
    return seen


async def invitation_of(services: Services, guild: str) -> tuple[int, Caller]:
    """An invitation of community `guild` to its member 200 (asked by member 100)."""
    requester = await make_caller(services, "100", guild=guild, name="Alice")
    invitee = await make_caller(services, "200", guild=guild, name="Sam")
    async with services.db.transaction() as session:
        await add_profile(session, invitee, trades=("SEO / SEA",))
    answer = await run(services, requester, find_team, MatchInput(trades="SEO"), write=False)
    await run(services, requester, invite_team, answer.token, "c-general")
    async with services.db.transaction() as session:
        found = await session.scalar(select(Invitation.id).where(
            Invitation.community_id == invitee.community_id, Invitation.status == "pending"))
    assert found is not None
    return found, invitee


@pytest.fixture
def router() -> DiscordRouter:
    built = DiscordRouter()
    built.action(_ids.ANSWER, record, dm=invitation_community)
    built.action(_ids.INVITE, record)
    return built


async def test_the_invitee_clicking_in_a_dm_gets_their_community(services: Services,
                                                                 router: DiscordRouter) -> None:
    services.notifiers["discord"] = RecordingNotifier()
    invitation, invitee = await invitation_of(services, "1")
    bot = Bot(services)
    caller = await caller_of(router, bot, click(f"matching:answer:{invitation}:accept", "200"))
    assert (caller.community_id, caller.member_id, caller.user_id) == (
        invitee.community_id, invitee.member_id, "200")
    assert caller.locale == "fr" and not caller.is_moderator
    assert bot.guild_calls == 0


async def test_anyone_else_or_another_communitys_invitation_is_refused(
        services: Services, router: DiscordRouter) -> None:
    services.notifiers["discord"] = RecordingNotifier()
    in_a, _ = await invitation_of(services, "1")
    in_b, _ = await invitation_of(services, "2")
    await make_caller(services, "300", guild="1", name="Bob")  # a member of A, not invited
    bot = Bot(services)
    for custom_id, user in ((f"matching:answer:{in_a}:accept", "100"),  # the requester
                            (f"matching:answer:{in_a}:decline", "300"),  # another member of A
                            (f"matching:answer:{in_a + in_b + 10}:accept", "200"),  # an id of nothing
                            ):
        with pytest.raises(Forbidden) as refused:
            await caller_of(router, bot, click(custom_id, user))
        assert refused.value.key == "errors.not_for_you"
    await make_caller(services, "400", guild="2", name="Bea")  # B's member clicking A's invitation id
    with pytest.raises(Forbidden):
        await caller_of(router, bot, click(f"matching:answer:{in_a}:accept", "400"))
    # The same Discord user invited in both communities gets the one the invitation belongs to.
    b_caller = await caller_of(router, bot, click(f"matching:answer:{in_b}:accept", "200"))
    a_caller = await caller_of(router, bot, click(f"matching:answer:{in_a}:accept", "200"))
    assert a_caller.community_id != b_caller.community_id


async def test_routes_without_dm_and_guild_clicks_keep_the_usual_resolution(
        services: Services, router: DiscordRouter) -> None:
    services.notifiers["discord"] = RecordingNotifier()
    invitation, _ = await invitation_of(services, "1")
    bot = Bot(services)
    with pytest.raises(UserError):  # Invite is not DM-aware: refused in a DM as before
        await caller_of(router, bot, click("matching:invite:0123456789abcdef", "100"))
    with pytest.raises(UserError):  # in a guild, the guild decides, not the finder
        await caller_of(router, bot, click(f"matching:answer:{invitation}:accept", "200", guild_id=1))
    assert bot.guild_calls == 2
    assert re.fullmatch(_ids.ANSWER, f"matching:answer:{invitation}:accept")
