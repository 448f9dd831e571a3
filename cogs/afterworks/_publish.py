"""The use cases of afterworks (run through bot.usecase.run) and the platform work done after they commit."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from bot import modlog, posting, submissions
from bot.cards import Attachment, Card
from bot.errors import InvalidInput, UserError
from bot.notifier import EventSpec, Notifier
from bot.outbox import send_dm
from bot.posting import PostOwner, SyncResult, edit_posted, posted, posts_of, sync_card
from bot.scheduler import PENDING, SKIPPED, JobRun, Scheduler, queue
from bot.usecase import Context, Later
from cogs.afterworks._cards import afterwork_card, list_card, notice_card, understood_text, where_text
from cogs.afterworks._domain import (
    FEATURE,
    REMIND,
    Answered,
    Person,
    _lock,
    answer_held,
    check_answers_open,
    check_manager,
    check_open,
    current_view,
    dms_wanted,
    drop_reminders,
    forget_answers,
    get_afterwork,
    get_series,
    load_view,
    person,
    plan_reminders,
    set_capacity,
)
from cogs.afterworks._form import NONE, AfterworkForm, Details, validate
from cogs.afterworks._ics import calendar_file
from cogs.afterworks._recurrence import nth_of, occurrence_wall, post_at, to_utc
from cogs.afterworks.models import (
    CANCELLED,
    GOING,
    KINDS,
    MONTHLY,
    SCHEDULED,
    Afterwork,
    Delivery,
    Preference,
    Rsvp,
    Series,
)
from storage.models import Community, Job, Member
from storage.settings import get_settings
from storage.sql import dialect_insert
from storage.text import city_key

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

log = logging.getLogger(__name__)
SYNC = "afterworks.sync"  # platform work queued where no effect can run (a privacy deletion)
# Moderators' notices are bot.modlog's; jobs of this kind queued by earlier versions still run.
NO_EVENTS = "afterworks.no_events"
NOTICES = ("no_events", "channel_gone")
NEXT = "afterworks.next"  # posts a series' next occurrence
CLOSE = "afterworks.close"  # edits the card when answers close at the RSVP cutoff
CARD = "afterworks.card"  # redoes a card the platform failed to post or edit (a 5xx): bot.posting.retry_later
EVENT = "afterworks.event"  # the Discord scheduled event, when Discord failed to follow (`sync_event`)
LIST_MAX = 10


# -- platform work, after commit -------------------------------------------------------------------


async def _card(
    services: Services, community_id: int, afterwork_id: int
) -> tuple[Card, Afterwork, str, str, list[Any]]:
    """The card as it is now, the afterwork, the community's platform and id, and the card's posts."""
    async with services.db.transaction(write=False) as session:
        afterwork = await get_afterwork(session, community_id, afterwork_id)
        community = await session.get(Community, community_id)
        assert community is not None
        view = await load_view(session, afterwork)
        return (
            afterwork_card(services.catalog, community.locale, view, services.clock.now()),
            afterwork,
            community.platform,
            community.external_id,
            await posted(session, PostOwner(community_id, FEATURE, afterwork_id)),
        )


async def refresh_card(services: Services, community_id: int, afterwork_id: int) -> SyncResult:
    """Edit the posted card in place (answers, edits, cancellation)."""
    card, afterwork, platform, external_id, posts = await _card(services, community_id, afterwork_id)
    owner = PostOwner(community_id, FEATURE, afterwork_id, afterwork.organizer_id)
    return await edit_posted(services, owner, platform, external_id, posts, card)


def _event_spec(afterwork: Afterwork) -> EventSpec:
    return EventSpec(
        name=afterwork.title,
        start=afterwork.starts_at,
        location=where_text(afterwork) or "—",
        description=afterwork.description[:1000],
        end=afterwork.starts_at + timedelta(minutes=afterwork.duration_minutes),
    )


async def publish(
    services: Services, community_id: int, afterwork_id: int, channel_id: str | None, *,
    retry_later: bool = True,
) -> SyncResult:
    """Post the card in `channel_id`, or (None) edit it where it is posted.

    A card the platform failed to post or edit for now (`SyncResult.retrying`) is redone by the CARD
    job a few minutes later (`retry_later`), which raises while it still fails (the jobs' backoff).
    The Discord scheduled event is `sync_event`'s.
    """
    card, afterwork, platform, external_id, posts = await _card(services, community_id, afterwork_id)
    result = await sync_card(
        services,
        PostOwner(community_id, FEATURE, afterwork_id, afterwork.organizer_id),
        card,
        [channel_id] if channel_id else None,
        place=(platform, external_id),
        posts=posts,
    )
    if retry_later:
        await posting.retry_later(services, result, CARD, community_id, afterwork_id,
                                  {"afterwork_id": afterwork_id, "channel": channel_id})
    return result


async def publish_new(
    services: Services, community_id: int, afterwork_id: int, channel: str, fallbacks: list[str | None], *,
    configured: str | None,
) -> SyncResult:
    """Post a new afterwork's card in `channel`, or where it falls back to when that one cannot take it.

    When `channel` is gone or refuses the bot, the card goes to the first of `fallbacks` that takes it
    (where it was asked, a series' previous card): answers must stay possible. When the channel that
    failed is the afterworks channel (`configured`), the moderators' log says so, once per channel.
    """
    result = await publish(services, community_id, afterwork_id, channel)
    if not result.failed:
        return result
    tried = {channel}
    for fallback in fallbacks:
        if fallback and fallback not in tried:
            tried.add(fallback)
            result = await publish(services, community_id, afterwork_id, fallback)
            if not result.failed:
                break
    if channel == configured:
        async with services.db.transaction() as session:
            await modlog.queue_notice(services, session, community_id, "afterworks.channel_gone",
                                      once=channel, channel=channel)
    return result


async def sync_event(services: Services, community_id: int, afterwork_id: int) -> bool:
    """`match_event` now; when Discord fails (a 5xx), the EVENT job does it a few minutes later.

    Members who marked the event "interested" must not keep a cancelled afterwork in their Events list,
    nor miss a new one, because Discord failed for a moment.
    """
    try:
        return await match_event(services, community_id, afterwork_id)
    except Exception as error:
        log.warning("afterwork %s: its Discord event is not in line yet, retried later: %r", afterwork_id,
                    error)
        now = services.clock.now()
        async with services.db.transaction() as session:
            await services.scheduler.schedule(
                session, kind=EVENT, due_at=now + posting.RETRY_AFTER, community_id=community_id,
                payload={"afterwork_id": afterwork_id},
                dedupe_key=f"{EVENT}:{community_id}:{afterwork_id}:{int(now.timestamp()) // 60}",
            )
        return False


async def match_event(services: Services, community_id: int, afterwork_id: int) -> bool:
    """Create, edit or cancel the afterwork's Discord scheduled event so that it shows the afterwork now.

    Idempotent: the afterwork is read when it runs. No event is created for a date cancelled or begun
    already; Discord refusing one (no Create Events permission) is told to the moderators once. Raises
    when Discord fails. True when the event was created or changed.
    """
    async with services.db.transaction(write=False) as session:
        afterwork = await session.scalar(
            select(Afterwork).where(Afterwork.community_id == community_id, Afterwork.id == afterwork_id)
        )
        community = await session.get(Community, community_id)
    notifier = services.notifiers.get(community.platform) if community is not None else None
    if afterwork is None or community is None or community.platform != "discord" or notifier is None:
        return False
    if afterwork.event_id is not None:
        if afterwork.status == CANCELLED:
            return await notifier.cancel_event(community.external_id, afterwork.event_id)
        return await notifier.edit_event(community.external_id, afterwork.event_id, _event_spec(afterwork))
    if afterwork.status == CANCELLED or afterwork.starts_at <= services.clock.now():
        return False
    event_id = await notifier.create_event(community.external_id, _event_spec(afterwork))
    async with services.db.transaction() as session:
        if event_id is None:
            await modlog.queue_notice(services, session, community_id, "afterworks.no_events", once="events")
            return False
        stored = await session.execute(
            update(Afterwork)
            .where(Afterwork.community_id == community_id, Afterwork.id == afterwork_id,
                   Afterwork.event_id.is_(None))
            .values(event_id=event_id)
            .execution_options(synchronize_session=False)
        )
        changed = await session.scalar(select(Afterwork.sequence).where(Afterwork.id == afterwork_id))
    if stored.rowcount != 1:  # type: ignore[attr-defined]  # another run created it meanwhile
        await notifier.cancel_event(community.external_id, event_id)
        return False
    if changed != afterwork.sequence:  # edited or cancelled while the event was created: in line again
        await match_event(services, community_id, afterwork_id)
    return True


async def tell(
    services: Services, community_id: int, afterwork_id: int, people: list[Person], key: str
) -> int:
    """DM each of `people` (who did not turn afterwork DMs off) a notice about this afterwork."""
    async with services.db.transaction(write=False) as session:
        afterwork = await get_afterwork(session, community_id, afterwork_id)
        community = await session.get(Community, community_id)
        assert community is not None
        wanted = await dms_wanted(session, community_id, [p.member_id for p in people])
    if community.platform not in services.notifiers:
        return 0
    sent = 0
    # Its place (`where`, the organizer's text) is shown by every notice but a cancellation's.
    shows = () if key == "cancelled" or afterwork.organizer_id is None else (afterwork.organizer_id,)
    for who in people:
        if who.member_id in wanted:  # a failed DM is kept in the outbox: the others are still told
            card = notice_card(services.catalog, who.locale or community.locale, key, afterwork,
                               timezone=community.timezone)
            sent += await send_dm(services, community, who.member_id, who.user_id, card, about=shows)
    return sent


# -- use cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    details: Details
    understood: str


async def check_form(ctx: Context, form: AfterworkForm, afterwork_id: int | None = None) -> Checked:
    """Read the form (InvalidInput naming every problem); run with write=False before any write.

    With `afterwork_id` (an edit), the saved cutoff is kept even once passed when answers have closed
    already; answers still open must not close at once.
    """
    saved = None if afterwork_id is None else await get_afterwork(ctx.session, ctx.community_id, afterwork_id)
    kept = await _saved(ctx, saved) if saved else {}
    details = validate(form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale, **kept)
    if saved is not None and details.capacity is not None and details.capacity < saved.going_count:
        # As the save would refuse it (set_capacity), but before any write: next to its field.
        going = saved.going_count
        below = ("afterworks.errors.capacity_below_going", {"going": going, "count": going})
        raise InvalidInput({"capacity": below})
    return Checked(details, understood_text(ctx.catalog, ctx.caller.locale, details, ctx.caller.timezone))


async def _saved(ctx: Context, afterwork: Afterwork) -> dict[str, Any]:
    """What an edit's form is checked against, as `validate`'s keywords.

    Its saved cutoff, closed or not, its series' rule, and its saved start. Closed: the saved closing
    time passed (answers closed already). The rule is the series' while it goes on: its next dates copy
    the edited date's cutoff. The start is kept when its time is left as the form showed it: the same
    instant, also in an hour a daylight-saving change repeats.
    """
    series = await get_series(ctx.session, ctx.community_id, afterwork.series_id)
    rule = series.rule if series is not None and series.ended_at is None else None
    closed = bool(afterwork.rsvp_cutoff_minutes) and ctx.clock.now() >= afterwork.closes_at
    return {"kept_cutoff": afterwork.rsvp_cutoff_minutes, "closed": closed, "series_rule": rule,
            "kept_start": afterwork.starts_at}


@dataclass(frozen=True)
class Created:
    afterwork_id: int
    channel_id: str | None
    later: Later[SyncResult]

    @property
    def posted(self) -> bool:
        return self.later.value is not None and bool(self.later.value.posted)

    @property
    def posted_in(self) -> str | None:
        """Where the card went: the afterworks channel, or where it was asked when that one is gone."""
        done = self.later.value
        return done.posted[0] if done is not None and done.posted else None

    @property
    def retrying(self) -> bool:
        """Not posted because the platform failed for now: the CARD job posts it later."""
        return self.later.value is not None and bool(self.later.value.retrying)


async def card_job(services: Services, run: JobRun) -> None:
    """The retry of a card the platform failed to post (in `channel`) or edit (`channel` None)."""
    assert run.community_id is not None
    channel = run.payload.get("channel")
    result = await publish(services, run.community_id, int(run.payload["afterwork_id"]),
                           str(channel) if channel else None, retry_later=False)
    if result.retrying:
        raise RuntimeError(f"afterwork {run.payload['afterwork_id']}'s card still not posted")


async def create_afterwork(
    ctx: Context, form: AfterworkForm, *, origin_channel_id: str | None, organizer_id: int | None = None,
    submission: str | None = None, slot_start: datetime | None = None,
) -> Created:
    """Save, plan the reminders; once committed, post the card and create the Discord event.

    `organizer_id`: a date poll's organizer, when a moderator turned its slot into the afterwork.
    `submission`: the form's key (bot.submissions); the same form submitted again creates nothing.
    `slot_start`: that slot's instant, which the form's local time names (also in an hour an autumn
    change repeats: "dans 1 heure" typed at 01:15 that night).
    """
    details = validate(form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale, kept_start=slot_start)
    now = ctx.clock.now()
    settings = await ctx.settings()
    channel = settings.afterworks_channel_id or origin_channel_id
    if not channel:  # asked from a private place (Slack's DM with the app) and no channel set
        raise UserError("afterworks.errors.nowhere")
    afterwork = Afterwork(
        community_id=ctx.community_id,
        organizer_id=organizer_id or ctx.caller.member_id,
        created_at=now,
        updated_at=now,
        origin_channel_id=origin_channel_id,
    )
    _apply(afterwork, details)
    ctx.session.add(afterwork)
    if details.recurrence != NONE:
        series = Series(
            community_id=ctx.community_id,
            organizer_id=organizer_id or ctx.caller.member_id,
            rule=details.recurrence,
            first_wall=details.wall_time,
            timezone=ctx.caller.timezone,
            nth=nth_of(details.wall_time.date()) if details.recurrence == MONTHLY else None,
            until=details.until,
            created_at=now,
        )
        ctx.session.add(series)
        await ctx.session.flush()
        afterwork.series_id, afterwork.occurrence = series.id, 0
    await ctx.session.flush()
    await submissions.claim(ctx, submission, "afterworks.afterwork", afterwork.id)
    await plan_reminders(ctx.session, ctx.scheduler, afterwork, list(settings.reminder_offsets_minutes), now)
    await plan_close(ctx.session, ctx.scheduler, afterwork)
    if details.recurrence != NONE:
        await plan_next(ctx.session, ctx.scheduler, series, afterwork)
    services, cid, aid = ctx.services, ctx.community_id, afterwork.id

    configured = settings.afterworks_channel_id

    async def post(_notifier: Notifier | None) -> SyncResult:
        return await publish_new(services, cid, aid, channel, [origin_channel_id], configured=configured)

    async def calendar(_notifier: Notifier | None) -> bool:
        return await sync_event(services, cid, aid)

    created = Created(aid, channel, ctx.after_commit(post))
    ctx.after_commit(calendar)
    return created


def _apply(afterwork: Afterwork, details: Details) -> None:
    afterwork.title, afterwork.kind = details.title, details.kind
    afterwork.starts_at, afterwork.duration_minutes = details.starts_at, details.duration_minutes
    afterwork.place, afterwork.link = details.place, details.link
    afterwork.city, afterwork.city_key = details.city, city_key(details.city)
    afterwork.capacity, afterwork.description = details.capacity, details.description
    afterwork.rsvp_cutoff_minutes = details.cutoff_minutes


async def check_answer(ctx: Context, afterwork_id: int) -> None:
    """Read-only: the afterwork exists here and still takes answers (before the platform is answered)."""
    check_answers_open(
        await get_afterwork(ctx.session, ctx.community_id, afterwork_id),
        ctx.clock.now(),
        ctx.caller.timezone,
        ctx.caller.locale,
    )


async def answer_afterwork(ctx: Context, afterwork_id: int, choice: str) -> Answered:
    """Going / Maybe / Can't; the card follows, and whoever a seat went to is told.

    What the card shows (the view, its posts) is read in this transaction, so that after the commit
    only the card's rendering and the platform's edit remain.
    """
    answered, afterwork, counts = await answer_held(
        ctx.session,
        ctx.community_id,
        afterwork_id,
        ctx.caller.member_id,
        choice,
        ctx.clock.now(),
        ctx.caller.timezone,
        ctx.caller.locale,
    )
    if answered.changed:
        owner = PostOwner(ctx.community_id, FEATURE, afterwork_id, afterwork.organizer_id)
        view = await current_view(ctx.session, afterwork, counts)
        posts = await posted(ctx.session, owner)
        # Every change of the card bumps one of these: the newest card wins in this process.
        version = afterwork.rsvp_seq + afterwork.sequence
        services, caller = ctx.services, ctx.caller
        locale, platform, external_id = caller.community_locale, caller.platform, caller.community_external_id

        async def card(_notifier: Notifier | None) -> SyncResult:
            shown = afterwork_card(services.catalog, locale, view, services.clock.now())
            return await edit_posted(services, owner, platform, external_id, posts, shown, version)

        _after_change(ctx, afterwork_id, promoted=answered.promoted, card=card)
    return answered


def _after_change(
    ctx: Context,
    afterwork_id: int,
    *,
    promoted: list[Person],
    told: list[Person] | None = None,
    key: str = "",
    event: bool = False,
    card: Callable[[Notifier | None], Awaitable[SyncResult]] | None = None,
) -> None:
    services, cid = ctx.services, ctx.community_id

    async def refresh(_notifier: Notifier | None) -> SyncResult:
        return await refresh_card(services, cid, afterwork_id)

    ctx.after_commit(card or refresh)
    if event:

        async def calendar(_notifier: Notifier | None) -> bool:
            return await sync_event(services, cid, afterwork_id)

        ctx.after_commit(calendar)
    if promoted:

        async def promotion(_notifier: Notifier | None) -> int:
            return await tell(services, cid, afterwork_id, promoted, "promoted")

        ctx.after_commit(promotion)
    if told:

        async def notice(_notifier: Notifier | None) -> int:
            return await tell(services, cid, afterwork_id, told, key)

        ctx.after_commit(notice)


async def _going(session: AsyncSession, community_id: int, afterwork_id: int, but: int) -> list[Person]:
    rows = await session.execute(
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale)
        .join(Rsvp, Rsvp.member_id == Member.id)
        .where(
            Rsvp.community_id == community_id,
            Rsvp.afterwork_id == afterwork_id,
            Rsvp.status == GOING,
            Member.id != but,
        )
    )
    return [Person(*row) for row in rows]


async def edit_form(ctx: Context, afterwork_id: int) -> Afterwork:
    """Read-only: the afterwork to edit, if the caller organizes it or moderates, and it is still ahead."""
    afterwork = await get_afterwork(ctx.session, ctx.community_id, afterwork_id)
    check_manager(afterwork, ctx.caller.member_id, ctx.caller.is_moderator)
    check_open(afterwork, ctx.clock.now())
    return afterwork


async def edit_afterwork(ctx: Context, afterwork_id: int, form: AfterworkForm) -> Afterwork:
    """Save; reminders re-planned when the time moved; those going told of a new time or place.

    The event's turn is taken before comparing with what it was: two saves at once (a double submit,
    two devices) compare one after the other, so those going are told of one change once.
    """
    afterwork = await edit_form(ctx, afterwork_id)
    await _lock(ctx.session, ctx.community_id, afterwork_id)  # refused when cancelled meanwhile
    await ctx.session.refresh(afterwork)
    details = validate(form, ctx.caller.timezone, ctx.clock.now(), ctx.caller.locale,
                       **await _saved(ctx, afterwork))
    now = ctx.clock.now()
    moved = details.starts_at != afterwork.starts_at
    relocated = (details.place, details.link, details.city) != (
        afterwork.place,
        afterwork.link,
        afterwork.city,
    )
    promoted = await set_capacity(ctx.session, afterwork, details.capacity, now)
    await ctx.session.refresh(afterwork)
    _apply(afterwork, details)
    afterwork.sequence += 1
    afterwork.updated_at = now
    await plan_close(ctx.session, ctx.scheduler, afterwork)
    if moved:
        await drop_reminders(ctx.session, ctx.scheduler, ctx.community_id, afterwork_id)
        settings = await ctx.settings()
        await plan_reminders(
            ctx.session, ctx.scheduler, afterwork, list(settings.reminder_offsets_minutes), now
        )
    told = (
        await _going(ctx.session, ctx.community_id, afterwork_id, ctx.caller.member_id)
        if moved or relocated
        else []
    )
    promoted_ids = {p.member_id for p in promoted}
    _after_change(
        ctx,
        afterwork_id,
        promoted=promoted,
        told=[p for p in told if p.member_id not in promoted_ids],
        key="changed",
        event=True,
    )
    return afterwork


async def cancel_afterwork(ctx: Context, afterwork_id: int) -> Afterwork:
    """Cancelled: reminders dropped, the card says so, the Discord event is cancelled, those going told.

    In a series this skips one date: the next one is still posted. Claimed by a conditional UPDATE: two
    clicks at once (a double click, two devices) cancel it and tell those going once.
    """
    afterwork = await edit_form(ctx, afterwork_id)
    now = ctx.clock.now()
    claimed = await ctx.session.execute(
        update(Afterwork)
        .where(Afterwork.community_id == ctx.community_id, Afterwork.id == afterwork_id,
               Afterwork.status != CANCELLED, Afterwork.starts_at > now)
        .values(status=CANCELLED, sequence=Afterwork.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("afterworks.errors.cancelled")
    await ctx.session.refresh(afterwork)
    await drop_reminders(ctx.session, ctx.scheduler, ctx.community_id, afterwork_id)
    told = await _going(ctx.session, ctx.community_id, afterwork_id, ctx.caller.member_id)
    _after_change(ctx, afterwork_id, promoted=[], told=told, key="cancelled", event=True)
    return afterwork


@dataclass(frozen=True)
class Ended:
    changed: bool


async def end_series(ctx: Context, afterwork_id: int) -> Ended:
    """The organizer (or a moderator) ends the series of this occurrence: no new date is posted.

    Dates already posted stay (each has its own Cancel). Settled by a conditional UPDATE: two clicks
    end it once.
    """
    afterwork = await get_afterwork(ctx.session, ctx.community_id, afterwork_id)
    check_manager(afterwork, ctx.caller.member_id, ctx.caller.is_moderator)
    series = await get_series(ctx.session, ctx.community_id, afterwork.series_id)
    if series is None:
        raise UserError("afterworks.errors.not_series")
    now = ctx.clock.now()
    result = await ctx.session.execute(
        update(Series)
        .where(Series.community_id == ctx.community_id, Series.id == series.id, Series.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return Ended(False)
    await drop_next(ctx.session, ctx.scheduler, ctx.community_id, series.id)
    shown = list(
        await ctx.session.scalars(
            select(Afterwork.id).where(
                Afterwork.community_id == ctx.community_id,
                Afterwork.series_id == series.id,
                Afterwork.status == SCHEDULED,
                Afterwork.starts_at > now,
            )
        )
    )
    for aid in {afterwork_id, *shown}:  # their cards say the series ended
        _after_change(ctx, aid, promoted=[])
    return Ended(True)


async def upcoming(ctx: Context, city: str = "", kind: str = "") -> Card:
    """/afterworks [city] [kind]: the next afterworks of this community."""
    query = select(Afterwork).where(
        Afterwork.community_id == ctx.community_id,
        Afterwork.status == SCHEDULED,
        Afterwork.starts_at > ctx.clock.now(),
    )
    if city.strip():
        query = query.where(Afterwork.city_key == city_key(city))
    if kind in KINDS:
        query = query.where(Afterwork.kind == kind)
    found = list(await ctx.session.scalars(query.order_by(Afterwork.starts_at, Afterwork.id).limit(LIST_MAX)))
    return list_card(ctx.catalog, ctx.caller.locale, found, timezone=ctx.caller.timezone)


async def calendar_of(ctx: Context, afterwork_id: int) -> Attachment:
    """The .ics file of an afterwork of this community."""
    afterwork = await get_afterwork(ctx.session, ctx.community_id, afterwork_id)
    organizer = await person(ctx.session, ctx.community_id, afterwork.organizer_id)
    series = await get_series(ctx.session, ctx.community_id, afterwork.series_id)
    occurrences = None
    if series is not None:
        occurrences = list(
            await ctx.session.scalars(
                select(Afterwork).where(
                    Afterwork.community_id == ctx.community_id, Afterwork.series_id == series.id
                )
            )
        )
    return calendar_file(
        afterwork,
        ctx.caller.timezone,
        organizer.name if organizer else None,
        ctx.clock.now(),
        series,
        occurrences,
    )


async def set_reminder_dms(ctx: Context, on: bool) -> bool:
    """A member turns afterwork DMs (reminders, promotions, changes) on or off.

    One upsert: the first choice sent twice at once (a double submit, a Slack retry) is no error.
    """
    await ctx.session.execute(
        dialect_insert(ctx.session, Preference)
        .values(community_id=ctx.community_id, member_id=ctx.caller.member_id, dms=on)
        .on_conflict_do_update(index_elements=["community_id", "member_id"], set_={"dms": on})
    )
    return on


# -- jobs -----------------------------------------------------------------------------------------


async def _claim(
    services: Services, run: JobRun, afterwork: Afterwork, target: str, member_id: int | None
) -> int | None:
    """One delivery row per reminder and target: the unique key lets it be sent once, whoever runs it.

    None as well when the afterwork was cancelled or moved since the job read it: the reminders left
    to send then stop (checked in the claim's own write transaction, so a cancellation committed
    before it is always seen).
    """
    async with services.db.transaction() as session:
        still = await session.scalar(
            select(Afterwork.id).where(
                Afterwork.community_id == afterwork.community_id, Afterwork.id == afterwork.id,
                Afterwork.status == SCHEDULED, Afterwork.starts_at == afterwork.starts_at,
            )
        )
        if still is None:
            return None
        stmt = (
            dialect_insert(session, Delivery.__table__)
            .values(
                community_id=afterwork.community_id,
                afterwork_id=afterwork.id,
                member_id=member_id,
                offset_minutes=int(run.payload["offset"]),
                starts_at=afterwork.starts_at,
                target=target,
                sent_at=services.clock.now(),
            )
            .on_conflict_do_nothing()
        )
        return await session.scalar(stmt.returning(Delivery.__table__.c.id))


async def _unclaim(services: Services, delivery_id: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(Delivery).where(Delivery.id == delivery_id))


async def _left_to_a_closer_reminder(session: AsyncSession, run: JobRun, afterwork: Afterwork,
                                     now: datetime) -> bool:
    """Another reminder of this time, at a smaller offset, is due too: its DMs stand for this one's.

    After the bot was down across two offsets (24 h and 1 h before) both run in the same sweep: each
    member going would get two reminders in the same second. Cancelled reminders (the time edited)
    are skipped rows: they do not count.
    """
    offset, start = int(run.payload["offset"]), int(run.payload["starts_at"])
    if now < afterwork.starts_at - timedelta(minutes=offset - 1):
        return False  # less than a minute late: offsets are whole minutes apart, none closer is due yet
    planned = await session.scalars(
        select(Job.payload).where(
            Job.community_id == afterwork.community_id,
            Job.kind == REMIND,
            Job.state != SKIPPED,
            Job.dedupe_key.startswith(f"{REMIND}:{afterwork.community_id}:{afterwork.id}:", autoescape=True),
        )
    )
    return any(
        int(other["starts_at"]) == start
        and int(other["offset"]) < offset
        and afterwork.starts_at - timedelta(minutes=int(other["offset"])) <= now
        for other in planned
    )


async def remind(services: Services, run: JobRun) -> None:
    """A reminder at one offset: a DM to each member going, and at the first offset a post in the channel.

    Sent late only while the event has not started; a failed send gives its claim back and raises, so
    the scheduler retries only what did not go out. When a closer reminder's time has passed too (the
    bot was down across both), only that one's DMs go out: the channel post stays this one's.
    """
    assert run.community_id is not None
    now = services.clock.now()
    async with services.db.transaction(write=False) as session:
        afterwork = await session.scalar(
            select(Afterwork).where(
                Afterwork.community_id == run.community_id, Afterwork.id == int(run.payload["afterwork_id"])
            )
        )
        if (
            afterwork is None
            or afterwork.status != SCHEDULED
            or now >= afterwork.starts_at
            or int(afterwork.starts_at.timestamp()) != int(run.payload["starts_at"])
        ):
            return  # cancelled, started, or moved (its new reminders are other rows)
        community = await session.get(Community, run.community_id)
        assert community is not None
        going = await _going(session, run.community_id, afterwork.id, but=0)
        if await _left_to_a_closer_reminder(session, run, afterwork, now):
            going = []  # their reminder is the closer one's; the channel post stays this one's
        wanted = await dms_wanted(session, run.community_id, [p.member_id for p in going])
        posts = await posts_of(session, run.community_id, FEATURE, afterwork.id)
    notifier = services.notifiers.get(community.platform)
    if notifier is None:
        raise RuntimeError(f"no {community.platform} notifier in this process")
    failed = 0
    for who in going:
        if who.member_id not in wanted:
            continue
        claim = await _claim(services, run, afterwork, f"member:{who.member_id}", who.member_id)
        if claim is None:
            continue
        card = notice_card(services.catalog, who.locale or community.locale, "reminder", afterwork,
                           timezone=community.timezone)
        try:
            await notifier.dm(community.external_id, who.user_id, card)
        except Exception:
            log.exception("afterwork %s: reminder DM to member %s failed", afterwork.id, who.member_id)
            await _unclaim(services, claim)
            failed += 1
    if run.payload.get("channel") and posts:
        claim = await _claim(services, run, afterwork, "channel", None)
        if claim is not None:
            card = notice_card(
                services.catalog, community.locale, "channel_reminder", afterwork,
                timezone=community.timezone, going=afterwork.going_count, count=afterwork.going_count,
            )
            try:
                await notifier.post(community.external_id, posts[0].channel_id, card)
            except Exception:
                log.exception("afterwork %s: reminder post failed", afterwork.id)
                await _unclaim(services, claim)
                failed += 1
    if failed:
        raise RuntimeError(f"{failed} reminder(s) of afterwork {afterwork.id} not sent")


async def sync_job(services: Services, run: JobRun) -> None:
    """Card, Discord event and DMs after a change made without a platform at hand (a privacy deletion)."""
    assert run.community_id is not None
    aid = int(run.payload["afterwork_id"])
    async with services.db.transaction(write=False) as session:
        people = [
            p
            for p in [await person(session, run.community_id, m) for m in run.payload.get("people", [])]
            if p is not None
        ]
    await refresh_card(services, run.community_id, aid)
    await sync_event(services, run.community_id, aid)
    if people and run.payload.get("key"):
        await tell(services, run.community_id, aid, people, str(run.payload["key"]))


async def no_events_notice(services: Services, run: JobRun) -> None:
    """A notice queued by an earlier version (new ones are `bot.modlog` notices), posted the same way.

    Its payload's `key` ("no_events" when none: Discord refused a scheduled event; "channel_gone":
    the afterworks channel is unknown or refuses the bot) and `params` name the catalog's text.
    """
    assert run.community_id is not None
    key = run.payload.get("key") if run.payload.get("key") in NOTICES else "no_events"
    await modlog.post_notice(services, run.community_id, f"afterworks.{key}", run.payload.get("params") or {})


# -- series: the next occurrence ----------------------------------------------------------------


def _next_key(community_id: int, series_id: int) -> str:
    return f"{NEXT}:{community_id}:{series_id}:"


async def plan_next(session: AsyncSession, scheduler: Scheduler, series: Series, previous: Afterwork) -> bool:
    """Plan the job that posts the occurrence after `previous`; False past the series' last day.

    Due when `previous` ends, or 7 days before the next one starts, whichever is later.
    """
    k = (previous.occurrence or 0) + 1
    wall = occurrence_wall(series.first_wall, series.rule, series.nth, k)
    if series.until is not None and wall.date() > series.until:
        return False
    starts_at = to_utc(wall, series.timezone)
    ends_at = previous.starts_at + timedelta(minutes=previous.duration_minutes)
    await scheduler.schedule(
        session,
        kind=NEXT,
        due_at=post_at(ends_at, starts_at, previous.rsvp_cutoff_minutes),
        community_id=series.community_id,
        payload={"series_id": series.id, "occurrence": k, "after": previous.id},
        dedupe_key=f"{_next_key(series.community_id, series.id)}{k}",
    )
    return True


async def drop_next(session: AsyncSession, scheduler: Scheduler, community_id: int, series_id: int) -> None:
    ids = list(
        await session.scalars(
            select(Job.id).where(
                Job.community_id == community_id,
                Job.kind == NEXT,
                Job.state == PENDING,
                Job.dedupe_key.startswith(_next_key(community_id, series_id), autoescape=True),
            )
        )
    )
    for job_id in ids:
        await scheduler.cancel(session, job_id=job_id, community_id=community_id)


async def next_occurrence(services: Services, run: JobRun) -> None:
    """Post a series' next occurrence, then plan the one after.

    A copy of the previous one (as last edited) at the rule's next local time, with its own answers,
    reminders, card and Discord event.

    The unique (series, occurrence) key lets only one process create it. An occurrence whose time passed
    while the bot was down is not posted; the one after it is planned.
    """
    assert run.community_id is not None
    cid, sid, k = run.community_id, int(run.payload["series_id"]), int(run.payload["occurrence"])
    now = services.clock.now()
    async with services.db.transaction() as session:
        # Held while the date is posted: an end of the series at that moment waits, then drops the next.
        series = await get_series(session, cid, sid, hold=True)
        if series is None or series.ended_at is not None:
            return
        template = await session.scalar(
            select(Afterwork)
            .where(Afterwork.community_id == cid, Afterwork.series_id == sid, Afterwork.occurrence < k)
            .order_by(Afterwork.occurrence.desc())
            .limit(1)
        )
        if template is None:
            return
        wall = occurrence_wall(series.first_wall, series.rule, series.nth, k)
        if series.until is not None and wall.date() > series.until:
            return
        starts_at = to_utc(wall, series.timezone)
        table = Afterwork.__table__
        values = {
            c: getattr(template, c)
            for c in (
                "community_id",
                "organizer_id",
                "title",
                "kind",
                "duration_minutes",
                "place",
                "link",
                "city",
                "city_key",
                "capacity",
                "rsvp_cutoff_minutes",
                "description",
                "origin_channel_id",
                "series_id",
            )
        }
        inserted = await session.scalar(
            dialect_insert(session, table)
            .values(
                **values,
                starts_at=starts_at,
                occurrence=k,
                status=SCHEDULED,
                going_count=0,
                rsvp_seq=0,
                sequence=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        retried = None
        if inserted is None:  # another process created it, or this job's earlier attempt did
            retried = await session.scalar(select(Afterwork.id).where(
                Afterwork.community_id == cid, Afterwork.series_id == sid, Afterwork.occurrence == k))
            if run.attempt == 1 or retried is None:
                return
            inserted = retried  # its card or event failed (a 5xx): this retry publishes it
        afterwork = await get_afterwork(session, cid, int(inserted))
        if retried is None:  # on a retry, its reminders, close and next date were planned already
            if starts_at > now:
                settings = await get_settings(session, cid)
                await plan_reminders(
                    session, services.scheduler, afterwork, list(settings.reminder_offsets_minutes), now
                )
                await plan_close(session, services.scheduler, afterwork)
            else:  # its time passed while the bot was down: kept cancelled, so the series goes on
                afterwork.status = CANCELLED
            await plan_next(session, services.scheduler, series, afterwork)
        posts = await posts_of(session, cid, FEATURE, template.id)
        settings = await get_settings(session, cid)
        configured = settings.afterworks_channel_id
        # Where the previous date's card is, or where the series was asked: the afterworks channel may
        # be gone since (the card then goes there, and the moderators are told).
        fallbacks = [posts[0].channel_id if posts else None, template.origin_channel_id]
        channel = configured or next((c for c in fallbacks if c), None)
        post = afterwork.status == SCHEDULED
    if post:
        result = await (
            publish_new(services, cid, int(inserted), channel, fallbacks, configured=configured)
            if channel else publish(services, cid, int(inserted), None)
        )
        await sync_event(services, cid, int(inserted))
        if result.retrying:  # the date exists: its card must follow, on the job's retry
            raise RuntimeError(f"afterwork {inserted}: card not posted in {result.retrying}")


async def plan_close(session: AsyncSession, scheduler: Scheduler, afterwork: Afterwork) -> None:
    """With an RSVP cutoff, a job editing the card when it passes.

    One per cutoff time: a moved cutoff plans another; the old one only edits the card again, which
    shows the truth.
    """
    if not afterwork.rsvp_cutoff_minutes:
        return
    closes = afterwork.closes_at
    await scheduler.schedule(
        session,
        kind=CLOSE,
        due_at=closes,
        community_id=afterwork.community_id,
        payload={"afterwork_id": afterwork.id},
        dedupe_key=f"{CLOSE}:{afterwork.community_id}:{afterwork.id}:{int(closes.timestamp())}",
    )


async def close_job(services: Services, run: JobRun) -> None:
    assert run.community_id is not None
    await refresh_card(services, run.community_id, int(run.payload["afterwork_id"]))


async def event_job(services: Services, run: JobRun) -> None:
    """The retry of a scheduled event Discord failed to create, edit or cancel; raises while it fails."""
    assert run.community_id is not None
    await match_event(services, run.community_id, int(run.payload["afterwork_id"]))


def queue_sync(
    session: AsyncSession,
    community_id: int,
    afterwork_id: int,
    now: datetime,
    people: list[int] | None = None,
    key: str = "",
) -> None:
    """A SYNC job, due now, inserted in the caller's transaction (the sweep runs it)."""
    queue(session, SYNC, community_id, {"afterwork_id": afterwork_id, "people": people or [], "key": key},
          due_at=now)


def register_jobs(services: Services) -> None:
    scheduler = services.scheduler
    scheduler.register(REMIND, functools.partial(remind, services), max_lateness=None)
    scheduler.register(SYNC, functools.partial(sync_job, services), max_lateness=timedelta(days=1))
    scheduler.register(
        NO_EVENTS, functools.partial(no_events_notice, services), max_lateness=timedelta(days=7)
    )
    scheduler.register(NEXT, functools.partial(next_occurrence, services), max_lateness=None)
    scheduler.register(CLOSE, functools.partial(close_job, services), max_lateness=None)
    scheduler.register(CARD, functools.partial(card_job, services), max_lateness=timedelta(days=1),
                       retry_delay=posting.RETRY_AFTER)
    posting.retry_edits(services, FEATURE, CARD,
                        lambda afterwork_id: {"afterwork_id": afterwork_id, "channel": None})
    scheduler.register(EVENT, functools.partial(event_job, services), max_lateness=None,
                       retry_delay=posting.RETRY_AFTER)


def warm_date_reader(services: Services) -> None:
    """Read two dates now (the first call loads language data), not on the first member's form."""
    from bot.community_time import parse_datetime

    parse_datetime("demain 19h", "Europe/Paris", services.clock.now(), "fr")
    parse_datetime("tomorrow 7pm", "Europe/Paris", services.clock.now(), "en")


# -- privacy --------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    answers = await session.execute(
        select(Rsvp.afterwork_id, Afterwork.title, Afterwork.starts_at, Rsvp.status)
        .join(Afterwork, Afterwork.id == Rsvp.afterwork_id)
        .where(Rsvp.community_id == community_id, Rsvp.member_id == member_id)
        .order_by(Rsvp.id)
    )
    organized = await session.scalars(
        select(Afterwork)
        .where(Afterwork.community_id == community_id, Afterwork.organizer_id == member_id)
        .order_by(Afterwork.id)
    )
    pref = await session.scalar(
        select(Preference.dms).where(
            Preference.community_id == community_id, Preference.member_id == member_id
        )
    )
    return {
        "answers": [
            {"afterwork_id": a, "title": t, "starts_at": s.isoformat(), "answer": st}
            for a, t, s, st in answers
        ],
        "organized": [
            {
                "id": a.id,
                "title": a.title,
                "starts_at": a.starts_at.isoformat(),
                "status": a.status,
                "place": a.place,
                "link": a.link,
                "city": a.city,
                "description": a.description,
            }
            for a in organized
        ],
        "reminder_dms": None if pref is None else bool(pref),  # None: never chosen (DMs on by default)
        "series": [
            {
                "id": s.id,
                "rule": s.rule,
                "first": s.first_wall.isoformat(),
                "timezone": s.timezone,
                "until": s.until.isoformat() if s.until else None,
                "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            }
            for s in await session.scalars(
                select(Series)
                .where(Series.community_id == community_id, Series.organizer_id == member_id)
                .order_by(Series.id)
            )
        ],
        "reminders_sent": [  # the log that keeps each reminder DM to one
            {"afterwork_id": a, "event_at": at.isoformat(), "minutes_before": m, "sent_at": sent.isoformat()}
            for a, at, m, sent in await session.execute(
                select(Delivery.afterwork_id, Delivery.starts_at, Delivery.offset_minutes, Delivery.sent_at)
                .where(Delivery.community_id == community_id, Delivery.member_id == member_id)
                .order_by(Delivery.id)
            )
        ],
    }


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Future afterworks they organized are cancelled (those going told); their answers and preferences go.

    Cancelled first: the seat they held at their own afterwork must not go to its waitlist, who would
    be told "a seat freed up" about an afterwork being cancelled. Every afterwork they organized, past
    or cancelled, stays anonymous with its title and time only: its description, place, link and city
    (their text: an address, a phone number) go, as its card did; their series end, so no next date
    copies them.
    """
    from bot.clock import SystemClock

    now = SystemClock().now()
    organized = list(
        await session.scalars(
            select(Afterwork).where(
                Afterwork.community_id == community_id, Afterwork.organizer_id == member_id
            )
        )
    )
    # Their series end (no new date) and become anonymous, as their afterworks.
    await session.execute(
        update(Series)
        .where(
            Series.community_id == community_id, Series.organizer_id == member_id, Series.ended_at.is_(None)
        )
        .values(ended_at=now)
    )
    await session.execute(
        update(Series)
        .where(Series.community_id == community_id, Series.organizer_id == member_id)
        .values(organizer_id=None)
    )
    for afterwork in organized:
        if afterwork.status == SCHEDULED and afterwork.starts_at > now:
            afterwork.status = CANCELLED
            afterwork.sequence += 1
            going = await _going(session, community_id, afterwork.id, member_id)
            await session.execute(
                Job.__table__.update()
                .where(
                    Job.community_id == community_id,
                    Job.kind == REMIND,
                    Job.state == "pending",
                    Job.dedupe_key.startswith(f"{REMIND}:{community_id}:{afterwork.id}:", autoescape=True),
                )
                .values(state="skipped", finished_at=now)
            )
            queue_sync(session, community_id, afterwork.id, now, [p.member_id for p in going], "cancelled")
        afterwork.organizer_id = None
        afterwork.description = afterwork.place = afterwork.link = afterwork.city = afterwork.city_key = ""
    await session.flush()  # forget_answers promotes only to afterworks still scheduled
    for afterwork_id, promoted in await forget_answers(session, community_id, member_id, now):
        queue_sync(session, community_id, afterwork_id, now, [p.member_id for p in promoted], "promoted")
    await session.execute(
        delete(Preference).where(Preference.community_id == community_id, Preference.member_id == member_id)
    )
    await session.execute(
        delete(Delivery).where(Delivery.community_id == community_id, Delivery.member_id == member_id)
    )
