"""The use cases of missions (run through bot.usecase.run), where mission cards go, and the timed jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select

from bot import modlog, paging, posting
from bot.cards import Card
from bot.community_time import community_today, local_date
from bot.errors import BUGS, InvalidInput, NotFound, UserError
from bot.formatting import format_date
from bot.notifier import Notifier
from bot.outbox import send_dm
from bot.posting import PostOwner, SyncResult, edit_posted, notifier_for, posted, remove_posts, sync_card
from bot.scheduler import DONE, FAILED, RUNNING, JobRun
from bot.settings_registry import read_setting
from bot.usecase import Context, Later
from cogs.intros.profiles import VOCABULARY, known_skill_keys, skill_key, split_skills
from cogs.missions._cards import (
    candidacy_dm,
    candidates_card,
    close_card,
    expired_dm,
    list_card,
    mission_card,
    not_selected_dm,
    page_of_candidates,
    selected_dm,
    unreached_dm,
    warning_dm,
)
from cogs.missions._form import FormStart, choices_for, form_from_mission
from cogs.missions._missions import (
    CARDS_JOB,
    FEATURE,
    MissionView,
    add_candidacy,
    allowance_of,
    authored,
    candidate_profiles,
    claim_allowance,
    decline_invitations,
    get_mission,
    hold_allowance,
    hold_live,
    listed,
    load_view,
    move,
    new_mission_view,
    own_repost,
    remove_candidacy,
    reopen_teamless,
    save_mission,
    sector_ids,
    sector_name,
    set_selection,
    similar_open,
    trade_names,
    trades_of,
)
from cogs.missions._search import (
    MAX_PAGE,
    SCOPES,
    Cursor,
    ListFilters,
    Query,
    remember,
    resolve,
    search,
    stored,
)
from cogs.missions._settings import ANSWER_DAYS, EXTEND_DAYS, WARNING_DAYS
from cogs.missions._validation import (
    MAX_ANSWER_DAYS,
    MAX_NOTE,
    MAX_SKILLS_TEXT,
    PLATFORM_PREFIX,
    CleanMission,
    MissionForm,
    validate,
    whole_number,
)
from cogs.missions.models import LIVE, OUTCOMES, Candidacy, Mission
from storage.models import Community, CommunitySettings, Job, Member, Post

if TYPE_CHECKING:
    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Caller
    from bot.scheduler import Scheduler
    from bot.services import Services

log = logging.getLogger(__name__)
WARN, EXPIRE = "missions.warn", "missions.expire"
# A team's details or an invitation kept in the outbox that finally could not be delivered: the
# author is told (bot.outbox's `undelivered` follow-up).
UNREACHED = "missions.unreached"
DEPARTED_WAIT = 1.5  # seconds the platform has to say who left, before a member is taken as still there


# -- where cards go --------------------------------------------------------------------------------


def mission_channels(missions_channel: str | None, view: MissionView) -> list[str]:
    """Each needed trade's channel and the missions channel; where the command ran when neither is set."""
    wanted = [c for c in (*(channel for _, _, channel in view.trades), missions_channel) if c]
    if not wanted and view.origin_channel_id:
        wanted = [view.origin_channel_id]
    return list(dict.fromkeys(wanted))


class Shown(NamedTuple):
    """A mission's card as it is now, where it belongs, and where it is shown (read together)."""

    view: MissionView
    card: Card
    channels: list[str]
    place: tuple[str, str]  # the community's platform and external id
    posts: list[Any]  # its recorded posts (`bot.posting.posted`)
    locale: str  # the community's

    @property
    def owner(self) -> PostOwner:
        return PostOwner(self.view.community_id, FEATURE, self.view.id, self.view.author_member_id)


async def _card_of(
    services: Services, community_id: int, mission_id: int, *, channels: bool = True
) -> Shown | None:
    """`_read_shown` in a read transaction of its own."""
    async with services.db.transaction(write=False) as session:
        return await _read_shown(session, services, community_id, mission_id, channels=channels)


async def _read_shown(
    session: AsyncSession, services: Services, community_id: int, mission_id: int, *, channels: bool
) -> Shown | None:
    """The mission's card as it is now (and, with `channels`, where it belongs) and its posts.

    Read together, so that what is posted is then edited without reading again or taking the write
    lock.
    """
    mission = await session.scalar(
        select(Mission).where(Mission.community_id == community_id, Mission.id == mission_id)
    )
    if mission is None:
        return None
    view = await load_view(session, mission)
    locale, platform, external_id = (await session.execute(_place_query(), {"id": community_id})).one()
    card = mission_card(services.catalog, locale, view)
    posts = await posted(session, PostOwner(community_id, FEATURE, mission_id))
    wanted: list[str] = []
    if channels:
        # Not get_settings: it may insert the default row, a write in this read-only transaction.
        row = await session.get(CommunitySettings, community_id)
        wanted = mission_channels(row.missions_channel_id if row is not None else None, view)
    return Shown(view, card, wanted, (platform, external_id), posts, locale)


@functools.cache
def _place_query() -> Any:
    return select(Community.locale, Community.platform, Community.external_id).where(
        Community.id == bindparam("id")
    )


async def publish_mission(services: Services, community_id: int, mission_id: int, *,
                          retry_later: bool = True) -> SyncResult:
    """Posts the card where it belongs, edits the copies already posted (a trade removed: its copy goes).

    Channels where the platform failed for now (`SyncResult.retrying`) are tried again by the cards
    job a few minutes later (`retry_later`), which raises while some still fail (the jobs' backoff).
    """
    shown = await _card_of(services, community_id, mission_id)
    if shown is None:
        return SyncResult()
    wanted = shown.channels if shown.view.live else None
    result = await sync_card(services, shown.owner, shown.card, wanted, place=shown.place, posts=shown.posts)
    if wanted and result.failed:
        result = await _where_shared(services, shown.owner, shown.card, shown.view.origin_channel_id, wanted,
                                     result)
    if retry_later:
        await _retry_later(services, community_id, mission_id, result)
    return result


async def _where_shared(services: Services, owner: PostOwner, card: Card, origin: str | None,
                        wanted: list[str], result: SyncResult) -> SyncResult:
    """Channels gone or refusing the bot: the moderators' log says so, once per channel.

    When the card is shown nowhere else, it goes where the mission was shared (`origin`), so members
    can answer.
    """
    async with services.db.transaction() as session:
        for channel in result.failed:
            await modlog.queue_notice(services, session, owner.community_id, "missions.channel_gone",
                                      once=channel, channel=channel)
    if result.posted or result.edited or result.retrying or not origin or origin in wanted:
        return result
    fallback = await sync_card(services, owner, card, [origin])
    return dataclasses.replace(fallback, failed=[*result.failed, *fallback.failed])


async def _retry_later(services: Services, community_id: int, mission_id: int, result: SyncResult) -> None:
    """Channels where the platform failed for now: the cards job posts there a few minutes later."""
    await posting.retry_later(services, result, CARDS_JOB, community_id, mission_id,
                              {"mission_id": mission_id})


async def refresh_mission(services: Services, community_id: int, mission_id: int, *,
                          retry_later: bool = True) -> SyncResult:
    """Edits every card of the mission in place (counts, status, closed look).

    An edit the platform failed is redone by the cards job (`posting.retry_edits`, in register_jobs).
    """
    shown = await _card_of(services, community_id, mission_id, channels=False)
    if shown is None:
        return SyncResult()
    return await edit_posted(services, shown.owner, *shown.place, shown.posts, shown.card,
                             retry_later=retry_later)


def _refresh(ctx: Context, mission_id: int) -> None:
    services, community_id = ctx.services, ctx.community_id

    async def refresh(_notifier: Notifier | None) -> SyncResult:
        return await refresh_mission(services, community_id, mission_id)

    ctx.after_commit(refresh)


async def _dm(services: Services, community_id: int, member_id: int, build: Callable[[str], Card], *,
              about: Collection[int], undelivered: tuple[str, dict[str, Any]] | None = None) -> bool:
    """A DM in the member's language (kept in the outbox when the platform fails: bot/outbox.py).

    False when DMs are closed or the member is unknown. `about`: the other members the card names or
    shows, and `undelivered`: the job queued if a kept DM finally cannot be delivered (`send_dm`).
    """
    async with services.db.transaction(write=False) as session:
        row = (
            await session.execute(
                select(Member.platform_user_id, Member.locale, Community)
                .join(Community, Community.id == Member.community_id)
                .where(Member.community_id == community_id, Member.id == member_id)
            )
        ).first()
    if row is None:
        return False
    user_id, member_locale, community = row
    notifier_for(services, community.platform)  # no platform runtime in this process: an error, not a DM kept
    return await send_dm(services, community, member_id, user_id, build(member_locale or community.locale),
                         about=about, undelivered=undelivered)


async def departed(services: Services, caller: Caller, user_ids: list[str]) -> set[str]:
    """Those of these users who left the caller's community (as matching checks its invitations).

    An unsure answer (an outage, or no answer within DEPARTED_WAIT) takes nobody for gone.
    """
    notifier = services.notifiers.get(caller.platform)
    if notifier is None or not user_ids:
        return set()
    try:
        asked = notifier.departed(caller.community_external_id, user_ids)
        return await asyncio.wait_for(asked, DEPARTED_WAIT)
    except BUGS:
        raise
    except Exception:
        log.warning("missions: could not tell who left community %s", caller.community_id, exc_info=True)
        return set()


async def tell_unreached(services: Services, community_id: int, author_member_id: int | None, mission_id: int,
                         title: str, names: list[str], *, invited: bool, about: Collection[int]) -> None:
    """The author learns which members (`about`: their ids) the team's details or invitation did not reach."""
    if author_member_id is None or not names:
        return
    catalog = services.catalog
    await _dm(services, community_id, author_member_id,
              lambda locale: unreached_dm(catalog, locale, mission_id, title, names, invited=invited),
              about=about)


async def unreached_job(services: Services, run: JobRun) -> None:
    """A kept DM to a team member (or an invited member) could finally not be delivered: the author is told.

    An invitation that never arrived counts as declined: the next suggestion proposes someone else.
    """
    assert run.community_id is not None
    mission_id, member_id = int(run.payload["mission_id"]), int(run.payload["member_id"])
    invited = bool(run.payload.get("invited"))
    async with services.db.transaction() as session:
        mission = await session.scalar(
            select(Mission).where(Mission.community_id == run.community_id, Mission.id == mission_id)
        )
        member = (await session.execute(select(Member.display_name, Member.platform_user_id).where(
            Member.community_id == run.community_id, Member.id == member_id))).first()
        if mission is None or member is None:  # gone since (deleted, or the member's data deleted)
            return
        if invited:
            now = services.clock.now()
            await decline_invitations(session, run.community_id, mission_id, [member_id], now)
        author, title = mission.author_member_id, mission.title
    await tell_unreached(services, run.community_id, author, mission_id, title, [member[0] or member[1]],
                         invited=invited, about=(member_id,))


# -- timed work ------------------------------------------------------------------------------------


def expires_at(answer_by: date, timezone: str) -> datetime:
    """The start of the day after the answer-by date, in the community's zone (answers count all that day)."""
    return datetime.combine(answer_by + timedelta(days=1), time(0), ZoneInfo(timezone)).astimezone(UTC)


def _key(kind: str, mission_id: int, answer_by: date, sequence: int = 0) -> str:
    """A job's dedupe key: the mission, its answer-by date, and which plan of that date it is.

    The first plan of a date (sequence 0) has no suffix: the key rows planned by earlier versions hold.
    """
    suffix = f":{sequence}" if sequence else ""
    return f"{kind}:{mission_id}:{answer_by.isoformat()}{suffix}"


async def _planned_keys(session: AsyncSession, kind: str, mission_id: int, answer_by: date) -> list[str]:
    """The keys of the `kind` jobs planned so far for this mission and date, in plan order.

    Each plan of a date takes the next sequence, so the keys are consecutive: a few lookups of the
    unique key (a date is seldom planned more than twice), no scan of the community's jobs.
    """
    keys: list[str] = []
    while True:
        key = _key(kind, mission_id, answer_by, len(keys))
        if await session.scalar(select(Job.id).where(Job.dedupe_key == key)) is None:
            return keys
        keys.append(key)


async def _schedule(
    session: AsyncSession, scheduler: Scheduler, community_id: int, kind: str, mission_id: int,
    answer_by: date, due: datetime,
) -> None:
    """The `kind` job of this date, under a key of its own even when the date was planned before.

    A date edited away and back (or extended, then edited back) would otherwise find the key of the
    row its first plan made, cancelled since: the scheduler returns that row and nothing runs.
    """
    sequence = len(await _planned_keys(session, kind, mission_id, answer_by))
    await scheduler.schedule(
        session,
        kind=kind,
        due_at=due,
        community_id=community_id,
        payload={"mission_id": mission_id, "answer_by": answer_by.isoformat()},
        dedupe_key=_key(kind, mission_id, answer_by, sequence),
    )


async def plan_jobs(ctx: Context, mission_id: int, answer_by: date, previous: date | None = None) -> None:
    """The warning and the expiry of this answer-by date; those of the previous date are cancelled."""
    if previous is not None and previous != answer_by:
        await _cancel_date(ctx.session, ctx.scheduler, ctx.community_id, mission_id, previous)
    if previous == answer_by:
        return
    await _plan_date(ctx.session, ctx.scheduler, ctx.community_id, mission_id, answer_by, ctx.caller.timezone,
                     int(await ctx.setting(WARNING_DAYS)), ctx.clock.now())


async def _plan_date(
    session: AsyncSession, scheduler: Scheduler, community_id: int, mission_id: int, answer_by: date,
    timezone: str, days: int, now: datetime, *, warn: bool = True, overdue: bool = False,
) -> None:
    """The expiry at the community's midnight ending the answer-by date, and the warning `days` days before.

    `days` days on the community's calendar: its midnight, also over a daylight-saving change. A warning
    whose time has passed is not planned (the author has just set the date), unless `overdue`: a warning
    planned before, moved by a settings change, then goes at once.
    """
    expiry = expires_at(answer_by, timezone)
    await _schedule(session, scheduler, community_id, EXPIRE, mission_id, answer_by, expiry)
    if not warn or not days:
        return
    warn_at = expires_at(answer_by - timedelta(days=days), timezone)
    if warn_at <= now:
        if not overdue or expiry <= now:
            return
        warn_at = now
    await _schedule(session, scheduler, community_id, WARN, mission_id, answer_by, warn_at)


async def _cancel_date(
    session: AsyncSession, scheduler: Scheduler, community_id: int, mission_id: int, answer_by: date
) -> set[str]:
    """The pending warning and expiry of this date, whichever of its plans they belong to, are cancelled.

    The kinds of the jobs cancelled (a warning already sent is no longer pending).
    """
    cancelled = set()
    for kind in (WARN, EXPIRE):
        for key in await _planned_keys(session, kind, mission_id, answer_by):
            if await scheduler.cancel(session, dedupe_key=key, community_id=community_id):
                cancelled.add(kind)
    return cancelled


async def _warned(session: AsyncSession, mission_id: int, answer_by: date) -> bool:
    """The author was warned about this date (or is being warned): a warning job of it ran."""
    keys = await _planned_keys(session, WARN, mission_id, answer_by)
    ran = select(Job.id).where(Job.dedupe_key.in_(keys), Job.state.in_((RUNNING, DONE, FAILED)))
    return bool(keys) and await session.scalar(ran.limit(1)) is not None


async def _cancel_jobs(ctx: Context, mission: Mission) -> None:
    await _cancel_date(ctx.session, ctx.scheduler, ctx.community_id, mission.id, mission.answer_by)


async def settings_changed(session: AsyncSession, services: Services, community_id: int,
                           keys: frozenset[str]) -> None:
    """The time zone or the warning's days changed (in its transaction): the live missions' jobs follow.

    They expire at the zone's new midnight. Their warning moves too, unless it was sent already; one to
    come whose new day has passed goes at once (raised days), and one not planned (no days, or its day
    had passed when the date was set) is planned when its new day is to come. A community that starts in
    Paris (the default) and moves to Montréal would otherwise close a mission at 18:00 on its answer-by
    day; new days would warn on the old day, telling the new count.
    """
    if not keys & {"timezone", WARNING_DAYS.key}:
        return
    timezone = await session.scalar(select(Community.timezone).where(Community.id == community_id))
    if timezone is None:
        return
    days = int(await read_setting(session, community_id, WARNING_DAYS))
    now = services.clock.now()
    live = await session.execute(
        select(Mission.id, Mission.answer_by)
        .where(Mission.community_id == community_id, Mission.status.in_(LIVE))
    )
    for mission_id, answer_by in live.all():
        cancelled = await _cancel_date(session, services.scheduler, community_id, mission_id, answer_by)
        if EXPIRE in cancelled:
            await _plan_date(session, services.scheduler, community_id, mission_id, answer_by, timezone, days,
                             now, warn=not await _warned(session, mission_id, answer_by),
                             overdue=WARN in cancelled)


async def _current(session: AsyncSession, run: JobRun, *, status: str | None = None) -> Mission | None:
    """The job's mission, still live (or in `status`) with the answer-by date the job was planned for."""
    assert run.community_id is not None
    mission = await session.scalar(
        select(Mission).where(
            Mission.community_id == run.community_id, Mission.id == int(run.payload["mission_id"])
        )
    )
    if (
        mission is None
        or (mission.status not in LIVE if status is None else mission.status != status)
        or mission.answer_by.isoformat() != run.payload["answer_by"]
    ):
        return None
    return mission


async def warn_job(services: Services, run: JobRun) -> None:
    async with services.db.transaction(write=False) as session:
        mission = await _current(session, run)
        if mission is None or mission.author_member_id is None:
            return
        view = await load_view(session, mission)
        timezone = await session.scalar(
            select(Community.timezone).where(Community.id == mission.community_id)
        )
    # The days left, as the warning's day counted them: fewer when it came late, or at once (`_plan_date`).
    today = community_today(services.clock.now(), timezone or "UTC")
    days = max(1, (view.answer_by + timedelta(days=1) - today).days)
    assert view.author_member_id is not None
    await _dm(
        services,
        view.community_id,
        view.author_member_id,
        lambda locale: warning_dm(services.catalog, locale, view, days),
        about=(),  # their own mission
    )


async def expire_job(services: Services, run: JobRun) -> None:
    async with services.db.transaction() as session:
        mission = await _current(session, run)
        if mission is not None:
            moved = await move(session, mission.community_id, mission.id, LIVE, "expired",
                               services.clock.now())
        else:  # a retry: this job's first attempt expired it, then its card or DM failed (a 5xx)
            mission = await _current(session, run, status="expired") if run.attempt > 1 else None
            moved = mission is not None
        author = mission.author_member_id if mission is not None else None
    if not moved or mission is None:
        return
    assert run.community_id is not None
    await refresh_mission(services, run.community_id, mission.id)
    if author is not None:
        shown = await _card_of(services, run.community_id, mission.id, channels=False)
        if shown is not None:
            await _dm(
                services,
                run.community_id,
                author,
                lambda locale: expired_dm(services.catalog, locale, shown.view),
                about=(),  # their own mission
            )


async def cards_job(services: Services, run: JobRun) -> None:
    """A mission's cards follow a change made without the platform (a member's data deleted).

    The mission kept: its cards are edited (or reposted where one is missing while it is live);
    the mission gone: its cards are removed.
    """
    assert run.community_id is not None
    mission_id = int(run.payload["mission_id"])
    async with services.db.transaction(write=False) as session:
        exists = await session.scalar(
            select(Mission.id).where(Mission.community_id == run.community_id, Mission.id == mission_id)
        )
    if exists is None:
        await remove_posts(services, run.community_id, feature=FEATURE, object_id=mission_id)
        return
    if run.payload.get("edit"):  # an edit the platform failed: only the cards already posted
        result = await refresh_mission(services, run.community_id, mission_id, retry_later=False)
    else:
        result = await publish_mission(services, run.community_id, mission_id, retry_later=False)
    if result.retrying:
        raise RuntimeError(f"mission {mission_id}'s cards still not posted in {result.retrying}")


def _edit_again(mission_id: int) -> dict[str, Any]:
    """The cards job's payload redoing an edit the platform failed: only the cards already posted."""
    return {"mission_id": mission_id, "edit": True}


def register_jobs(services: Services) -> None:
    # A warning more than a day late is pointless (the expiry follows); a late expiry still runs.
    services.scheduler.register(WARN, functools.partial(warn_job, services), max_lateness=timedelta(days=1))
    services.scheduler.register(EXPIRE, functools.partial(expire_job, services))
    services.scheduler.register(CARDS_JOB, functools.partial(cards_job, services), max_lateness=None,
                                retry_delay=posting.RETRY_AFTER)
    posting.retry_edits(services, FEATURE, CARDS_JOB, _edit_again)
    services.scheduler.register(UNREACHED, functools.partial(unreached_job, services), max_lateness=None)


async def on_start(services: Services) -> None:
    register_jobs(services)


# -- the use cases ---------------------------------------------------------------------------------


async def open_form(
    ctx: Context, mission_id: int | None = None, draft: MissionForm | None = None
) -> FormStart:
    """The form's choices and values: the draft, else the edited mission (author only), else defaults."""
    choices = await choices_for(ctx.session, ctx.community_id, ctx.catalog, ctx.caller.locale)
    form = draft
    if mission_id is not None:
        mission = await authored(ctx.session, ctx.caller, mission_id)
        form = form or await form_from_mission(ctx.session, mission)
        if mission.author_member_id != ctx.caller.member_id:  # a moderator: the client stays confidential
            form = dataclasses.replace(form, client_name="")
    form = form or MissionForm()
    return FormStart(choices, form, mission_id, form.source.startswith(PLATFORM_PREFIX))


async def _validated(ctx: Context, form: MissionForm, editing: Mission | None) -> CleanMission:
    """The form checked as the community is now; an edit keeps the mission's start date even once past."""
    return validate(
        form,
        trades=await trade_names(ctx.session, ctx.community_id),
        sectors=await sector_ids(ctx.session, ctx.community_id),
        today=community_today(ctx.clock.now(), ctx.caller.timezone),
        locale=ctx.caller.locale,
        known_skills=await _known_skills(ctx, form),
        default_answer_days=await ctx.setting(ANSWER_DAYS),
        kept_start=editing.start_date if editing is not None else None,
    )


async def _known_skills(ctx: Context, form: MissionForm) -> set[str]:
    """The community's skill keys, read only when a typed skill needs them.

    A word of the shared vocabulary (WordPress, SEO…) is its own key whatever the community uses, so
    the usual form skips reading every profile's skills.
    """
    if len(form.skills) > MAX_SKILLS_TEXT or all(
        skill_key(label) in VOCABULARY for label in split_skills(form.skills)
    ):
        return set()
    return await known_skill_keys(ctx.session, ctx.community_id)


async def _refuse_repost(ctx: Context, clean: CleanMission, editing: int | None) -> None:
    found = await own_repost(
        ctx.session, ctx.community_id, ctx.caller.member_id, clean, ctx.clock.now(), editing=editing
    )
    if found is not None:
        raise UserError(
            "missions.errors.repost", id=found.id, title=found.title, link=await message_link(ctx, found.id)
        )


async def message_link(ctx: Context, mission_id: int) -> str:
    """A link to the mission's first card (Discord: the message; Slack: its channel), else its number."""
    post = await ctx.session.scalar(
        select(Post)
        .where(Post.community_id == ctx.community_id, Post.feature == FEATURE, Post.object_id == mission_id)
        .order_by(Post.id)
        .limit(1)
    )
    if post is None:
        return f"#{mission_id}"
    if ctx.caller.platform == "discord":
        return f"https://discord.com/channels/{ctx.caller.community_external_id}/{post.channel_id}/{post.message_id}"
    return f"https://slack.com/app_redirect?channel={post.channel_id}"


async def _refuse_over_limit(ctx: Context) -> None:
    """The weekly limit, read only (the claim in submit_mission settles races)."""
    limit = (await ctx.settings()).missions_per_week
    row = await allowance_of(ctx.session, ctx.community_id, ctx.caller.member_id)
    now = ctx.clock.now()
    if row is not None and row.window_start > now - timedelta(days=7) and row.used >= limit:
        _limit_error(ctx, row.window_start + timedelta(days=7))


def _limit_error(ctx: Context, when: datetime) -> None:
    raise UserError(
        "missions.errors.weekly_limit",
        date=format_date(local_date(when, ctx.caller.timezone), ctx.caller.locale),
    )


@dataclass(frozen=True)
class Checked:
    """What check_mission let through: submit_mission saves it without validating the form again."""

    community_id: int
    member_id: int
    locale: str
    mission_id: int | None
    form: MissionForm  # a copy of the form as it was checked
    clean: CleanMission

    def fits(self, ctx: Context, form: MissionForm, mission_id: int | None) -> bool:
        """The same caller submits the same form for the same mission."""
        caller = ctx.caller
        return (self.community_id, self.member_id, self.locale, self.mission_id) == (
            caller.community_id,
            caller.member_id,
            caller.locale,
            mission_id,
        ) and self.form == form


async def check_mission(ctx: Context, form: MissionForm, mission_id: int | None = None) -> Checked:
    """Everything that would refuse the form, read only (run it with write=False before acking).

    What it returns, given to submit_mission (`checked=`), spares validating the form a second time.
    """
    editing = await authored(ctx.session, ctx.caller, mission_id) if mission_id is not None else None
    clean = await _validated(ctx, form, editing)
    await _refuse_repost(ctx, clean, mission_id)
    if mission_id is None:
        await _refuse_over_limit(ctx)
    caller = ctx.caller
    copy = dataclasses.replace(form, trade_ids=list(form.trade_ids))
    return Checked(caller.community_id, caller.member_id, caller.locale, mission_id, copy, clean)


async def _to_save(
    ctx: Context, form: MissionForm, existing: Mission | None, checked: Checked | None
) -> tuple[CleanMission, list[Row[Any]], str]:
    """The clean mission, its trades (id, name, channel id) in order and its sector's name.

    A check of this same form (check_mission, run just before) is trusted while its trades and its
    sector still exist; else the form is validated again, in this transaction, and refused as it is now.
    """
    if checked is not None and checked.fits(ctx, form, existing.id if existing is not None else None):
        found = await _trades_and_sector(ctx, checked.clean)
        if found is not None:
            return (checked.clean, *found)
    clean = await _validated(ctx, form, existing)
    found = await _trades_and_sector(ctx, clean)
    assert found is not None, "validated in this transaction"
    return (clean, *found)


async def _trades_and_sector(ctx: Context, clean: CleanMission) -> tuple[list[Row[Any]], str] | None:
    """The mission's trades and its sector's name; None when one of them is no longer the community's."""
    trades = await trades_of(ctx.session, ctx.community_id, clean.trade_ids)
    sector: str | None = ""
    if clean.sector_id is not None:
        sector = await sector_name(ctx.session, ctx.community_id, clean.sector_id)
    if len(trades) != len(clean.trade_ids) or sector is None:
        return None
    return trades, sector


@dataclass(frozen=True)
class Submitted:
    mission_id: int
    created: bool
    similar: tuple[int, str] | None
    later: Later[SyncResult]
    channel_names: dict[str, str]

    @property
    def published(self) -> SyncResult | None:
        return self.later.value


async def submit_mission(
    ctx: Context,
    form: MissionForm,
    *,
    origin_channel_id: str | None,
    mission_id: int | None = None,
    checked: Checked | None = None,
) -> Submitted:
    """/mission submitted (or edited): validate, refuse a repost or the weekly limit, save, plan, post.

    `checked`, what check_mission returned for this form, is not validated again. A new mission's card
    is built here from what this transaction wrote; an edited one is read again once committed (its
    candidates may change meanwhile).
    """
    now = ctx.clock.now()
    existing = await authored(ctx.session, ctx.caller, mission_id) if mission_id is not None else None
    if existing is not None and existing.status not in LIVE:
        raise UserError("missions.errors.not_live")
    clean, trades, sector = await _to_save(ctx, form, existing, checked)
    if existing is not None and existing.author_member_id != ctx.caller.member_id:
        # A moderator's edit: the confidential client (seen by the author and the team only) is kept.
        clean = dataclasses.replace(clean, client_name=existing.client_name)
    if existing is None:  # the author's turn first: a second submit of the same form is its repost
        await hold_allowance(ctx.session, ctx.community_id, ctx.caller.member_id, now)
    await _refuse_repost(ctx, clean, mission_id)
    similar = None
    if existing is None:
        limit = (await ctx.settings()).missions_per_week
        next_at = await claim_allowance(ctx.session, ctx.community_id, ctx.caller.member_id, now, limit)
        if next_at is not None:
            _limit_error(ctx, next_at)
        found = await similar_open(ctx.session, ctx.community_id, ctx.caller.member_id, clean)
        similar = (found.id, found.title) if found is not None else None
    previous = existing.answer_by if existing is not None else None
    saved = await save_mission(
        ctx.session, ctx.caller, clean, now, origin_channel_id=origin_channel_id, mission=existing
    )
    await plan_jobs(ctx, saved.id, clean.answer_by, previous)
    services, community_id, saved_id = ctx.services, ctx.community_id, saved.id
    channel_names: dict[str, str] = {}  # filled by the bindings when they know channel names; ids otherwise
    if existing is None:
        view = await new_mission_view(ctx.session, saved.id, saved.values, trades, sector)
        card = mission_card(ctx.catalog, ctx.caller.community_locale, view)
        channels = mission_channels((await ctx.settings()).missions_channel_id, view)
        if not channels:  # shared from a private place (Slack's DM with the app) and no channel set
            raise UserError("missions.errors.nowhere")
        owner = PostOwner(community_id, FEATURE, saved_id, view.author_member_id)
        place = (ctx.caller.platform, ctx.caller.community_external_id)
        posts = await posted(ctx.session, owner)  # none, unless a deleted mission's id came back

        async def publish(_notifier: Notifier | None) -> SyncResult:
            result = await sync_card(services, owner, card, channels, place=place, posts=posts)
            if result.failed:
                result = await _where_shared(services, owner, card, origin_channel_id, channels, result)
            await _retry_later(services, community_id, saved_id, result)
            return result

    else:

        async def publish(_notifier: Notifier | None) -> SyncResult:
            return await publish_mission(services, community_id, saved_id)

    return Submitted(saved_id, existing is None, similar, ctx.after_commit(publish), channel_names)


async def _live(ctx: Context, mission_id: int, *, hold: bool = False) -> Mission:
    """The mission, refused unless live; with `hold`, its turn taken first (`hold_live`) for a change."""
    if hold and not await hold_live(ctx.session, ctx.community_id, mission_id):
        await get_mission(ctx.session, ctx.community_id, mission_id)  # NotFound when not this community's
        raise UserError("missions.errors.not_live")
    mission = await get_mission(ctx.session, ctx.community_id, mission_id)
    if mission.status not in LIVE:
        raise UserError("missions.errors.not_live")
    return mission


async def check_interest(ctx: Context, mission_id: int) -> str:
    """Before the note form opens: the mission exists here and takes candidates; its title."""
    mission = await _live(ctx, mission_id)
    if mission.author_member_id == ctx.caller.member_id:
        raise UserError("missions.errors.own_mission")
    return mission.title


async def show_interest(ctx: Context, mission_id: int, note: str = "") -> bool:
    """I'm interested: one candidacy per member (twice at once makes one); the author gets a DM."""
    if len(note) > MAX_NOTE:
        raise InvalidInput({"note": ("missions.errors.too_long", {"max": MAX_NOTE, "length": len(note)})})
    mission = await _live(ctx, mission_id, hold=True)
    if mission.author_member_id == ctx.caller.member_id:
        raise UserError("missions.errors.own_mission")
    created = await add_candidacy(ctx.session, ctx.caller, mission, note.strip(), ctx.clock.now())
    if created:
        services, community_id, member_id = ctx.services, ctx.community_id, ctx.caller.member_id

        async def cards_and_author(_notifier: Notifier | None) -> bool:
            """Every card edited with the new counts, then the author's DM: one read for all of it."""
            author: Row[str, str | None] | None = None
            async with services.db.transaction(write=False) as session:
                shown = await _read_shown(session, services, community_id, mission_id, channels=False)
                if shown is None:
                    return False
                view = shown.view
                candidate = next((c for c in view.candidates if c.member_id == member_id), None)
                if candidate is not None and view.author_member_id is not None:
                    # Only this candidate's profile summary: the DM shows no one else.
                    profiles = await candidate_profiles(session, community_id, [member_id])
                    candidate = dataclasses.replace(candidate, profile=profiles.get(member_id))
                    author = (
                        await session.execute(
                            select(Member.platform_user_id, Member.locale).where(
                                Member.community_id == community_id, Member.id == view.author_member_id
                            )
                        )
                    ).first()
            platform, external_id = shown.place
            await edit_posted(services, shown.owner, platform, external_id, shown.posts, shown.card)
            if candidate is None or author is None or view.author_member_id is None:
                return False
            shown_candidate = candidate
            return await _dm(services, community_id, view.author_member_id,
                             lambda locale: candidacy_dm(services.catalog, locale, view, shown_candidate),
                             about=(shown_candidate.member_id,))

        ctx.after_commit(cards_and_author)
    return created


async def withdraw(ctx: Context, mission_id: int) -> bool:
    mission = await _live(ctx, mission_id, hold=True)  # never beside a Confirm: see confirm_team
    removed = await remove_candidacy(ctx.session, ctx.caller, mission.id)
    if removed:
        await reopen_teamless(ctx.session, ctx.community_id, [mission_id])  # the last selected one left
        _refresh(ctx, mission_id)
    return removed


async def _selected_count(ctx: Context, mission_id: int) -> int:
    return int(
        await ctx.session.scalar(
            select(func.count())
            .select_from(Candidacy)
            .where(
                Candidacy.community_id == ctx.community_id,
                Candidacy.mission_id == mission_id,
                Candidacy.selected,
            )
        )
        or 0
    )


async def candidates_of(ctx: Context, mission_id: int, page: int = 0) -> Card:
    """The author's (or a moderator's) view of the candidates, with the select of collaborators.

    The page's candidates who left the community are marked (asked to the platform: read only, so
    no write lock is held meanwhile).
    """
    mission = await authored(ctx.session, ctx.caller, mission_id)
    view = await load_view(ctx.session, mission, with_profiles=True)
    page, shown = page_of_candidates(view, page)
    caller = ctx.caller
    gone = await departed(ctx.services, caller, [c.user_id for c in shown])
    left = frozenset(c.member_id for c in shown if c.user_id in gone)
    return candidates_card(ctx.catalog, caller.locale, view, page, left)


async def select_team(ctx: Context, mission_id: int, member_ids: list[str], page: int = 0,
                      shown: tuple[int, int] | None = None) -> int:
    """The author's choice on one page of candidates: exactly these of that page (the others' stay).

    The page is the candidacies its select showed (`shown`, first and last ids, in applying order),
    whoever withdrew or applied since; a select without them (an older version's) is the page as it
    is now. The mission moves to team forming (or back to open). Returns the page to show again
    (`candidates_of`: read only, it asks the platform who left).
    """
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if mission.status not in LIVE or not await hold_live(ctx.session, ctx.community_id, mission_id):
        raise UserError("missions.errors.not_live")
    before = await load_view(ctx.session, mission)
    page, on_screen = page_of_candidates(before, page)
    if shown is not None:
        on_screen = [c for c in before.candidates if shown[0] <= c.candidacy_id <= shown[1]]
    on_page = {c.member_id for c in on_screen}
    chosen = {whole_number(m, 9) for m in member_ids} & on_page
    me = ctx.caller.member_id
    if me != mission.author_member_id and me in chosen and not any(
        c.member_id == me and c.selected for c in on_screen
    ):  # a moderator helping to staff may not put themselves on the team (its details are the author's)
        raise UserError("missions.errors.not_self_select")
    wanted = [c.member_id for c in before.candidates
              if c.member_id in chosen or (c.selected and c.member_id not in on_page)]
    count = await set_selection(ctx.session, ctx.community_id, mission_id, wanted)
    now = ctx.clock.now()
    if count:
        await move(ctx.session, ctx.community_id, mission_id, ("open",), "forming", now)
    else:
        await move(ctx.session, ctx.community_id, mission_id, ("forming",), "open", now)
    _refresh(ctx, mission_id)
    return page


async def confirm_team(ctx: Context, mission_id: int) -> str:
    """Team forming -> staffed: each selected member gets the confidential details, the others a kind note.

    A selected member who left the community is not sent the details; the author is told who did not
    get them (left, DMs closed, or a kept DM that finally failed: `UNREACHED`).
    """
    await authored(ctx.session, ctx.caller, mission_id)
    # Moved first, then counted: the move holds the mission, so a withdrawal (which holds it too)
    # is either counted out here or refused as "no longer live", never accepted beside a staffing.
    if not await move(ctx.session, ctx.community_id, mission_id, ("forming",), "staffed", ctx.clock.now()):
        await _refuse_confirm(ctx, mission_id)
    if not await _selected_count(ctx, mission_id):
        raise UserError("missions.errors.no_team")
    mission = await get_mission(ctx.session, ctx.community_id, mission_id)
    await ctx.session.refresh(mission)
    await _cancel_jobs(ctx, mission)
    view = await load_view(ctx.session, mission)
    _refresh(ctx, mission_id)
    services, community_id, caller = ctx.services, ctx.community_id, ctx.caller

    async def tell_everyone(_notifier: Notifier | None) -> int:
        team = [c for c in view.candidates if c.selected]
        gone = await departed(services, caller, [c.user_id for c in team])
        told, unreached, unreached_ids = 0, [], []
        # The team's DM names the author and the team; the others' names nobody.
        named = [m for m in (view.author_member_id, *(c.member_id for c in team)) if m is not None]
        for candidate in view.candidates:
            build = selected_dm if candidate.selected else not_selected_dm
            later: tuple[str, dict[str, Any]] = (
                UNREACHED, {"mission_id": view.id, "member_id": candidate.member_id})
            sent = candidate.user_id not in gone and await _dm(  # a platform failure keeps it in the outbox
                services,
                community_id,
                candidate.member_id,
                lambda locale, build=build: build(services.catalog, locale, view),
                about=named if candidate.selected else (),
                undelivered=later if candidate.selected else None,
            )
            told += sent
            if candidate.selected and not sent:
                unreached.append(candidate.display_name)
                unreached_ids.append(candidate.member_id)
        await tell_unreached(services, community_id, view.author_member_id, view.id, view.title, unreached,
                             invited=False, about=unreached_ids)
        return told

    ctx.after_commit(tell_everyone)
    return ctx.t("missions.team.confirmed", count=sum(c.selected for c in view.candidates))


async def _refuse_confirm(ctx: Context, mission_id: int) -> None:
    """Why a team that is not forming cannot be confirmed: confirmed already, nobody selected, or ended."""
    status = (await get_mission(ctx.session, ctx.community_id, mission_id)).status
    if status == "staffed":
        raise UserError("missions.errors.already_confirmed")
    raise UserError("missions.errors.no_team" if status == "open" else "missions.errors.not_live")


async def ask_close(ctx: Context, mission_id: int) -> Card:
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if mission.status not in (*LIVE, "staffed"):
        raise UserError("missions.errors.not_live")
    return close_card(ctx.catalog, ctx.caller.locale, await load_view(ctx.session, mission))


async def close_mission(ctx: Context, mission_id: int, outcome: str) -> str:
    """Closed as won / lost / cancelled by the author or a moderator; every card shows it, buttons gone."""
    if outcome not in OUTCOMES:
        raise NotFound("missions.errors.not_found")
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if not await move(
        ctx.session,
        ctx.community_id,
        mission_id,
        (*LIVE, "staffed"),
        "closed",
        ctx.clock.now(),
        outcome=outcome,
    ):
        raise UserError("missions.errors.not_live")
    await _cancel_jobs(ctx, mission)
    _refresh(ctx, mission_id)
    return ctx.t("missions.closed", outcome=ctx.t(f"missions.outcome.{outcome}"))


async def extend_mission(ctx: Context, mission_id: int) -> str:
    """From the expiry warning: the answer-by date moves on (at most 90 days from today); jobs re-planned."""
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if mission.status not in LIVE:
        raise UserError("missions.errors.not_live")
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    days = await ctx.setting(EXTEND_DAYS)
    previous = mission.answer_by
    mission.answer_by = min(
        max(previous, today) + timedelta(days=days), today + timedelta(days=MAX_ANSWER_DAYS)
    )
    mission.updated_at = ctx.clock.now()
    await ctx.session.flush()
    await plan_jobs(ctx, mission.id, mission.answer_by, previous)
    _refresh(ctx, mission_id)
    return ctx.t("missions.extended", date=format_date(mission.answer_by, ctx.caller.locale))


async def edit_mission(ctx: Context, mission_id: int) -> FormStart:
    """Edit on a card: only the author or a moderator, only a live mission; the form pre-filled."""
    mission = await authored(ctx.session, ctx.caller, mission_id)
    if mission.status not in LIVE:
        raise UserError("missions.errors.not_live")
    return await open_form(ctx, mission_id)


PAGING = "missions"  # its searches' key in bot.paging


async def find_missions(ctx: Context, typed: ListFilters) -> Card:
    """/missions with its filters: checked and resolved (InvalidInput naming a bad one), first page."""
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    query = await resolve(ctx.session, ctx.community_id, ctx.caller.locale, typed, today)
    return await _listing(ctx, query, 0, None, None)


async def turn_missions_page(ctx: Context, token: str, page: int, cursor: str | None = None) -> Card:
    """Previous / Next: a page of a stored search (another community's token is NotFound).

    `cursor` (`_search.Cursor`): the page continues after the last mission shown, or before the
    first; a button of an older version has none, and its page is counted from the start.
    """
    query = paging.pending(PAGING, ctx.community_id, token)  # still being stored by this process
    if query is None:
        query = await stored(ctx.session, ctx.community_id, token)
    return await _listing(ctx, query, min(page, MAX_PAGE), token, Cursor.read(cursor))


async def list_missions(ctx: Context, page: int = 0, scope: str = "all", trade_id: int = 0) -> Card:
    """The paging buttons of earlier cards (`missions:list:<page>:<scope>:<trade>`): the same search.

    They carry no cursor: the page is counted from the start.
    """
    return await _listing(
        ctx, Query(scope=scope if scope in SCOPES else "all", trade_id=trade_id), page, None, None
    )


async def _listing(ctx: Context, query: Query, page: int, token: str | None, cursor: Cursor | None) -> Card:
    found = await search(ctx.session, ctx.community_id, ctx.caller.member_id, query, page, cursor)
    if token is None and (found.next or found.previous):
        token = query.token(ctx.community_id)
    if token is not None:
        # Stored (or kept in use) once the member has the answer: the search itself only reads. A
        # page asked meanwhile finds the query in this process (bot.paging).
        db, community_id, now = ctx.services.db, ctx.community_id, ctx.clock.now()
        ended = paging.storing(PAGING, community_id, token, query)

        async def keep(_notifier: Notifier | None) -> None:
            try:
                async with db.transaction() as session:
                    await remember(session, community_id, query, now)
            finally:
                ended()

        ctx.after_commit(keep)
    return list_card(
        ctx.catalog,
        ctx.caller.locale,
        await listed(ctx.session, ctx.community_id, found.missions),
        page=found.number,
        token=token,
        previous=found.previous.text() if found.previous else None,
        following=found.next.text() if found.next else None,
        scope=query.scope,
        shown=query.shown,
    )
