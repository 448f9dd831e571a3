"""Where intro cards go, and keeping them in step with the profile (edits are not reposts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.community_time import community_today, local_date
from bot.posting import PostOwner, SyncResult, posts_of, sync_card
from cogs.intros._cards import intro_card
from cogs.intros._profile import (
    FEATURE,
    ProfileView,
    claim_repost,
    load_view,
    save_profile,
    set_availability,
)
from cogs.intros._validation import IntroForm
from cogs.intros.models import Profile
from storage.models import Community
from storage.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Caller
    from bot.services import Services


@dataclass(frozen=True)
class Published:
    result: SyncResult
    next_post: date | None  # when new cards may be posted again, if some were held back


def intro_channels(
    intro_channel_id: str | None, view: ProfileView, current: list[str], origin: str | None
) -> list[str]:
    """The channels an intro card belongs in.

    The intro channel and each trade's channel; when none is configured, where the cards already
    are, else where the command was used (nothing when there is no such channel, e.g. App Home).
    """
    configured = [c for c in (intro_channel_id, *(channel for _, _, channel in view.trades)) if c]
    if configured:
        return list(dict.fromkeys(configured))
    if current:
        return list(dict.fromkeys(current))
    return [origin] if origin else []


async def publish_intro(
    services: Services, community_id: int, profile_id: int, *, origin_channel_id: str | None
) -> Published:
    """Posts or edits the member's intro cards, within the community's repost limit."""
    async with services.db.transaction() as session:
        profile = await session.scalar(
            select(Profile).where(Profile.community_id == community_id, Profile.id == profile_id)
        )
        if profile is None:
            return Published(SyncResult(), None)
        view = await load_view(session, profile)
        community = await session.get(Community, community_id)
        assert community is not None
        settings = await get_settings(session, community_id)
        days = settings.intro_repost_days
        current = [p.channel_id for p in await posts_of(session, community_id, FEATURE, profile_id)]
        channels = intro_channels(settings.intro_channel_id, view, current, origin_channel_id)
        today = community_today(services.clock.now(), community.timezone)
        card = intro_card(services.catalog, community.locale, view, today, timezone=community.timezone)
    now = services.clock.now()

    async def may_post_new(session: AsyncSession) -> bool:
        return await claim_repost(session, community_id, profile_id, now, days)

    owner = PostOwner(community_id, FEATURE, profile_id, view.member_id)
    result = await sync_card(services, owner, card, channels, may_post_new=may_post_new)
    next_post = None
    if result.held and view.last_posted_at is not None:
        next_post = (
            local_date(view.last_posted_at + timedelta(days=days), community.timezone)
        )
    return Published(result, next_post)


async def refresh_intro(services: Services, community_id: int, profile_id: int) -> SyncResult:
    """Edits the posted cards after a change that does not move them (availability)."""
    async with services.db.transaction() as session:
        profile = await session.scalar(
            select(Profile).where(Profile.community_id == community_id, Profile.id == profile_id)
        )
        if profile is None:
            return SyncResult()
        view = await load_view(session, profile)
        community = await session.get(Community, community_id)
        assert community is not None
        today = community_today(services.clock.now(), community.timezone)
        card = intro_card(services.catalog, community.locale, view, today, timezone=community.timezone)
    return await sync_card(services, PostOwner(community_id, FEATURE, profile_id, view.member_id), card, None)


@dataclass(frozen=True)
class Submitted:
    view: ProfileView
    created: bool
    published: Published


async def submit_intro(
    services: Services, caller: Caller, form: IntroForm, *, origin_channel_id: str | None
) -> Submitted:
    """/intro submitted: validate and save (one transaction; InvalidInput saves nothing), then post."""
    async with services.db.transaction() as session:
        saved = await save_profile(session, caller, form, services.clock)
    published = await publish_intro(
        services, caller.community_id, saved.view.id, origin_channel_id=origin_channel_id
    )
    return Submitted(saved.view, saved.created, published)


async def update_availability(
    services: Services,
    caller: Caller,
    availability: str,
    available_from: str | date | None,
    *,
    profile_id: int | None = None,
) -> ProfileView:
    """/availability or an availability button: saved, then the posted cards edited in place."""
    async with services.db.transaction() as session:
        view = await set_availability(
            session, caller, availability, available_from, services.clock, profile_id=profile_id
        )
    await refresh_intro(services, caller.community_id, view.id)
    return view
