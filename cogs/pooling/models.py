"""Tables of pooling: group purchases, who joined them (or waits), and the DMs sent about them once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class PoolDelivery(Base):
    """One DM about a pool's outcome to one member: the unique key lets each go out once."""

    __tablename__ = "pool_deliveries"
    __table_args__ = (UniqueConstraint("pool_id", "kind", "member_id", name="uq_pool_deliveries_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "outcome" | "summary"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
