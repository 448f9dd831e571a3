"""Callers for tests: the member behind an interaction, resolved as the runtimes resolve them.

One factory for every suite; a suite that mostly needs one kind of caller (config: moderators of
community A) wraps it with its own defaults rather than building an Origin itself.
"""

from __future__ import annotations

from typing import TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Caller, Origin, resolve_caller
from bot.services import Services


class OriginFields(TypedDict, total=False):
    guild: str
    platform: str
    name: str | None
    locale: str
    moderator: bool
    roles: tuple[str, ...]
    community_name: str | None
    community_locale: str | None


def origin(
    user: str = "U1",
    *,
    guild: str = "g1",
    platform: str = "discord",
    name: str | None = None,
    locale: str = "fr",
    moderator: bool = False,
    roles: tuple[str, ...] = (),
    community_name: str | None = None,
    community_locale: str | None = None,
) -> Origin:
    """What a platform would report: `user` of community `guild` (named "Guild <guild>").

    `locale` is the user's client language and, unless `community_locale` is given, the community's.
    """
    return Origin(
        platform=platform,
        community_external_id=guild,
        community_name=community_name or f"Guild {guild}",
        user_id=user,
        display_name=name or f"User {user}",
        user_locale=locale,
        community_locale=community_locale or locale,
        is_platform_admin=moderator,
        role_ids=roles,
    )


async def make_caller(services: Services, user: str = "U1", **fields: Unpack[OriginFields]) -> Caller:
    """The caller `services` resolves for `origin(user, **fields)` (first contact creates the rows)."""
    return await services.caller(origin(user, **fields))


async def caller_for(session: AsyncSession, user: str, *, timezone: str = "Europe/Paris",
                     **fields: Unpack[OriginFields]) -> Caller:
    """The same, inside a session the test already holds (data seeded straight into the tables)."""
    found = origin(user, **fields)
    return await resolve_caller(session, found, default_locale=found.community_locale or "fr",
                                default_timezone=timezone)
