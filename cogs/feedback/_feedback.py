"""The use cases of peer feedback (run through bot.usecase.run), their platform effects and timed jobs.

Reads and checks first (the bindings run `check_*` read-only before acknowledging), then one write
transaction per use case; posting, threads and DMs run after the commit (`ctx.after_commit`) and
record what they posted in their own short transactions (bot.posting), never holding a write lock
across a platform call. Races are settled by the database: the weekly slot is a unique key, an
answer holds its request open with a row update, a close is a conditional update, one kudos per answer.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from bot import submissions
from bot.cards import Card
from bot.community_time import community_today
from bot.context import Caller
from bot.errors import BUGS, Forbidden, NotFound, UserError
from bot.formatting import format_date
from bot.notifier import Attachment, CannotPost, Notifier, PostRef, ThreadRef
from bot.outbox import Addressed, send_dm
from bot.posting import (
    RETRY_AFTER,
    PostOwner,
    SyncResult,
    delete_messages,
    edit_posted,
    notifier_for,
    post_card,
    posted,
    remove_posts,
    retry_edits,
    retry_later,
)
from bot.scheduler import PENDING, JobRun
from bot.usecase import Context, Later, moderator_only
from cogs.config import REMOVE_POST_JOB
from cogs.feedback._cards import (
    answer_card,
    answered_dm,
    due_card,
    kudos_card,
    nudge_card,
    request_card,
    thanks_card,
    top_card,
)
from cogs.feedback._settings import NUDGE_DELAY
from cogs.feedback._store import (
    ANSWER_POSTS,
    CARD,
    CLOSING_POSTS,
    DUE,
    FEATURE,
    FORGET,
    NUDGE,
    NUDGE_POSTS,
    AnswerView,
    Person,
    RequestView,
    answer_count,
    card_posted,
    card_removed,
    claim_open,
    close_row,
    count_kudos,
    destinations,
    free_slot,
    give_kudos,
    insert_answer,
    insert_request,
    job_key,
    kudos_rows,
    load_answer,
    load_request,
    member_by_user,
    month_key,
    moved_job_key,
    next_week_start,
    person,
    record_post,
    request_jobs,
    request_row,
    slots_in_week,
    top_reviewers,
)
from cogs.feedback._validation import AnswerForm, RequestData, RequestForm, validate_answer, validate_request
from cogs.feedback.models import OPEN, FeedbackAnswer, FeedbackRequest
from storage.models import Community, Job, Post

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services

log = logging.getLogger(__name__)
# Platform work the platform failed to do at once, done later by a job (`bot.posting.retry_later`).
THREAD = "feedback.thread"  # a request's thread, when opening it failed: its answers go there after
ANSWER = "feedback.answer"  # an answer to post (once) and its request's card to edit
DUE_HOUR = time(9, 0)  # the day after the due date, 09:00 in the community's zone
TOP_PER_TRADE = 3
MONTHS_SHOWN = 6


def week_of(now: datetime, timezone: str) -> str:
    year, week, _ = community_today(now, timezone).isocalendar()
    return f"{year}-W{week:02d}"


# -- asking ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    posted: bool
    threaded: bool
    channel_id: str
    outage: bool = False  # not posted because the platform failed (5xx, network): try again later


@dataclass(frozen=True)
class Asked:
    request_id: int
    channel_id: str
    later: Later[Published]

    @property
    def published(self) -> Published | None:
        return self.later.value


async def where_options(ctx: Context) -> list[tuple[str, str | None, str]]:
    """Where the caller may ask: (value, trade name or None for the feedback channel, channel id)."""
    settings = await ctx.settings()
    return await destinations(
        ctx.session, ctx.community_id, ctx.caller.member_id, settings.feedback_channel_id
    )


async def _resolve(ctx: Context, where: str) -> tuple[int | None, str]:
    options = await where_options(ctx)
    if not options:
        raise UserError("feedback.errors.no_destination")
    chosen = options[0] if not where else next((o for o in options if o[0] == where), None)
    if chosen is None:
        raise UserError("feedback.errors.where_unknown")
    value, _name, channel = chosen
    return (int(value.split(":", 1)[1]) if value.startswith("trade:") else None), channel


async def _slot(ctx: Context, week: str) -> int:
    """The lowest week slot the caller's requests leave free (a request removed since frees its own)."""
    limit = (await ctx.settings()).feedback_per_week
    taken = await slots_in_week(ctx.session, ctx.community_id, ctx.caller.member_id, week)
    if len(taken) >= limit:
        _refuse_limit(ctx, limit)
    return free_slot(taken)


def _refuse_limit(ctx: Context, limit: int) -> None:
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    raise UserError(
        "feedback.errors.limit", count=limit, date=format_date(next_week_start(today), ctx.caller.locale)
    )


async def check_request(ctx: Context, form: RequestForm) -> RequestData:
    """Every refusal of `ask`, read-only: the bindings answer with it before anything waits on a write."""
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    data = validate_request(form, today, ctx.caller.locale)
    await _resolve(ctx, data.where)
    await _slot(ctx, week_of(ctx.clock.now(), ctx.caller.timezone))
    return data


async def ask(ctx: Context, form: RequestForm, *, submission: str | None = None) -> Asked:
    """/feedback: saved, its nudge and due-date jobs planned, then the card and its thread posted.

    `submission`: the form's key (bot.submissions); the same form submitted again creates nothing.
    """
    now = ctx.clock.now()
    data = validate_request(form, community_today(now, ctx.caller.timezone), ctx.caller.locale)
    trade_id, channel_id = await _resolve(ctx, data.where)
    week = week_of(now, ctx.caller.timezone)
    values = {
        "community_id": ctx.community_id,
        "member_id": ctx.caller.member_id,
        "title": data.title,
        "links": list(data.links),
        "file_name": data.file_name,
        "kind": data.kind,
        "question": data.question,
        "trade_id": trade_id,
        "channel_id": channel_id,
        "due_on": data.due_on,
        "allow_anonymous": data.allow_anonymous,
        "state": OPEN,
        "week": week,
        "nudged": False,
        "created_at": now,
    }
    limit = (await ctx.settings()).feedback_per_week
    request_id = None
    for _ in range(max(limit, 1)):  # a slot another request took meanwhile: the next free one
        request_id = await insert_request(ctx.session, {**values, "week_slot": await _slot(ctx, week)})
        if request_id is not None:
            break
    if request_id is None:
        _refuse_limit(ctx, limit)
    assert request_id is not None
    await submissions.claim(ctx, submission, "feedback.request", request_id)
    # The jobs name the request by its id and creation time (`_planned_for`): ids are reused.
    payload = {"request_id": request_id, "created_at": now.isoformat()}
    delay = int(await ctx.setting(NUDGE_DELAY))
    if delay > 0:
        await ctx.scheduler.schedule(
            ctx.session,
            kind=NUDGE,
            due_at=now + timedelta(minutes=delay),
            payload=payload,
            community_id=ctx.community_id,
            dedupe_key=job_key(NUDGE, ctx.community_id, request_id, now),
        )
    if data.due_on is not None:
        await ctx.scheduler.schedule(
            ctx.session,
            kind=DUE,
            due_at=max(_due_at(data.due_on, ctx.caller.timezone), now),
            payload=payload,
            community_id=ctx.community_id,
            dedupe_key=job_key(DUE, ctx.community_id, request_id, now),
        )
    services, community_id = ctx.services, ctx.community_id
    files = (data.file,) if data.file is not None else ()

    async def publish(_notifier: Notifier | None) -> Published:
        return await publish_request(services, community_id, request_id, files)

    return Asked(request_id, channel_id, ctx.after_commit(publish))


def _due_at(due_on: date, timezone: str) -> datetime:
    """When the due-date DM goes: the day after the due date, DUE_HOUR in the community's zone."""
    return datetime.combine(due_on + timedelta(days=1), DUE_HOUR, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


async def settings_changed(session: AsyncSession, services: Services, community_id: int,
                           keys: frozenset[str]) -> None:
    """The community's time zone changed (in its transaction): due-date DMs to come move to 09:00 there.

    A DM already sent is not sent again. A community that starts in Paris (the default) and moves to
    Montréal would otherwise follow a request up at 03:00.
    """
    if "timezone" not in keys:
        return
    timezone = await session.scalar(select(Community.timezone).where(Community.id == community_id))
    if timezone is None:
        return
    now = services.clock.now()
    requests = await session.execute(
        select(FeedbackRequest.id, FeedbackRequest.created_at, FeedbackRequest.due_on).where(
            FeedbackRequest.community_id == community_id, FeedbackRequest.state == OPEN,
            FeedbackRequest.due_on.is_not(None),
        )
    )
    for request_id, created_at, due_on in requests.all():
        pending = await session.execute(
            select(Job.id, Job.payload).where(Job.community_id == community_id, Job.kind == DUE,
                                              Job.state == PENDING,
                                              request_jobs(DUE, community_id, request_id, created_at))
        )
        payload = None
        for job_id, planned in pending.all():
            if await services.scheduler.cancel(session, job_id=job_id, community_id=community_id):
                payload = planned
        if payload is not None and due_on is not None:
            key = moved_job_key(DUE, community_id, request_id, created_at, now)
            await services.scheduler.schedule(session, kind=DUE, due_at=max(_due_at(due_on, timezone), now),
                                              payload=payload, community_id=community_id, dedupe_key=key)


async def _view(
    services: Services, community_id: int, request_id: int
) -> tuple[RequestView, Community] | None:
    async with services.db.transaction(write=False) as session:
        row = await request_row(session, community_id, request_id)
        community = await session.get(Community, community_id)
        if row is None or community is None:
            return None
        return await load_request(session, row), community


async def publish_request(
    services: Services, community_id: int, request_id: int, files: tuple[Attachment, ...] = ()
) -> Published:
    """Posts the card and opens its thread; a card nobody can see is no request (it is removed).

    `files` (a file attached on Discord) go with the card: they last as long as its message (an edit
    keeps them), while the interaction's attachment expires.
    """
    found = await _view(services, community_id, request_id)
    if found is None:
        return Published(False, False, "")
    view, community = found
    card = dataclasses.replace(request_card(services.catalog, community.locale, view), attachments=files)
    owner = PostOwner(community_id, FEATURE, request_id, view.requester.member_id)
    outage = False
    try:
        ref = await post_card(services, owner, view.channel_id, card)
    except CannotPost:
        ref = None
    except BUGS:
        raise
    except Exception:  # the platform failed: as refused, nothing kept, and the member told to retry
        log.warning("feedback request %s: its card was not posted", request_id, exc_info=True)
        ref, outage = None, True
    if ref is None:
        async with services.db.transaction() as session:
            await _cancel_jobs(services, session, community_id, request_id, view.created_at)
            await session.execute(
                delete(FeedbackRequest).where(
                    FeedbackRequest.community_id == community_id, FeedbackRequest.id == request_id
                )
            )
        return Published(False, False, view.channel_id, outage)
    async with services.db.transaction() as session:  # recorded before the thread: the card is out
        await _set_request(session, community_id, request_id, message_id=ref.message_id)
    threaded = await _open_thread(services, community, view, ref, retry=True)
    return Published(True, threaded, view.channel_id)


async def _set_request(session: AsyncSession, community_id: int, request_id: int, **values: str) -> None:
    await session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.community_id == community_id, FeedbackRequest.id == request_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _open_thread(
    services: Services, community: Community, view: RequestView, ref: PostRef, *, retry: bool
) -> bool:
    """The thread under the request's card, recorded; False when answers are to go under the card.

    A channel refusing threads (or the card gone): answers go under the card, and the requester is
    told so. A platform failure (a 5xx) is no refusal: with `retry`, the THREAD job opens the thread
    later (answers given meanwhile go under the card) and this says True; the job itself raises.
    """
    try:
        thread = await notifier_for(services, community.platform).open_thread(
            community.external_id, ref, view.title
        )
    except CannotPost:  # no permission to create threads there: answers go under the card
        return False
    except BUGS:
        raise
    except Exception:
        if not retry:
            raise
        log.warning("feedback request %s: its thread failed; opened later by a job", view.id, exc_info=True)
        payload = {"request_id": view.id, "created_at": view.created_at.isoformat()}
        await retry_later(services, SyncResult(retrying=[view.channel_id]), THREAD, community.id, view.id,
                          payload)
        return True
    if thread is None:
        return False
    async with services.db.transaction() as session:
        await _set_request(session, community.id, view.id, thread_id=thread.thread_id)
    return True


# -- answering ------------------------------------------------------------------------------------


async def _answerable(ctx: Context, request_id: int, anonymous: bool) -> FeedbackRequest:
    row = await request_row(ctx.session, ctx.community_id, request_id)
    if row is None:
        raise NotFound("feedback.errors.not_found")
    _refuse_answer(ctx, row, anonymous)
    await _refuse_removed(ctx, row)
    return row


async def _refuse_removed(ctx: Context, row: FeedbackRequest) -> None:
    """A request whose card a moderator removed takes no more answers (its `posts` row is gone)."""
    if await card_removed(ctx.session, row):
        raise UserError("feedback.errors.removed")


def _refuse_answer(ctx: Context, row: FeedbackRequest, anonymous: bool) -> None:
    if row.state != OPEN:
        raise UserError("feedback.errors.closed")
    if row.member_id == ctx.caller.member_id:
        raise UserError("feedback.errors.own_request")
    if anonymous and not row.allow_anonymous:
        raise UserError("feedback.errors.no_anonymous")


async def answer_form(ctx: Context, request_id: int, anonymous: bool) -> RequestView:
    """Give feedback: the request the form is about, if the caller may answer it (read-only)."""
    return await load_request(ctx.session, await _answerable(ctx, request_id, anonymous))


async def check_answer(ctx: Context, request_id: int, anonymous: bool, form: AnswerForm) -> None:
    row = await _answerable(ctx, request_id, anonymous)
    validate_answer(form, row.kind)


@dataclass(frozen=True)
class Answered:
    answer_id: int
    later: Later[bool]


async def submit_answer(ctx: Context, request_id: int, anonymous: bool, form: AnswerForm, *,
                        submission: str | None = None) -> Answered:
    """Saved (nothing when refused), the nudge cancelled; then posted in the thread and the requester DMed.

    What the effect shows (the request with this answer counted, the answer itself) is read in this
    transaction, so that after the commit only the platform calls and the post's record remain.
    `submission`: the form's key (bot.submissions); the same form submitted again answers nothing.
    """
    row = await claim_open(ctx.session, ctx.community_id, request_id)  # read and held open at once
    if row is None:
        await _answerable(ctx, request_id, anonymous)  # gone or closed: says which
        raise UserError("feedback.errors.closed")
    _refuse_answer(ctx, row, anonymous)
    await _refuse_removed(ctx, row)
    text, ratings = validate_answer(form, row.kind)
    answer_id = await insert_answer(
        ctx.session,
        {
            "community_id": ctx.community_id,
            "request_id": request_id,
            "member_id": ctx.caller.member_id,
            "anonymous": anonymous,
            "text": text,
            "ratings": ratings,
            "created_at": ctx.clock.now(),
        },
    )
    await submissions.claim(ctx, submission, "feedback.answer", answer_id)
    view = await load_request(ctx.session, row)
    if view.answers == 1:  # the first answer: no nudge any more (the request row, held above, orders them)
        await _cancel_jobs(ctx.services, ctx.session, ctx.community_id, request_id, row.created_at, (NUDGE,))
    caller = ctx.caller
    author = Person(caller.member_id, caller.user_id, caller.display_name or caller.user_id, caller.locale)
    shown = AnswerView(answer_id, request_id, author, anonymous, text, ratings, helpful=False)
    services, place = ctx.services, Place.of_caller(ctx.caller)

    async def publish(_notifier: Notifier | None) -> bool:
        return await publish_answer(services, place, view, shown)

    return Answered(answer_id, ctx.after_commit(publish))


@dataclass(frozen=True)
class Place:
    """The community's platform coordinates, copied out of a transaction for the effects after it."""

    community_id: int
    platform: str
    external_id: str
    locale: str

    @classmethod
    def of(cls, community: Community) -> Place:
        return cls(community.id, community.platform, community.external_id, community.locale)

    @classmethod
    def of_caller(cls, caller: Caller) -> Place:
        return cls(caller.community_id, caller.platform, caller.community_external_id,
                   caller.community_locale)


def message_link(place: Place, ref: PostRef, thread: ThreadRef | None) -> str | None:
    """A link to a posted message, built from its ids (no API call)."""
    if place.platform == "discord":
        return f"https://discord.com/channels/{place.external_id}/{ref.channel_id}/{ref.message_id}"
    if place.platform == "slack":
        link = f"https://slack.com/archives/{ref.channel_id}/p{ref.message_id.replace('.', '')}"
        return (
            f"{link}?thread_ts={thread.thread_id}&cid={ref.channel_id}"
            if thread and thread.thread_id
            else link
        )
    return None


def _answer_card(services: Services, place: Place, view: RequestView, answer: AnswerView) -> Card:
    card_url = None
    if view.thread_id is None and view.message_id is not None:  # a reply under the card: link to it
        card_url = message_link(place, PostRef(view.channel_id, view.message_id), None)
    threaded = view.thread_id is not None
    return answer_card(services.catalog, place.locale, view, answer, threaded=threaded, card_url=card_url)


async def publish_answer(services: Services, place: Place, view: RequestView, answer: AnswerView) -> bool:
    """The answer posted in its thread (or under the card) and recorded, the card edited, a DM sent.

    The card shows the new answer count; the requester's DM links to the answer. When the platform
    fails (a 5xx), the requester is still told (without the link), and the ANSWER job posts the answer
    and edits the card later. True when posted now.
    """
    post_failed = edit_failed = False
    try:
        ref, view = await _post_answer(services, place, view, answer)
    except BUGS:
        raise
    except Exception:
        log.warning("feedback answer %s not posted; posted later by a job", answer.id, exc_info=True)
        ref, post_failed = None, True
    if not post_failed:  # posted, or refused: the card counts the answer all the same
        edit_failed = not await _edit_request_card(services, place, view)
    if post_failed or edit_failed:
        # `post`: the job posts the answer only when this post failed. Posted here, its missing record
        # means a moderator removed it meanwhile (cogs.config._moderation): never posted again.
        await retry_later(services, SyncResult(retrying=[view.channel_id]), ANSWER, place.community_id,
                          answer.id, {"answer_id": answer.id, "request_id": view.id, "post": post_failed})
    requester = view.requester
    locale = requester.locale or place.locale
    who = (
        services.t(locale, "feedback.answer.anonymous_peer")
        if answer.anonymous or answer.author is None
        else answer.author.name
    )
    thread = ThreadRef(view.channel_id, view.thread_id) if view.thread_id else None
    link = message_link(place, ref, thread) if ref is not None else None
    dm = answered_dm(services.catalog, locale, view, who, link)
    place_of_dm = Addressed(place.community_id, place.platform, place.external_id)
    named = () if answer.anonymous or answer.author is None else (answer.author.member_id,)  # `who`
    # Kept in the outbox if it fails; deleted there if the author deletes their data before it goes.
    await send_dm(services, place_of_dm, requester.member_id, requester.user_id, dm, about=named)
    return ref is not None


async def _post_answer(
    services: Services, place: Place, view: RequestView, answer: AnswerView
) -> tuple[PostRef | None, RequestView]:
    """The answer in its thread (or under the card), recorded; and the request as it is now.

    None when the channel refuses the bot; a platform failure raises. Another answer committed
    meanwhile is counted in the view returned, so that the card never goes back to a smaller count.
    """
    notifier = notifier_for(services, place.platform)
    thread = ThreadRef(view.channel_id, view.thread_id) if view.thread_id else None
    card = _answer_card(services, place, view, answer)
    try:
        if thread is not None:
            ref = await notifier.post_in_thread(place.external_id, thread, card)
        else:
            ref = await notifier.post(place.external_id, view.channel_id, card)
    except CannotPost as error:
        log.info("feedback answer %s not posted: %s", answer.id, error.reason)
        return None, view
    if ref is None:
        return None, view
    async with services.db.transaction() as session:
        await record_post(
            session,
            {
                "community_id": place.community_id,
                "member_id": answer.author.member_id if answer.author else None,
                "feature": ANSWER_POSTS,
                "object_id": answer.id,
                "channel_id": ref.channel_id,
                "message_id": ref.message_id,
                "posted_at": services.clock.now(),
            },
        )
        if await answer_count(session, place.community_id, view.id) != view.answers:
            row = await request_row(session, place.community_id, view.id)
            view = await load_request(session, row) if row is not None else view
    return ref, view


async def _edit_request_card(services: Services, place: Place, view: RequestView) -> bool:
    """The request's card shows its answer count (its message is known: no lookup).

    False when the platform failed: the caller has it edited again later.
    """
    if view.message_id is None:
        return True
    card = request_card(services.catalog, place.locale, view)
    try:
        await notifier_for(services, place.platform).edit(
            place.external_id, PostRef(view.channel_id, view.message_id), card
        )
    except BUGS:
        raise
    except Exception:
        log.warning("feedback request %s: its card was not edited", view.id, exc_info=True)
        return False
    return True


async def _refresh_card(
    services: Services, community: Community, view: RequestView, *, retry: bool = True
) -> bool:
    """The request's card edited where it is recorded (a card a moderator removed stays removed).

    False when the platform failed for now: with `retry`, the CARD job edits it again later
    (`retry_edits`, declared in `on_start`); the job itself passes `retry=False` and raises.
    """
    owner = PostOwner(community.id, FEATURE, view.id, view.requester.member_id)
    async with services.db.transaction(write=False) as session:
        posts = await posted(session, owner)
    card = request_card(services.catalog, community.locale, view)
    result = await edit_posted(services, owner, community.platform, community.external_id, posts, card,
                               retry_later=retry)
    return not result.retrying


# -- kudos ----------------------------------------------------------------------------------------


async def mark_helpful(ctx: Context, answer_id: int) -> str:
    """Helpful: the reviewer gets one kudos; only the requester, never to oneself, once per answer."""
    answer = await ctx.session.scalar(
        select(FeedbackAnswer).where(
            FeedbackAnswer.community_id == ctx.community_id, FeedbackAnswer.id == answer_id
        )
    )
    row = await request_row(ctx.session, ctx.community_id, answer.request_id) if answer else None
    if answer is None or row is None:
        raise NotFound("feedback.errors.answer_not_found")
    if row.member_id != ctx.caller.member_id:
        raise Forbidden("feedback.errors.only_requester_helpful")
    if row.state != OPEN:  # a closed request's answers show no Helpful any more (`answer_card`)
        raise UserError("feedback.errors.closed_helpful")
    if answer.member_id is None:
        raise UserError("feedback.errors.former_member")
    if answer.member_id == ctx.caller.member_id:
        raise UserError("feedback.errors.self_kudos")
    month = month_key(ctx.clock.now(), ctx.caller.timezone)  # kept with it: a deletion uncounts it there
    given = await give_kudos(
        ctx.session,
        {
            "community_id": ctx.community_id,
            "answer_id": answer_id,
            "giver_id": ctx.caller.member_id,
            "receiver_id": answer.member_id,
            "kind": row.kind,
            "trade_id": row.trade_id,
            "created_at": ctx.clock.now(),
            "month": month,
        },
    )
    if not given:
        raise UserError("feedback.errors.already_helpful")
    if not answer.anonymous:  # its author's alone: on no leaderboard (`public_kudos`)
        await count_kudos(ctx.session, ctx.community_id, month, row.trade_id, answer.member_id, 1)
    reviewer = await person(ctx.session, ctx.community_id, answer.member_id)
    services, community_id = ctx.services, ctx.community_id

    async def refresh(_notifier: Notifier | None) -> None:
        await refresh_answer(services, community_id, answer_id)

    ctx.after_commit(refresh)
    if answer.anonymous or reviewer is None:
        return ctx.t("feedback.answer.anonymous_peer")
    return reviewer.name


async def refresh_answer(services: Services, community_id: int, answer_id: int) -> None:
    async with services.db.transaction(write=False) as session:
        answer = await load_answer(session, community_id, answer_id)
        row = await request_row(session, community_id, answer.request_id) if answer else None
        community = await session.get(Community, community_id)
        if answer is None or row is None or community is None:
            return
        view = await load_request(session, row)
        posts = (
            await session.execute(
                select(Post.channel_id, Post.message_id).where(
                    Post.community_id == community_id,
                    Post.feature == ANSWER_POSTS,
                    Post.object_id == answer_id,
                )
            )
        ).all()
    card = _answer_card(services, Place.of(community), view, answer)
    notifier = notifier_for(services, community.platform)
    for channel_id, message_id in posts:
        await notifier.edit(community.external_id, PostRef(channel_id, message_id), card)


@moderator_only
async def who_wrote(ctx: Context, answer_id: int) -> str:
    """Moderators: the author of an anonymous answer (e.g. one reported to them)."""
    answer = await ctx.session.scalar(
        select(FeedbackAnswer).where(
            FeedbackAnswer.community_id == ctx.community_id, FeedbackAnswer.id == answer_id
        )
    )
    if answer is None:
        raise NotFound("feedback.errors.answer_not_found")
    author = await person(ctx.session, ctx.community_id, answer.member_id) if answer.member_id else None
    name = author.name if author else ctx.t("feedback.answer.former_member")
    return ctx.t("feedback.who.text", name=name, user=author.user_id if author else "—")


def _month_floor(day: date, back: int = 0) -> date:
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


async def kudos_of(ctx: Context, user_id: str | None = None) -> Card:
    """/kudos [member]: kudos received, by kind and over the last months."""
    member_id = ctx.caller.member_id
    if user_id is not None and user_id != ctx.caller.user_id:
        found = await member_by_user(ctx.session, ctx.community_id, user_id)
        if found is None:
            raise NotFound("feedback.errors.no_member")
        member_id = found
    who = await person(ctx.session, ctx.community_id, member_id)
    assert who is not None
    rows = await kudos_rows(ctx.session, ctx.community_id, member_id, datetime(1970, 1, 1, tzinfo=UTC),
                            public=member_id != ctx.caller.member_id)
    zone = ZoneInfo(ctx.caller.timezone)
    today = community_today(ctx.clock.now(), ctx.caller.timezone)
    months = [_month_floor(today, back) for back in range(MONTHS_SHOWN)]
    per_month = Counter(_month_floor(at.astimezone(zone).date()) for _, at in rows)
    return kudos_card(
        ctx.catalog,
        ctx.caller.locale,
        who.name,
        len(rows),
        Counter(kind for kind, _ in rows),
        [(m, per_month[m]) for m in months if per_month[m]],
    )


async def kudos_top(ctx: Context) -> Card:
    """/kudos top: this month's most thanked reviewers per trade (leaderboard opt-outs left out)."""
    month = _month_floor(community_today(ctx.clock.now(), ctx.caller.timezone))
    rows = await top_reviewers(ctx.session, ctx.community_id, month.strftime("%Y-%m"), TOP_PER_TRADE)
    return top_card(ctx.catalog, ctx.caller.locale, month, rows)


# -- closing --------------------------------------------------------------------------------------


async def _cancel_jobs(services: Services, session: AsyncSession, community_id: int, request_id: int,
                       created_at: datetime, kinds: tuple[str, ...] = (NUDGE, DUE)) -> None:
    for kind in kinds:
        pending = await session.scalars(
            select(Job.id).where(Job.community_id == community_id, Job.kind == kind, Job.state == PENDING,
                                 request_jobs(kind, community_id, request_id, created_at))
        )
        for job_id in list(pending):
            await services.scheduler.cancel(session, job_id=job_id, community_id=community_id)


async def close_request(ctx: Context, request_id: int) -> str:
    """Close (requester or moderator): card updated, reviewers thanked, thread archived, jobs cancelled."""
    row = await request_row(ctx.session, ctx.community_id, request_id)
    if row is None:
        raise NotFound("feedback.errors.not_found")
    if row.member_id != ctx.caller.member_id and not ctx.caller.is_moderator:
        raise Forbidden("feedback.errors.only_requester_close")
    if not await close_row(ctx.session, ctx.community_id, request_id, ctx.clock.now()):
        raise UserError("feedback.errors.already_closed")
    await _cancel_jobs(ctx.services, ctx.session, ctx.community_id, request_id, row.created_at)
    services, community_id, title = ctx.services, ctx.community_id, row.title

    async def finish(_notifier: Notifier | None) -> None:
        await finish_close(services, community_id, request_id)

    ctx.after_commit(finish)
    return title


async def finish_close(services: Services, community_id: int, request_id: int) -> None:
    """After a close: the card edited, the nudge removed, the closing note posted, the thread archived.

    What the platform failed to do for now is done by the CARD job: the card's edit (`retry_edits`),
    the rest with `close` (the note only if it was not posted here: a note posted here and missing
    later was removed by a moderator).
    """
    found = await _view(services, community_id, request_id)
    if found is None:
        return
    view, community = found
    await _refresh_card(services, community, view)
    done, note_left = await _close_on_platform(services, community, view, note=True)
    if not done:
        payload = {"request_id": request_id, "created_at": view.created_at.isoformat(), "close": True,
                   "note": note_left}
        await retry_later(services, SyncResult(retrying=[view.channel_id]), CARD, community_id, request_id,
                          payload)


async def _close_on_platform(
    services: Services, community: Community, view: RequestView, *, note: bool
) -> tuple[bool, bool]:
    """The nudge removed, the closing note posted (with `note`, once), then the thread archived.

    (done, note still to post): not done when the platform failed for now; each step is idempotent.
    """
    done = True
    try:
        await remove_posts(services, community.id, feature=NUDGE_POSTS, object_id=view.id)
    except BUGS:
        raise
    except Exception:
        log.warning("feedback %s: its nudge was not removed", view.id, exc_info=True)
        done = False
    if note and not await _post_closing_note(services, community, view):
        return False, True  # the thread is archived after its note (a message would reopen it)
    if view.thread_id:
        try:
            await notifier_for(services, community.platform).archive_thread(
                community.external_id, ThreadRef(view.channel_id, view.thread_id)
            )
        except BUGS:
            raise
        except Exception:
            log.warning("feedback %s: its thread was not archived", view.id, exc_info=True)
            done = False
    return done, False


def _closing_owner(view: RequestView) -> PostOwner:
    """The closing note names the request: recorded as the requester's, it goes with their data."""
    return PostOwner(view.community_id, CLOSING_POSTS, view.id, view.requester.member_id)


async def _post_closing_note(services: Services, community: Community, view: RequestView) -> bool:
    """The note thanking the reviewers, in the thread (or under the card when answers went there), recorded.

    Once: nothing when one is recorded. False when the platform failed for now; a refusal is no failure.
    """
    owner = _closing_owner(view)
    async with services.db.transaction(write=False) as session:
        if await posted(session, owner):
            return True
    notifier = notifier_for(services, community.platform)
    thanks = thanks_card(services.catalog, community.locale, view)
    try:
        if view.thread_id:
            ref = await notifier.post_in_thread(
                community.external_id, ThreadRef(view.channel_id, view.thread_id), thanks
            )
        elif view.answers:
            ref = await notifier.post(community.external_id, view.channel_id, thanks)
        else:
            return True
    except CannotPost as error:
        log.info("feedback %s: closing note not posted (%s)", view.id, error.reason)
        return True
    except BUGS:
        raise
    except Exception:
        log.warning("feedback %s: its closing note was not posted", view.id, exc_info=True)
        return False
    if ref is not None:
        async with services.db.transaction() as session:
            await record_post(
                session,
                {
                    "community_id": community.id,
                    "member_id": owner.member_id,
                    "feature": owner.feature,
                    "object_id": owner.object_id,
                    "channel_id": ref.channel_id,
                    "message_id": ref.message_id,
                    "posted_at": services.clock.now(),
                },
            )
    return True


async def _redraw_note(services: Services, community: Community, view: RequestView, run: JobRun) -> bool:
    """The closing note edited to thank the reviewers as they are now (one deleted their data).

    An archived Discord thread takes no edit (nor deletion): a short notice reopens it, the note is
    edited, and the thread archived again (as pairing does). The notice is posted once per redraw
    (recorded in the job's payload, `reopened`): while the edit still fails (an outage) the thread is
    left open and the job's retries edit again without a second notice. The note must not go on naming
    a member who deleted their data: when the job's last attempt still cannot edit it, or the thread
    refuses the bot (locked), the note is removed instead (`_remove_note`), with the notice, which would
    claim an update. False while the note is neither redrawn nor removed (the job is retried).
    """
    owner = _closing_owner(view)
    async with services.db.transaction(write=False) as session:
        notes = await posted(session, owner)
    reopened = run.payload.get("reopened")  # the notice's [channel, message] once posted by this redraw
    thread = ThreadRef(view.channel_id, view.thread_id) if view.thread_id else None
    if notes:
        card = thanks_card(services.catalog, community.locale, view)
        result = await edit_posted(services, owner, community.platform, community.external_id, notes, card,
                                   retry_later=False)
        failing = [n for n in notes if n.channel_id in result.retrying]
        refused = False
        # Only Discord threads archive themselves (as in cogs.matching's and cogs.pairing's reopening).
        archived = any(n.channel_id in result.archived for n in failing)  # not an outage
        if archived and thread is not None and reopened is None and community.platform == "discord":
            try:
                reopened = await _reopen_for_redraw(services, community, thread, run)
            except CannotPost as error:  # a locked thread, the bot removed: nothing reopens it
                log.warning("feedback %s: its thread refuses the bot (%s); its note is removed", view.id,
                            error.reason)
                refused = True
            if reopened is not None:
                result = await edit_posted(services, owner, community.platform, community.external_id,
                                           failing, card, retry_later=False)
                failing = [n for n in failing if n.channel_id in result.retrying]
        if failing:
            if not refused and run.attempt < services.scheduler.max_attempts:
                return False  # a reopened thread stays open meanwhile: the next attempt needs no notice
            await _remove_note(services, community, view, reopened)
    if reopened is not None and thread is not None:
        await notifier_for(services, community.platform).archive_thread(community.external_id, thread)
    return True


async def _reopen_for_redraw(
    services: Services, community: Community, thread: ThreadRef, run: JobRun
) -> list[str] | None:
    """The notice reopening an archived Discord thread, recorded in the job's payload; None when not posted.

    CannotPost when the thread refuses the bot; a platform failure for now is logged (the job's next
    attempt tries again).
    """
    # Not recorded as a post, so naming nothing: not the request's title (its requester's data).
    notice = Card(title=services.t(community.locale, "feedback.closed.updated"), text="")
    try:
        ref = await notifier_for(services, community.platform).post_in_thread(
            community.external_id, thread, notice
        )
    except (CannotPost, *BUGS):
        raise
    except Exception:
        log.warning("feedback: the notice reopening thread %s was not posted", thread.thread_id,
                    exc_info=True)
        return None
    if ref is None:
        return None
    reopened = [ref.channel_id, ref.message_id]
    async with services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == run.id, Job.community_id == community.id)
            .values(payload={**run.payload, "reopened": reopened})
            .execution_options(synchronize_session=False)
        )
    return reopened


async def _remove_note(
    services: Services, community: Community, view: RequestView, notice: list[str] | None
) -> None:
    """The closing note that could not be redrawn, removed rather than left naming a deleted member.

    A deletion the platform fails is retried by the moderators' removal job, which tells them should
    it never go (`cogs.config.REMOVE_POST_JOB`); the notice saying the note was updated goes too.
    """
    log.warning("feedback %s: its closing note could not be redrawn; it is removed instead", view.id)
    await remove_posts(services, community.id, feature=CLOSING_POSTS, object_id=view.id,
                       retry=REMOVE_POST_JOB)
    if notice is None:
        return
    try:
        await notifier_for(services, community.platform).delete(
            community.external_id, PostRef(str(notice[0]), str(notice[1]))
        )
    except BUGS:
        raise
    except Exception:
        log.warning("feedback %s: the notice of its closing note was not removed", view.id, exc_info=True)


# -- timed jobs -----------------------------------------------------------------------------------


async def _planned_for(services: Services, run: JobRun) -> tuple[RequestView, Community] | None:
    """The job's request, if it is still the one the job was planned for.

    A request's id may have been given to another since (SQLite reuses a deleted row's id); rows
    planned by earlier versions carry no creation time and are taken as they are.
    """
    assert run.community_id is not None
    found = await _view(services, run.community_id, int(run.payload["request_id"]))
    planned = run.payload.get("created_at")
    if found is None or (planned is not None and found[0].created_at != datetime.fromisoformat(planned)):
        return None
    return found


async def run_nudge(services: Services, run: JobRun) -> None:
    """Once, if still open and unanswered: a short reminder in the request's channel."""
    assert run.community_id is not None
    request_id = int(run.payload["request_id"])
    found = await _planned_for(services, run)
    if found is None:
        return
    view, community = found
    if not view.is_open or view.answers or not await _card_shown(services, community.id, request_id):
        return  # a card a moderator removed is not advertised again
    card = nudge_card(services.catalog, community.locale, view, view.created_at, timezone=community.timezone)
    owner = PostOwner(run.community_id, NUDGE_POSTS, request_id, view.requester.member_id)
    try:
        await post_card(services, owner, view.channel_id, card)
    except CannotPost as error:
        log.info("feedback %s: nudge refused (%s)", request_id, error.reason)
        return
    async with services.db.transaction() as session:
        await session.execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.community_id == run.community_id, FeedbackRequest.id == request_id)
            .values(nudged=True)
            .execution_options(synchronize_session=False)
        )


async def _card_shown(services: Services, community_id: int, request_id: int) -> bool:
    """The request's card is recorded: neither removed by a moderator nor deleted by hand."""
    async with services.db.transaction(write=False) as session:
        return await card_posted(session, community_id, request_id)


async def run_due(services: Services, run: JobRun) -> None:
    """The due date passed: the requester is offered to close the request, in a DM."""
    found = await _planned_for(services, run)
    if found is None:
        return
    view, community = found
    if not view.is_open or not await _card_shown(services, community.id, view.id):
        return
    locale = view.requester.locale or community.locale
    await notifier_for(services, community.platform).dm(
        community.external_id, view.requester.user_id, due_card(services.catalog, locale, view)
    )


async def run_thread(services: Services, run: JobRun) -> None:
    """A request whose thread the platform failed to open: opened now; raises while it still fails."""
    found = await _planned_for(services, run)
    if found is None:
        return
    view, community = found
    if not view.is_open or view.message_id is None or view.thread_id is not None:
        return
    card = PostRef(view.channel_id, view.message_id)
    await _open_thread(services, community, view, card, retry=False)


async def run_answer(services: Services, run: JobRun) -> None:
    """An answer the platform failed to post, or whose card it failed to edit: done now, the answer once.

    The answer is posted only when its first post failed (`post`; jobs queued by earlier versions
    carry none): a post recorded then and missing now was removed by a moderator, and stays removed.
    An answer whose author deleted their data meanwhile (a text-less stub) is never posted: it goes,
    so that the card counts only the answers the thread shows. Raises while the platform still fails,
    so that the scheduler tries again with its backoff.
    """
    assert run.community_id is not None
    community_id, answer_id = run.community_id, int(run.payload["answer_id"])
    async with services.db.transaction(write=False) as session:
        answer = await load_answer(session, community_id, answer_id)
        row = await request_row(session, community_id, answer.request_id) if answer else None
        community = await session.get(Community, community_id)
        if answer is None or row is None or community is None or row.id != int(run.payload["request_id"]):
            return  # deleted since (its author's or the requester's data)
        view = await load_request(session, row)
        posted_id = await session.scalar(select(Post.id).where(
            Post.community_id == community_id, Post.feature == ANSWER_POSTS, Post.object_id == answer_id
        ).limit(1))
    place = Place.of(community)
    if posted_id is None and run.payload.get("post", True):
        if answer.author is None:
            view = await _drop_unposted(services, view, answer_id)
        else:
            _, view = await _post_answer(services, place, view, answer)
    if not await _edit_request_card(services, place, view):
        raise RuntimeError(f"feedback request {view.id}: its card could not be edited")


async def _drop_unposted(services: Services, view: RequestView, answer_id: int) -> RequestView:
    """An answer never shown whose author deleted their data: its stub deleted; the request as it is now.

    Only while it is a stub with no post recorded (the database settles a post recorded meanwhile).
    """
    cid = view.community_id
    log.info("feedback answer %s: its author deleted their data before it was posted; not posted", answer_id)
    async with services.db.transaction() as session:
        await session.execute(
            delete(FeedbackAnswer)
            .where(
                FeedbackAnswer.community_id == cid,
                FeedbackAnswer.id == answer_id,
                FeedbackAnswer.member_id.is_(None),
                ~select(Post.id).where(
                    Post.community_id == cid, Post.feature == ANSWER_POSTS, Post.object_id == answer_id
                ).exists(),
            )
            .execution_options(synchronize_session=False)
        )
        row = await request_row(session, cid, view.id)
        return await load_request(session, row) if row is not None else view


async def run_card(services: Services, run: JobRun) -> None:
    """The CARD job: a request's card and closing note brought in step with it; raises while it fails.

    Its payload says what: `edit` (an edit of the card the platform failed, `retry_edits`), `close`
    (a close the platform failed to finish: the card, the nudge, the note if `note`, the thread), or
    `redraw` (a reviewer deleted their data: the closing note redrawn without their name).
    """
    found = await _planned_for(services, run)
    if found is None:
        return
    view, community = found
    if run.payload.get("redraw"):
        done = await _redraw_note(services, community, view, run)
    else:
        done = await _refresh_card(services, community, view, retry=False)
        if run.payload.get("close") and not view.is_open:
            note = bool(run.payload.get("note"))
            closed, _ = await _close_on_platform(services, community, view, note=note)
            done = done and closed
    if not done:
        raise RuntimeError(f"feedback request {view.id}: its card or closing note is not done yet")


def _edit_again(request_id: int) -> dict[str, Any]:
    """The CARD job's payload redoing an edit of the card the platform failed (`retry_edits`)."""
    return {"request_id": request_id, "edit": True}


async def run_forget(services: Services, run: JobRun) -> None:
    """After a privacy deletion: the deleted requests' threads archived, the answers in them removed."""
    assert run.community_id is not None
    community = await delete_messages(services, run.community_id, run.payload.get("messages", []))
    if community is None:
        return
    notifier = notifier_for(services, community.platform)
    for channel_id, thread_id in run.payload.get("threads", []):
        await notifier.archive_thread(community.external_id, ThreadRef(str(channel_id), str(thread_id)))


async def on_start(services: Services) -> None:
    # A nudge more than a day late is no longer useful; a due-date DM still is (up to a week).
    services.scheduler.register(NUDGE, functools.partial(run_nudge, services), max_lateness=timedelta(days=1))
    services.scheduler.register(DUE, functools.partial(run_due, services), max_lateness=timedelta(days=7))
    services.scheduler.register(FORGET, functools.partial(run_forget, services))
    # Platform work that failed at once, tried again with a 3-minute backoff (bot.posting.retry_later).
    # A thread a day late no longer gathers the answers (given under the card meanwhile); an answer is
    # still worth posting however late.
    services.scheduler.register(THREAD, functools.partial(run_thread, services),
                                max_lateness=timedelta(days=1), retry_delay=RETRY_AFTER)
    services.scheduler.register(ANSWER, functools.partial(run_answer, services), retry_delay=RETRY_AFTER)
    # A card or closing note to bring in step, however late (the privacy hook queues it AT_ONCE).
    services.scheduler.register(CARD, functools.partial(run_card, services), retry_delay=RETRY_AFTER)
    retry_edits(services, FEATURE, CARD, _edit_again)
