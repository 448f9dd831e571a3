"""Tables of pooling: group purchases, who joined them (or waits), and the DMs sent about them once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

OPEN, HAPPENING, FAILED, CANCELLED = "open", "happening", "failed", "cancelled"
IN, WAITLIST = "in", "waitlist"


class Pool(Base):
    """One group purchase. `participant_count` and `join_seq` change only by conditional UPDATEs."""

    __tablename__ = "pools"
    __table_args__ = (Index("ix_pools_community_status", "community_id", "status", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    # Kept when the organizer's data is deleted: a decided pool stays, anonymous.
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    what: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500))
    # [[from_count, price_in_cents], …]: from 1 upwards, prices falling.
    tiers: Mapped[list[Any]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    minimum: Mapped[int] = mapped_column(Integer)
    maximum: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    channel_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    join_seq: Mapped[int] = mapped_column(Integer, default=0)  # click order of Join
    final_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The one reminder to those who have not paid, once sent (set by a conditional UPDATE).
    payment_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PoolMember(Base):
    """A member in a pool (`in`) or waiting for a seat (`waitlist`, ordered by `position`)."""

    __tablename__ = "pool_members"
    __table_args__ = (
        UniqueConstraint("pool_id", "member_id"),
        Index("ix_pool_members_pool_status", "pool_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Ticked by the organizer once the purchase happened (seen by them only); None: not paid yet.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PoolDelivery(Base):
    """One DM about a pool's outcome to one member: the unique key lets each go out once."""

    __tablename__ = "pool_deliveries"
    __table_args__ = (UniqueConstraint("pool_id", "kind", "member_id", name="uq_pool_deliveries_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "outcome" | "summary" | "unpaid"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- the rota of shared admin tasks ----------------------------------------------------------------

PENDING, DONE, MODERATORS, STOPPED = "pending", "done", "moderators", "stopped"


class RotaTask(Base):
    """A recurring admin task moderators defined: due every week, 2 weeks or month on a weekday."""

    __tablename__ = "rota_tasks"
    __table_args__ = (UniqueConstraint("community_id", "key", name="uq_rota_tasks_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))  # the folded name: one task per name
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    cadence: Mapped[str] = mapped_column(String(16))  # weekly | biweekly | monthly
    weekday: Mapped[str] = mapped_column(String(3))  # mon … sun
    trade_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: anyone may take it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RotaVolunteer(Base):
    """A member who takes turns at a task; `seed` (random, stored) breaks the last ties of fairness."""

    __tablename__ = "rota_volunteers"
    __table_args__ = (UniqueConstraint("task_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("rota_tasks.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RotaTurn(Base):
    """One occurrence of a task and who holds it; changed only by conditional UPDATEs."""

    __tablename__ = "rota_turns"
    __table_args__ = (
        UniqueConstraint("task_id", "due_at", name="uq_rota_turns_due"),
        Index("ix_rota_turns_community_status", "community_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("rota_tasks.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Who said "Can't this time" (the turn passes on once): kept out of the next pick.
    declined_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    passes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)  # pending|done|moderators|stopped
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    moderators_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RotaDelivery(Base):
    """One DM about a turn to one member (its reminder with Done / Can't): the unique key sends it once."""

    __tablename__ = "rota_deliveries"
    __table_args__ = (UniqueConstraint("turn_id", "member_id", name="uq_rota_deliveries_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    turn_id: Mapped[int] = mapped_column(ForeignKey("rota_turns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
