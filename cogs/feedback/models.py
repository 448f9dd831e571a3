"""Tables of peer feedback: requests, their answers, and the kudos a requester gives a helpful answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, exists
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

OPEN, CLOSED = "open", "closed"


class FeedbackRequest(Base):
    """A member asking their peers to look at a piece of work, posted as a card with a thread."""

    __tablename__ = "feedback_requests"
    __table_args__ = (
        # The weekly limit: a request takes one of the member's numbered slots of its week; two
        # requests racing for the last slot collide here, so the database settles the limit.
        UniqueConstraint("community_id", "member_id", "week", "week_slot"),
        Index("ix_feedback_requests_member", "community_id", "member_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Discord: the name of a file attached to /feedback; the file itself is posted with the card (its
    # interaction attachment's URL expires), so it lives as long as the card's message.
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text, default="")
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id", ondelete="SET NULL"), nullable=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(8), default=OPEN)
    week: Mapped[str] = mapped_column(String(8))  # ISO week in the community's zone, "2026-W48"
    week_slot: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the card
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: answers in the channel
    nudged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FeedbackAnswer(Base):
    """A peer's answer; `member_id` None once its author deleted their data (a text-less stub)."""

    __tablename__ = "feedback_answers"
    __table_args__ = (Index("ix_feedback_answers_request", "community_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # checklist item -> 1..5
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Kudos(Base):
    """One per helpful answer (the unique answer id settles double clicks), for its reviewer."""

    __tablename__ = "feedback_kudos"
    __table_args__ = (
        UniqueConstraint("answer_id"),
        Index("ix_feedback_kudos_receiver", "community_id", "receiver_id", "created_at"),
        Index("ix_feedback_kudos_month", "community_id", "created_at", "trade_id", "receiver_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("feedback_answers.id", ondelete="CASCADE"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The month it counts in (KudosMonth.month), fixed when given: a later change of the community's
    # zone must not move it, or a deletion would take it out of another month's count. None only for
    # rows written without `mark_helpful` (tests, benchmarks): then the community's zone of today.
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)


class KudosMonth(Base):
    """Kudos received per month, trade and reviewer: what `/kudos top` reads, kept with every kudos.

    A kudos given adds one (an upsert); a privacy deletion takes its kudos back out. `month` is
    "2026-11" in the community's zone; `trade_key` is the request's trade id, 0 for the feedback
    channel (a key, not a foreign key: NULLs would not collide in the unique constraint).
    The top index is read backwards, most kudos first, three rows per trade.
    """

    __tablename__ = "feedback_kudos_months"
    __table_args__ = (
        UniqueConstraint("community_id", "month", "trade_key", "receiver_id"),
        Index("ix_feedback_kudos_months_top", "community_id", "month", "trade_key", "n", "receiver_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    trade_key: Mapped[int] = mapped_column(Integer)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer)


def public_kudos() -> Any:
    """Kudos given to an answer signed with its author's name (a condition on `Kudos`).

    A kudos on an anonymous answer is its author's alone: counted on no leaderboard, in no team
    proposal's score and shown to nobody else, or looking up who received it would tell who wrote it.
    """
    return ~exists().where(FeedbackAnswer.id == Kudos.answer_id, FeedbackAnswer.anonymous.is_(True))
