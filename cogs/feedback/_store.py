"""Reading and writing feedback rows, always inside one community: views, slots, answers, kudos."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.posting import forget_removed
from bot.scheduler import PENDING, SKIPPED, queue
from cogs.feedback.models import (
    CLOSED,
    OPEN,
    FeedbackAnswer,
    FeedbackRequest,
    Kudos,
    KudosMonth,
    public_kudos,
)
from cogs.intros.models import Profile, ProfileTrade
from storage.models import Community, Job, Member, Post, Trade
from storage.sql import dialect_insert

FEATURE = "feedback"
ANSWER_POSTS = "feedback_answer"  # Post.feature of an answer's message (the card's is FEATURE)
NUDGE_POSTS = "feedback_nudge"
CLOSING_POSTS = "feedback_closing"  # the closing note thanking the reviewers, the requester's
FORGET = "feedback.forget"  # the job removing a deleted request's thread and answers from the platform
NUDGE, DUE = "feedback.nudge", "feedback.due"  # a request's timed jobs (cogs.feedback._feedback)
# A request's card and closing note brought in step with it (cogs.feedback._feedback.run_card): an
# edit the platform failed, a close it failed to finish, a reviewer's deletion (`delete_member`).
CARD = "feedback.card"
# Jobs queued by the privacy hook, which has no clock: due at once whatever the clock says.
AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: str
    name: str
    locale: str | None


@dataclass(frozen=True)
class RequestView:
    """Everything a card shows about a request, loaded once."""

    id: int
    community_id: int
    requester: Person
    title: str
    links: tuple[str, ...]
    kind: str
    question: str
    channel_id: str
    trade_name: str | None
    trade_id: int | None
    due_on: date | None
    allow_anonymous: bool
    state: str
    message_id: str | None
    thread_id: str | None
    answers: int
    reviewers: tuple[str, ...]  # names of the attributed reviewers, in answer order
    anonymous_answers: int
    created_at: datetime
    file_name: str | None = None  # Discord: a file posted with the card
    former_answers: int = 0  # signed answers whose author deleted their data since

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


@dataclass(frozen=True)
class AnswerView:
    id: int
    request_id: int
    author: Person | None  # None: a former member
    anonymous: bool
    text: str
    ratings: dict[str, int]
    helpful: bool


def job_key(kind: str, community_id: int, request_id: int, created_at: datetime) -> str:
    """The dedupe key of a request's job: its id, and its creation time.

    SQLite gives a deleted request's id to the next request: with the id alone, that request's job
    was taken for the deleted one's (still pending) and never planned.
    """
    return f"{kind}:{community_id}:{request_id}:{created_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"


def job_keys(kind: str, community_id: int, request_id: int, created_at: datetime) -> tuple[str, str]:
    """Both keys a request's job of `kind` may have, to cancel it.

    `job_key`, and the id-only key of the rows planned by earlier versions (still pending).
    """
    return job_key(kind, community_id, request_id, created_at), f"{kind}:{community_id}:{request_id}"


def moved_job_key(
    kind: str, community_id: int, request_id: int, created_at: datetime, moved_at: datetime
) -> str:
    """The key of a request's job planned again (a time zone change): `job_key` and when it moved.

    The first key's row, cancelled, stays: planning under it again would return that row.
    """
    return f"{job_key(kind, community_id, request_id, created_at)}:{moved_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"


def request_jobs(kind: str, community_id: int, request_id: int, created_at: datetime) -> ColumnElement[bool]:
    """Matches the keys a request's job of `kind` may have: `job_keys`, and `moved_job_key`s."""
    key, earlier = job_keys(kind, community_id, request_id, created_at)
    return or_(Job.dedupe_key.in_((key, earlier)), Job.dedupe_key.startswith(f"{key}:", autoescape=True))


async def person(session: AsyncSession, community_id: int, member_id: int) -> Person | None:
    row = (
        await session.execute(
            select(Member.id, Member.platform_user_id, Member.display_name, Member.locale).where(
                Member.community_id == community_id, Member.id == member_id
            )
        )
    ).first()
    return Person(row[0], row[1], row[2] or row[1], row[3]) if row else None


async def member_by_user(session: AsyncSession, community_id: int, user_id: str) -> int | None:
    return await session.scalar(
        select(Member.id).where(Member.community_id == community_id, Member.platform_user_id == user_id)
    )


async def requester_community(session: AsyncSession, match: re.Match[str], user_id: str) -> int | None:
    """Close in the due-date DM (no guild there): the request's community, if this Discord user asked it."""
    return await session.scalar(
        select(FeedbackRequest.community_id)
        .join(Member, Member.id == FeedbackRequest.member_id)
        .join(Community, Community.id == FeedbackRequest.community_id)
        .where(
            FeedbackRequest.id == int(match["id"]),
            Community.platform == "discord",
            Member.community_id == FeedbackRequest.community_id,
            Member.platform_user_id == user_id,
        )
    )


# The statements of the hot paths (answering, /kudos top) are built once with bound parameters:
# building a statement costs more Python time than SQLite takes to run these.


@functools.cache
def _request_query() -> Select[FeedbackRequest]:
    return select(FeedbackRequest).where(
        FeedbackRequest.community_id == bindparam("community_id"),
        FeedbackRequest.id == bindparam("request_id"),
    )


async def request_row(session: AsyncSession, community_id: int, request_id: int) -> FeedbackRequest | None:
    return await session.scalar(_request_query(), {"community_id": community_id, "request_id": request_id})


@functools.cache
def _head_query() -> Select[int, str, str, str | None, str]:
    community_id: BindParameter[int] = bindparam("community_id")
    return (
        select(Member.id, Member.platform_user_id, Member.display_name, Member.locale, Trade.name)
        .select_from(Member)
        .outerjoin(Trade, (Trade.community_id == community_id) & (Trade.id == bindparam("trade_id")))
        .where(Member.community_id == community_id, Member.id == bindparam("member_id"))
    )


@functools.cache
def _answers_query() -> Select[bool, str, str]:
    return (
        select(FeedbackAnswer.anonymous, Member.display_name, Member.platform_user_id)
        .outerjoin(Member, Member.id == FeedbackAnswer.member_id)
        .where(
            FeedbackAnswer.community_id == bindparam("community_id"),
            FeedbackAnswer.request_id == bindparam("request_id"),
        )
        .order_by(FeedbackAnswer.id)
    )


@functools.cache
def _count_query() -> Select[int]:
    return select(func.count()).select_from(FeedbackAnswer).where(
        FeedbackAnswer.community_id == bindparam("community_id"),
        FeedbackAnswer.request_id == bindparam("request_id"),
    )


async def answer_count(session: AsyncSession, community_id: int, request_id: int) -> int:
    counted = await session.scalar(_count_query(), {"community_id": community_id, "request_id": request_id})
    return int(counted or 0)


@functools.cache
def _insert_answer() -> Any:
    return insert(FeedbackAnswer).returning(FeedbackAnswer.id)


@functools.cache
def _insert_post() -> Any:
    return insert(Post)


async def record_post(session: AsyncSession, values: dict[str, Any]) -> None:
    """An answer's message, recorded (storage.models.Post) so that deletions find it."""
    await session.execute(_insert_post(), values)


async def insert_answer(session: AsyncSession, values: dict[str, Any]) -> int:
    """A new answer's id (one INSERT … RETURNING, no unit of work)."""
    return int(await session.scalar(_insert_answer(), values))


async def load_request(session: AsyncSession, request: FeedbackRequest) -> RequestView:
    """The request's view in two queries: its requester with its trade's name, then its answers."""
    cid = request.community_id
    head = (
        await session.execute(
            _head_query(), {"community_id": cid, "trade_id": request.trade_id, "member_id": request.member_id}
        )
    ).one()
    requester = Person(head[0], head[1], head[2] or head[1], head[3])
    trade_name = head[4] if request.trade_id is not None else None
    rows = (await session.execute(_answers_query(), {"community_id": cid, "request_id": request.id})).all()
    names = [name or user for anonymous, name, user in rows if not anonymous and user]
    former = sum(1 for anonymous, _, user in rows if not anonymous and not user)
    return RequestView(
        id=request.id,
        community_id=request.community_id,
        requester=requester,
        title=request.title,
        links=tuple(request.links or ()),
        kind=request.kind,
        question=request.question,
        channel_id=request.channel_id,
        trade_name=trade_name,
        trade_id=request.trade_id,
        due_on=request.due_on,
        allow_anonymous=request.allow_anonymous,
        state=request.state,
        message_id=request.message_id,
        thread_id=request.thread_id,
        answers=len(rows),
        reviewers=tuple(dict.fromkeys(names)),
        anonymous_answers=sum(1 for a, _, _ in rows if a),
        created_at=request.created_at,
        file_name=request.file_name,
        former_answers=former,
    )


async def load_answer(session: AsyncSession, community_id: int, answer_id: int) -> AnswerView | None:
    answer = await session.scalar(
        select(FeedbackAnswer).where(
            FeedbackAnswer.community_id == community_id, FeedbackAnswer.id == answer_id
        )
    )
    if answer is None:
        return None
    author = await person(session, community_id, answer.member_id) if answer.member_id else None
    helpful = (
        await session.scalar(
            select(Kudos.id).where(Kudos.community_id == community_id, Kudos.answer_id == answer_id)
        )
        is not None
    )
    return AnswerView(
        answer.id,
        answer.request_id,
        author,
        answer.anonymous,
        answer.text,
        dict(answer.ratings or {}),
        helpful,
    )


async def destinations(
    session: AsyncSession, community_id: int, member_id: int, feedback_channel: str | None
) -> list[tuple[str, str | None, str]]:
    """Where a member may ask: (value, trade name or None, channel id); the feedback channel first."""
    found: list[tuple[str, str | None, str]] = []
    if feedback_channel:
        found.append(("feedback", None, feedback_channel))
    rows = await session.execute(
        select(Trade.id, Trade.name, Trade.channel_id)
        .join(ProfileTrade, ProfileTrade.trade_id == Trade.id)
        .join(Profile, Profile.id == ProfileTrade.profile_id)
        .where(
            Profile.community_id == community_id,
            Profile.member_id == member_id,
            Trade.community_id == community_id,
            Trade.channel_id.is_not(None),
        )
        .order_by(ProfileTrade.position)
    )
    found.extend((f"trade:{tid}", name, channel) for tid, name, channel in rows)
    return found


async def slots_in_week(session: AsyncSession, community_id: int, member_id: int, week: str) -> set[int]:
    """The week slots the member's requests of `week` hold (one per request)."""
    return set(
        await session.scalars(
            select(FeedbackRequest.week_slot).where(
                FeedbackRequest.community_id == community_id,
                FeedbackRequest.member_id == member_id,
                FeedbackRequest.week == week,
            )
        )
    )


def free_slot(taken: set[int]) -> int:
    """The lowest slot no request holds: a request deleted since (its card refused) frees its own."""
    return next(slot for slot in range(1, len(taken) + 2) if slot not in taken)


async def card_posted(session: AsyncSession, community_id: int, request_id: int) -> bool:
    """The request's card has its `posts` row: False once a moderator removed it (or it was deleted).

    Features learn of a removal from the missing row (cogs.config._moderation).
    """
    found = await session.scalar(
        select(Post.id)
        .where(Post.community_id == community_id, Post.feature == FEATURE, Post.object_id == request_id)
        .limit(1)
    )
    return found is not None


async def card_removed(session: AsyncSession, row: FeedbackRequest) -> bool:
    """The card was posted (its message id kept) but its `posts` row is gone: removed by a moderator."""
    return row.message_id is not None and not await card_posted(session, row.community_id, row.id)


async def insert_request(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """The new request's id; None when its week slot was taken meanwhile (the limit, settled here)."""
    inserted = await session.scalar(
        dialect_insert(session, FeedbackRequest)
        .values(values)
        .on_conflict_do_nothing()
        .returning(FeedbackRequest.id)
    )
    return None if inserted is None else int(inserted)


@functools.cache
def _claim_query() -> Any:
    return (
        update(FeedbackRequest)
        .where(
            FeedbackRequest.community_id == bindparam("b_community_id"),
            FeedbackRequest.id == bindparam("b_request_id"),
            FeedbackRequest.state == OPEN,
        )
        .values(state=OPEN)
        .returning(FeedbackRequest)
        .execution_options(synchronize_session=False)
    )


async def claim_open(session: AsyncSession, community_id: int, request_id: int) -> FeedbackRequest | None:
    """The open request, held open for this transaction; None when it is gone or closed.

    One statement, UPDATE … RETURNING: a row write, so a racing close waits for this one or wins.
    """
    return await session.scalar(_claim_query(), {"b_community_id": community_id, "b_request_id": request_id})


async def close_row(session: AsyncSession, community_id: int, request_id: int, now: datetime) -> bool:
    """Open -> closed, once: the caller whose UPDATE changed the row does the closing."""
    result = await session.execute(
        update(FeedbackRequest)
        .where(
            FeedbackRequest.community_id == community_id,
            FeedbackRequest.id == request_id,
            FeedbackRequest.state == OPEN,
        )
        .values(state=CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def give_kudos(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when this answer already has its kudos (a double click, or another process first)."""
    inserted = await session.scalar(
        dialect_insert(session, Kudos).values(values).on_conflict_do_nothing().returning(Kudos.id)
    )
    return inserted is not None


def month_start(day: date) -> date:
    return day.replace(day=1)


async def kudos_rows(
    session: AsyncSession, community_id: int, member_id: int, since: datetime, *, public: bool = False
) -> list[tuple[str, datetime]]:
    """The member's kudos (kind, when); `public`: only those others may see (`public_kudos`)."""
    query = select(Kudos.kind, Kudos.created_at).where(
        Kudos.community_id == community_id, Kudos.receiver_id == member_id, Kudos.created_at >= since
    )
    rows = await session.execute(query.where(public_kudos()) if public else query)
    return [(kind, at) for kind, at in rows]


async def kudos_total(session: AsyncSession, community_id: int, member_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(Kudos.id)).where(
                Kudos.community_id == community_id, Kudos.receiver_id == member_id
            )
        )
        or 0
    )


def month_key(at: datetime, timezone: str) -> str:
    """The month a kudos counts in: "2026-11", in the community's zone."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


async def count_kudos(
    session: AsyncSession, community_id: int, month: str, trade_id: int | None, receiver_id: int, delta: int
) -> None:
    """Adds `delta` kudos to a reviewer's month in a trade (an upsert: two kudos at once both count)."""
    values = {
        "community_id": community_id,
        "month": month,
        "trade_key": trade_id or 0,
        "receiver_id": receiver_id,
        "n": delta,
    }
    statement = dialect_insert(session, KudosMonth).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["community_id", "month", "trade_key", "receiver_id"],
            set_={"n": KudosMonth.n + statement.excluded.n},
        )
    )


async def top_reviewers(
    session: AsyncSession, community_id: int, month: str, per_trade: int
) -> list[tuple[str | None, str, int]]:
    """The month's most thanked reviewers per trade: (trade name or None, name, kudos).

    One query over the monthly counts (KudosMonth): for each of the community's trades and the
    feedback channel (key 0), the first `per_trade` rows of the top index read backwards (most
    kudos first; among equals, the later member), skipping members whose profile opted out of
    leaderboards (`Profile.opt_leaderboards`; being hidden from the directory is another choice and
    keeps one listed here). Trades alphabetically, the feedback channel last; within a trade most
    kudos first, then by name.
    """
    values = {"community_id": community_id, "month": month, "per_trade": per_trade}
    rows = list((await session.execute(_top_query(), values)).all())
    rows.sort(key=lambda r: (r[0] == 0, r[1] or "", r[0], -r[3], r[2]))
    return [(trade, person_name, int(n)) for _key, trade, person_name, n in rows]


@functools.cache
def _top_query() -> Select[int, str, str, int]:
    """Built once (its correlated parts cost more to build than the query takes to run)."""
    community_id: BindParameter[int] = bindparam("community_id")
    month: BindParameter[str] = bindparam("month")
    per_trade: BindParameter[int] = bindparam("per_trade")
    keys = union_all(
        select(Trade.id.label("key"), Trade.name.label("name")).where(Trade.community_id == community_id),
        select(literal(0).label("key"), null().label("name")),
    ).subquery()
    ranked = aliased(KudosMonth)
    opted_out = (
        select(Profile.id)
        .where(
            Profile.community_id == community_id,
            Profile.member_id == ranked.receiver_id,
            Profile.opt_leaderboards.is_(False),
        )
        .exists()
    )
    first = (
        select(ranked.id)
        .where(
            ranked.community_id == community_id,
            ranked.month == month,
            ranked.trade_key == keys.c.key,
            ~opted_out,
        )
        .order_by(ranked.n.desc(), ranked.receiver_id.desc())
        .limit(per_trade)
        .correlate(keys)
    )
    name = func.coalesce(Member.display_name, Member.platform_user_id)
    return (
        select(keys.c.key, keys.c.name, name, KudosMonth.n)
        .select_from(keys)
        .join(KudosMonth, KudosMonth.id.in_(first.scalar_subquery()))
        .join(Member, Member.id == KudosMonth.receiver_id)
    )


# -- privacy ----------------------------------------------------------------------------------------


async def export_member(session: AsyncSession, community_id: int, member_id: int) -> dict[str, Any]:
    """Requests asked, answers written (anonymous ones too), kudos given and received."""
    async def rows(model: Any, column: Any) -> Sequence[Any]:
        return (await session.scalars(
            select(model).where(model.community_id == community_id, column == member_id).order_by(model.id)
        )).all()

    requests = await rows(FeedbackRequest, FeedbackRequest.member_id)
    answers = await rows(FeedbackAnswer, FeedbackAnswer.member_id)
    given = await rows(Kudos, Kudos.giver_id)
    received = await rows(Kudos, Kudos.receiver_id)
    if not (requests or answers or given or received):
        return {}
    return {
        "requests": [
            {
                "id": r.id,
                "title": r.title,
                "links": list(r.links or ()),
                "file_name": r.file_name,
                "kind": r.kind,
                "question": r.question,
                "channel_id": r.channel_id,
                "due_on": r.due_on.isoformat() if r.due_on else None,
                "anonymous_answers_allowed": r.allow_anonymous,
                "state": r.state,
                "created_at": r.created_at.isoformat(),
                "closed_at": r.closed_at.isoformat() if r.closed_at else None,
            }
            for r in requests
        ],
        "answers": [
            {
                "id": a.id,
                "request_id": a.request_id,
                "anonymous": a.anonymous,
                "text": a.text,
                "ratings": dict(a.ratings or {}),
                "created_at": a.created_at.isoformat(),
            }
            for a in answers
        ],
        "kudos_given": [
            {"answer_id": k.answer_id, "kind": k.kind, "at": k.created_at.isoformat(), "month": k.month}
            for k in given
        ],
        "kudos_received": [
            {"answer_id": k.answer_id, "kind": k.kind, "at": k.created_at.isoformat(), "month": k.month}
            for k in received
        ],
    }


JOB_BATCH = 100  # requests whose jobs one statement cancels


async def delete_member(session: AsyncSession, community_id: int, member_id: int) -> None:
    """Privacy deletion: requests removed, answers turned into text-less stubs, kudos removed.

    The member's requests go, with the answers under them (a job archives their threads and removes
    those answers' messages); the answers they wrote elsewhere become "a former member" stubs without
    text or ratings; the kudos they gave or received go. Their own messages were removed beforehand
    by bot.posting.remove_posts. The requests' nudge and due-date jobs are cancelled: left pending,
    they would fire on the next request given the same id (SQLite reuses it), DMing its requester
    about a due date they never set.
    """
    requests = (
        await session.execute(
            select(
                FeedbackRequest.id, FeedbackRequest.channel_id, FeedbackRequest.thread_id,
                FeedbackRequest.created_at,
            ).where(FeedbackRequest.community_id == community_id, FeedbackRequest.member_id == member_id)
        )
    ).all()
    ids = [r.id for r in requests]
    if ids:
        # The hook has no scheduler at hand: its rows are marked as `Scheduler.cancel` does. In batches:
        # SQLite refuses an expression deeper than 1,000 (about 500 requests' keys in one OR).
        for start in range(0, len(requests), JOB_BATCH):
            keys = or_(*(request_jobs(kind, community_id, r.id, r.created_at)
                         for r in requests[start:start + JOB_BATCH] for kind in (NUDGE, DUE)))
            await session.execute(
                update(Job)
                .where(Job.community_id == community_id, Job.state == PENDING, keys)
                .values(state=SKIPPED, finished_at=datetime.now(UTC), last_error="cancelled")
                .execution_options(synchronize_session=False)
            )
        answer_ids = select(FeedbackAnswer.id).where(
            FeedbackAnswer.community_id == community_id, FeedbackAnswer.request_id.in_(ids)
        )
        posts = (
            await session.execute(
                select(Post.channel_id, Post.message_id).where(
                    Post.community_id == community_id,
                    ((Post.feature == ANSWER_POSTS) & Post.object_id.in_(answer_ids))
                    | ((Post.feature == CLOSING_POSTS) & Post.object_id.in_(ids)),
                )
            )
        ).all()
        threads = [[r.channel_id, r.thread_id] for r in requests if r.thread_id]
        if posts or threads:
            # The hook has no notifier: the scheduler's sweep runs this job (the jobs table is the truth).
            queue(session, FORGET, community_id, {"threads": threads, "messages": [list(p) for p in posts]})
        await session.execute(
            delete(Post).where(
                Post.community_id == community_id,
                Post.feature == ANSWER_POSTS,
                Post.object_id.in_(answer_ids),
            )
        )
        await session.execute(
            delete(Post).where(
                Post.community_id == community_id,
                Post.feature.in_((FEATURE, NUDGE_POSTS, CLOSING_POSTS)),
                Post.object_id.in_(ids),
            )
        )
        await _uncount(session, community_id, Kudos.answer_id.in_(answer_ids))
        await session.execute(
            delete(Kudos).where(Kudos.community_id == community_id, Kudos.answer_id.in_(answer_ids))
        )
        await session.execute(
            delete(FeedbackAnswer).where(
                FeedbackAnswer.community_id == community_id, FeedbackAnswer.request_id.in_(ids)
            )
        )
        await session.execute(
            delete(FeedbackRequest).where(
                FeedbackRequest.community_id == community_id, FeedbackRequest.id.in_(ids)
            )
        )
        await forget_removed(session, community_id, FEATURE, ids)
    await _redraw_thanks(session, community_id, member_id)
    await _uncount(session, community_id, Kudos.giver_id == member_id)
    await session.execute(
        delete(KudosMonth).where(KudosMonth.community_id == community_id, KudosMonth.receiver_id == member_id)
    )
    await session.execute(
        delete(Kudos).where(
            Kudos.community_id == community_id,
            (Kudos.giver_id == member_id) | (Kudos.receiver_id == member_id),
        )
    )
    await session.execute(
        update(FeedbackAnswer)
        .where(FeedbackAnswer.community_id == community_id, FeedbackAnswer.member_id == member_id)
        .values(member_id=None, text="", ratings={})
        .execution_options(synchronize_session=False)
    )


async def _redraw_thanks(session: AsyncSession, community_id: int, member_id: int) -> None:
    """The closing notes thanking the member by name, redrawn without it by a CARD job each.

    Run before their answers become "a former member" stubs; the hook has no platform at hand.
    """
    thanked = (
        await session.execute(
            select(FeedbackRequest.id, FeedbackRequest.created_at)
            .where(
                FeedbackRequest.community_id == community_id,
                FeedbackRequest.id.in_(
                    select(FeedbackAnswer.request_id).where(
                        FeedbackAnswer.community_id == community_id,
                        FeedbackAnswer.member_id == member_id,
                        FeedbackAnswer.anonymous.is_(False),
                    )
                ),
                FeedbackRequest.id.in_(
                    select(Post.object_id).where(
                        Post.community_id == community_id, Post.feature == CLOSING_POSTS
                    )
                ),
            )
            .order_by(FeedbackRequest.id)
        )
    ).all()
    for request_id, created_at in thanked:
        payload = {"request_id": request_id, "created_at": created_at.isoformat(), "redraw": True}
        queue(session, CARD, community_id, payload, due_at=AT_ONCE)


async def _uncount(session: AsyncSession, community_id: int, which: Any) -> None:
    """Takes the kudos about to be deleted out of the monthly counts (rows left at 0 go).

    Each from the month it was counted in (`Kudos.month`), whatever the community's zone is now.
    """
    timezone = await session.scalar(select(Community.timezone).where(Community.id == community_id))
    rows = await session.execute(  # only the public ones were counted (`public_kudos`)
        select(Kudos.trade_id, Kudos.receiver_id, Kudos.month, Kudos.created_at).where(
            Kudos.community_id == community_id, which, public_kudos()
        )
    )
    zone = timezone or "UTC"
    taken = Counter(
        (month or month_key(at, zone), trade or 0, receiver) for trade, receiver, month, at in rows
    )
    for (month, trade_key, receiver), n in taken.items():
        await session.execute(
            update(KudosMonth)
            .where(
                KudosMonth.community_id == community_id,
                KudosMonth.month == month,
                KudosMonth.trade_key == trade_key,
                KudosMonth.receiver_id == receiver,
            )
            .values(n=KudosMonth.n - n)
            .execution_options(synchronize_session=False)
        )
    if taken:
        await session.execute(
            delete(KudosMonth).where(KudosMonth.community_id == community_id, KudosMonth.n <= 0)
        )


def next_week_start(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())
