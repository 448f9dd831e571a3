"""The use cases of intros, and where intro cards go: in step with the profile, edits do not repost."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot import posting
from bot.community_time import community_today, local_date
from bot.notifier import Notifier
from bot.posting import PostOwner, SyncResult, edit_posted, posted, posts_of, sync_card
from bot.scheduler import PENDING, JobRun
from bot.usecase import Context, Later
from cogs.intros._cards import intro_card
from cogs.intros._form import FormStart, start_form
from cogs.intros._profile import (
    FEATURE,
    ProfileView,
    check_form,
    claim_repost,
    give_back_repost,
    load_view,
    local_midnight,
    member_id_for,
    own_profile,
    save_profile,
    set_availability,
    view_profile,
)
from cogs.intros._validation import IntroForm
from cogs.intros.models import Profile
from storage.models import Community, Job
from storage.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.scheduler import Scheduler
    from bot.services import Services


REPUBLISH = "intros.republish"
# Redraws the posted cards at the community's midnight of a member's "from" date: a card says
# "Disponible à partir du 15 janvier" and must say "Disponible" from that day on, without waiting
# for the member's next change.
AVAILABLE_ON = "intros.available_on"


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
    services: Services,
    community_id: int,
    profile_id: int,
    *,
    origin_channel_id: str | None,
    claim: bool = True,
    retry_later: bool = True,
) -> Published:
    """Posts or edits the member's intro cards, within the community's repost limit.

    The repost allowance is spent only when a new card went out. Channels where the platform failed
    for now (`SyncResult.retrying`) are tried again by a job a few minutes later (`retry_later`),
    which posts without a new claim when this attempt already spent it (`claim=False`).
    """
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
        posts = await posts_of(session, community_id, FEATURE, profile_id)
        channels = intro_channels(settings.intro_channel_id, view, [p.channel_id for p in posts],
                                  origin_channel_id)
        today = community_today(services.clock.now(), community.timezone)
        card = intro_card(services.catalog, community.locale, view, today, timezone=community.timezone)
    now = services.clock.now()

    async def may_post_new(session: AsyncSession) -> bool:
        return await claim_repost(session, community_id, profile_id, now, days, community.timezone)

    async def give_back(session: AsyncSession) -> None:
        await give_back_repost(session, community_id, profile_id, now, view.last_posted_at)

    owner = PostOwner(community_id, FEATURE, profile_id, view.member_id)
    result = await sync_card(services, owner, card, channels, may_post_new=may_post_new if claim else None,
                             give_back=give_back, place=(community.platform, community.external_id),
                             posts=posts)
    if retry_later:
        await posting.retry_later(services, result, REPUBLISH, community_id, profile_id,
                                  {"profile_id": profile_id, "claim": claim and not result.posted})
    next_post = None
    if result.held and view.last_posted_at is not None:
        # The interval is counted in the community's days (claim_repost): the day told is true.
        next_post = local_date(view.last_posted_at, community.timezone) + timedelta(days=days)
    return Published(result, next_post)


async def refresh_intro(services: Services, community_id: int, profile_id: int, *,
                        retry_later: bool = True) -> SyncResult:
    """Edits the posted cards after a change that does not move them (availability).

    The card and its posts are read in one read transaction, then edited (`edit_posted`); where the
    platform failed for now, the REPUBLISH job edits them again later (`retry_later`).
    """
    async with services.db.transaction(write=False) as session:
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
        owner = PostOwner(community_id, FEATURE, profile_id, view.member_id)
        posts = await posted(session, owner)
    return await edit_posted(services, owner, community.platform, community.external_id, posts, card,
                             retry_later=retry_later)


async def republish(services: Services, run: JobRun) -> None:
    """The retry job: post where the platform failed, or (`edit`) edit the posted cards again.

    An edit only edits: a channel without a card gets none (that is posting's, within the repost
    limit). Raising makes the scheduler try again later.
    """
    assert run.community_id is not None
    profile_id = int(run.payload["profile_id"])
    if run.payload.get("edit"):
        result = await refresh_intro(services, run.community_id, profile_id, retry_later=False)
    else:
        result = (await publish_intro(services, run.community_id, profile_id, origin_channel_id=None,
                                      claim=bool(run.payload.get("claim")), retry_later=False)).result
    if result.retrying:
        raise RuntimeError(f"intro cards still not posted or edited in {result.retrying}")


async def available_on(services: Services, run: JobRun) -> None:
    """The "from" date's job: the posted cards redrawn, as of today (`refresh_intro` reads the profile).

    Editing what the profile says now is right even when it changed since: a change cancels this
    job (`schedule_available_on`), and a redraw of the current state changes nothing.
    """
    assert run.community_id is not None
    await refresh_intro(services, run.community_id, int(run.payload["profile_id"]))


async def schedule_available_on(ctx: Context, view: ProfileView) -> None:
    """Replaces the profile's pending "from" date job by one for its current date, if any to come.

    In the caller's transaction, so a refused or rolled back change keeps the previous job. Each
    change gets its own key: a key cancelled once would make `schedule` return the skipped row.
    """
    cid, pid, scheduler = ctx.community_id, view.id, ctx.services.scheduler
    await _cancel_available_on(ctx.session, scheduler, cid, pid)
    day = view.available_from
    if view.availability != "from_date" or day is None:
        return
    if day <= community_today(ctx.clock.now(), ctx.caller.timezone):
        return  # the card already says available
    await _plan_available_on(ctx.session, scheduler, cid, pid, day, ctx.caller.timezone)


def _prefix(community_id: int, profile_id: int) -> str:
    return f"{AVAILABLE_ON}:{community_id}:{profile_id}:"


async def _cancel_available_on(session: AsyncSession, scheduler: Scheduler, community_id: int,
                               profile_id: int) -> bool:
    """The profile's pending "from" date jobs cancelled; True when there was one."""
    pending = await session.scalars(
        select(Job.id).where(Job.community_id == community_id, Job.kind == AVAILABLE_ON, Job.state == PENDING,
                             Job.dedupe_key.startswith(_prefix(community_id, profile_id), autoescape=True))
    )
    cancelled = False
    for job_id in list(pending):
        cancelled |= await scheduler.cancel(session, job_id=job_id, community_id=community_id)
    return cancelled


async def _plan_available_on(session: AsyncSession, scheduler: Scheduler, community_id: int, profile_id: int,
                             day: date, timezone: str) -> None:
    """The job redrawing the cards at `timezone`'s midnight starting `day` (at once when it passed)."""
    await scheduler.schedule(
        session, kind=AVAILABLE_ON, due_at=local_midnight(day, timezone), community_id=community_id,
        payload={"profile_id": profile_id},
        dedupe_key=f"{_prefix(community_id, profile_id)}{day.isoformat()}:{uuid.uuid4().hex}",
    )


async def settings_changed(session: AsyncSession, services: Services, community_id: int,
                           keys: frozenset[str]) -> None:
    """The community's time zone changed (in its transaction): "from" dates turn at its new midnight.

    A date still to come there gets its job at that midnight; a date the new zone has reached while the
    old one had not turns the cards at once. A community that starts in Paris (the default) and moves to
    Montréal would otherwise redraw the cards at 18:00 the day before, as of that day, and never again.
    """
    if "timezone" not in keys:
        return
    timezone = await session.scalar(select(Community.timezone).where(Community.id == community_id))
    if timezone is None:
        return
    today = community_today(services.clock.now(), timezone)
    rows = await session.execute(
        select(Profile.id, Profile.available_from).where(
            Profile.community_id == community_id, Profile.availability == "from_date",
            Profile.available_from >= today - timedelta(days=2),  # two zones' dates: at most 2 days apart
        )
    )
    for profile_id, day in rows.all():
        cancelled = await _cancel_available_on(session, services.scheduler, community_id, profile_id)
        if day is not None and (day > today or cancelled):
            await _plan_available_on(session, services.scheduler, community_id, profile_id, day, timezone)


def register_jobs(services: Services) -> None:
    services.scheduler.register(REPUBLISH, functools.partial(republish, services),
                                max_lateness=timedelta(days=1), retry_delay=posting.RETRY_AFTER)
    # Never too late: a bot down on the day still turns the cards when it is back.
    services.scheduler.register(AVAILABLE_ON, functools.partial(available_on, services),
                                retry_delay=posting.RETRY_AFTER)
    posting.retry_edits(services, FEATURE, REPUBLISH,
                        lambda profile_id: {"profile_id": profile_id, "edit": True})


async def on_start(services: Services) -> None:
    register_jobs(services)


# -- the use cases the bindings run (bot.usecase.run) ---------------------------------------------


@dataclass(frozen=True)
class Submitted:
    view: ProfileView
    created: bool
    later: Later[Published]

    @property
    def published(self) -> Published | None:
        """Where the cards went; None when posting failed (the profile is saved all the same)."""
        return self.later.value


async def check_intro(ctx: Context, form: IntroForm) -> None:
    """InvalidInput naming every field to fix, before anything is saved (run it with write=False)."""
    await check_form(ctx.session, ctx.caller, form, ctx.clock)


async def submit_intro(ctx: Context, form: IntroForm, *, origin_channel_id: str | None) -> Submitted:
    """/intro submitted: validate and save (InvalidInput saves nothing), then post or edit the cards."""
    saved = await save_profile(ctx.session, ctx.caller, form, ctx.clock)
    await schedule_available_on(ctx, saved.view)
    services, community_id, profile_id = ctx.services, ctx.community_id, saved.view.id

    async def publish(_notifier: Notifier | None) -> Published:
        return await publish_intro(services, community_id, profile_id, origin_channel_id=origin_channel_id)

    return Submitted(saved.view, saved.created, ctx.after_commit(publish))


async def update_availability(
    ctx: Context,
    availability: str,
    available_from: str | date | None,
    *,
    profile_id: int | None = None,
) -> ProfileView:
    """/availability or an availability button: saved, then the posted cards edited in place."""
    view = await set_availability(
        ctx.session, ctx.caller, availability, available_from, ctx.clock, profile_id=profile_id
    )
    await schedule_available_on(ctx, view)
    services, community_id = ctx.services, ctx.community_id

    async def refresh(_notifier: Notifier | None) -> SyncResult:
        return await refresh_intro(services, community_id, view.id)

    ctx.after_commit(refresh)
    return view


async def open_form(ctx: Context, draft: IntroForm | None = None) -> FormStart:
    """The intro form's choices and values: the draft, else the saved profile, else defaults."""
    return await start_form(ctx.session, ctx.caller, ctx.catalog, ctx.clock, draft)


async def profile_of(ctx: Context, platform_user_id: str | None = None) -> ProfileView:
    """/profile [member]: the caller's own profile, or a member's one the caller may see."""
    member_id = ctx.caller.member_id
    if platform_user_id is not None:
        member_id = await member_id_for(ctx.session, ctx.community_id, platform_user_id)
    return await view_profile(ctx.session, ctx.caller, member_id)


async def edit_profile(ctx: Context, profile_id: int) -> None:
    """"Edit my profile" on a card: only its owner, only in this community (NotFound / Forbidden)."""
    await own_profile(ctx.session, ctx.caller, profile_id)
