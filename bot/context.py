"""Who is calling, from where, in which language: resolved once per interaction on both platforms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot import lifecycle
from bot.i18n import resolve_locale, supported_locale
from bot.scheduler import Scheduler
from storage.communities import ensure_community, ensure_member
from storage.models import CommunitySettings


@dataclass(frozen=True)
class Caller:
    """The member behind an interaction. Every use case takes one and stays inside its community."""

    platform: str
    community_id: int
    community_locale: str
    timezone: str
    member_id: int
    user_id: str  # the platform's user id
    display_name: str
    locale: str  # the language to answer in
    is_moderator: bool


@dataclass(frozen=True)
class Origin:
    """What the platform told us about an interaction, before touching the database."""

    platform: str
    community_external_id: str
    community_name: str
    user_id: str
    display_name: str
    user_locale: str | None  # the user's client language, when the platform gives it
    community_locale: str | None  # the guild's preferred locale, for a community created now
    is_platform_admin: bool  # Discord: Manage Server; Slack: workspace owner or admin
    # Discord: the member's role ids; Slack: the user groups the runtime knows the user is in.
    role_ids: tuple[str, ...] = ()


async def resolve_caller(
    session: AsyncSession,
    origin: Origin,
    *,
    default_locale: str,
    default_timezone: str,
    scheduler: Scheduler | None = None,
) -> Caller:
    """Find or create the community and the member, and decide the reply language.

    With the `scheduler`, a paused community that calls again is restored and its purge cancelled.
    """
    first_locale = resolve_locale(origin.community_locale, default_locale)
    community = await ensure_community(
        session,
        origin.platform,
        origin.community_external_id,
        name=origin.community_name,
        locale=first_locale,
        timezone=default_timezone,
    )
    if not community.active and scheduler is not None:  # a request from a paused community: it came back
        await lifecycle.restore(session, scheduler, community.id)
    user_locale = supported_locale(origin.user_locale)
    member = await ensure_member(session, community, origin.user_id, display_name=origin.display_name,
                                 locale=user_locale)
    return Caller(
        platform=origin.platform,
        community_id=community.id,
        community_locale=community.locale,
        timezone=community.timezone,
        member_id=member.id,
        user_id=origin.user_id,
        display_name=origin.display_name,
        # This request's language, else the member's last known one (Slack may not say), else the community's.
        locale=resolve_locale(user_locale or member.locale, community.locale),
        is_moderator=origin.is_platform_admin or await is_listed_moderator(session, community.id, origin),
    )


async def is_listed_moderator(session: AsyncSession, community_id: int, origin: Origin) -> bool:
    """The community's own moderators: its moderator role (Discord), members or user group (Slack)."""
    settings = await session.get(CommunitySettings, community_id)
    if settings is None:
        return False
    group = settings.moderator_usergroup_id
    return (
        origin.user_id in (settings.moderator_user_ids or ())
        or (settings.moderator_role_id is not None and settings.moderator_role_id in origin.role_ids)
        or (group is not None and (group in origin.role_ids
                                   or origin.user_id in (settings.moderator_usergroup_user_ids or ())))
    )
