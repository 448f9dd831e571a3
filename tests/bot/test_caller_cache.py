"""Resolved callers are reused without a query, and forgotten by every change to what they hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller, Origin
from bot.errors import Forbidden
from bot.services import Services
from cogs.config._context import run
from cogs.config._settings import set_setting
from cogs.config._show import show
from cogs.privacy._privacy import delete_member_data
from storage.models import Member

ADMIN = Origin("discord", "900000000000000001", "Guild", "1", "Camille", "fr", "fr", True)
MEMBER = Origin("discord", "900000000000000001", "Guild", "2", "Jordan", "en-US", "fr", False,
                role_ids=("700000000000000001",))


def count_queries(services: Services) -> list[str]:
    seen: list[str] = []
    event.listen(services.db.engine.sync_engine, "before_cursor_execute",
                 lambda *args: seen.append(args[2]))
    return seen


async def test_a_known_caller_costs_no_query(services: Services) -> None:
    first = await services.caller(MEMBER)
    queries = count_queries(services)
    again = await services.caller(MEMBER)
    assert again == first
    assert queries == []


async def test_a_changed_name_or_language_is_resolved_again(services: Services) -> None:
    await services.caller(MEMBER)
    renamed = await services.caller(replace(MEMBER, display_name="Jordan B."))
    assert renamed.display_name == "Jordan B."
    french = await services.caller(replace(MEMBER, user_locale="fr"))
    assert french.locale == "fr"


async def test_entries_expire(services: Services, clock) -> None:
    await services.caller(MEMBER)
    clock.advance(timedelta(seconds=services.settings.database.caller_cache_seconds + 1))
    queries = count_queries(services)
    await services.caller(MEMBER)
    assert queries  # looked up again: another process may have changed it


async def test_a_new_moderator_role_counts_at_once(services: Services) -> None:
    admin = await services.caller(ADMIN)
    member = await services.caller(MEMBER)
    assert not member.is_moderator
    await run(services, admin, set_setting, "moderators.role", "700000000000000001")
    assert (await services.caller(MEMBER)).is_moderator


async def test_a_deleted_member_comes_back_as_a_first_contact(services: Services) -> None:
    member = await services.caller(MEMBER)
    await delete_member_data(services, member, member.member_id)
    queries = count_queries(services)
    back = await services.caller(MEMBER)
    assert any("INSERT INTO members" in q for q in queries)  # not the deleted row's cached id
    async with services.db.transaction() as session:
        assert await session.get(Member, back.member_id) is not None


async def test_a_config_read_keeps_the_entries_and_a_change_forgets_only_its_community(
        services: Services) -> None:
    admin = await services.caller(ADMIN)
    other = await services.caller(replace(MEMBER, community_external_id="900000000000000002"))
    await run(services, admin, show)  # a read: the moderator's next request costs no query
    queries = count_queries(services)
    await services.caller(ADMIN)
    assert queries == []
    await run(services, admin, set_setting, "limit.missions_per_week", 2)
    queries.clear()
    await services.caller(replace(MEMBER, community_external_id="900000000000000002"))
    assert queries == []  # another community's entries stay
    await services.caller(ADMIN)
    assert queries  # this community's are forgotten by the change
    assert other.community_id != admin.community_id


async def test_a_check_runs_in_the_lookup_transaction_of_a_caller_not_cached(services: Services) -> None:
    """One read transaction for the caller and the button's check (`Services.caller(origin, Check)`)."""
    from bot.errors import UserError
    from bot.usecase import Check, Context

    await services.caller(MEMBER)  # the member exists
    services.callers.forget(services.callers.get(MEMBER).community_id)  # type: ignore[union-attr]
    begins: list[object] = []
    event.listen(services.db.engine.sync_engine, "begin", begins.append)
    sessions: list[object] = []

    async def check(ctx: Context, wanted: int) -> None:
        sessions.append(ctx.session)
        if wanted != 42:
            raise UserError("errors.generic")

    caller = await services.caller(MEMBER, Check(check, (42,)))
    assert caller.user_id == "2" and len(begins) == 1 and len(sessions) == 1

    refused = replace(MEMBER, user_id="1", display_name="Camille")  # not cached either
    await services.caller(refused)
    services.callers.forget(caller.community_id)
    begins.clear()
    try:
        await services.caller(refused, Check(check, (7,)))
    except UserError:
        pass
    else:
        raise AssertionError("the check's refusal reaches the binding")
    assert len(begins) == 1 and len(sessions) == 2  # in the lookup's transaction again
    assert services.callers.get(refused) is not None  # the caller was found all the same


async def test_a_lookup_racing_a_moderator_change_does_not_cache_the_old_rights(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request reads the settings; /config then changes the moderator role and forgets the community's
    callers; the request, finishing after, must not cache the caller as read (a moderator for the cache's
    lifetime, whose writes `run` would then allow)."""
    import bot.services

    admin = await services.caller(ADMIN)
    await services.caller(MEMBER)  # a known member: the next lookup is find_caller's
    await run(services, admin, set_setting, "moderators.role", "700000000000000001")
    real = bot.services.find_caller

    async def racing(session: AsyncSession, origin: Origin) -> tuple[Caller, bool] | None:
        found = await real(session, origin)
        if origin == MEMBER:  # the change commits (and forgets) between this read and the cache's put
            await run(services, admin, set_setting, "moderators.role", "700000000000000002")
        return found

    monkeypatch.setattr(bot.services, "find_caller", racing)
    assert (await services.caller(MEMBER)).is_moderator  # as read before the change
    monkeypatch.setattr(bot.services, "find_caller", real)
    demoted = await services.caller(MEMBER)
    assert not demoted.is_moderator
    with pytest.raises(Forbidden):  # and a moderator's write is refused at once, not for the cache's lifetime
        await run(services, demoted, set_setting, "limit.missions_per_week", 9)
