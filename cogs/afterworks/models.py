"""Tables of afterworks: the events, the members' answers, reminder deliveries and DM preferences."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

KINDS = ("afterwork", "coworking", "online")
SCHEDULED, CANCELLED = "scheduled", "cancelled"
GOING, MAYBE, CANT, WAITLIST = "going", "maybe", "cant", "waitlist"
ANSWERS = (GOING, MAYBE, CANT)
WEEKLY, BIWEEKLY, MONTHLY = "weekly", "biweekly", "monthly"
RULES = (WEEKLY, BIWEEKLY, MONTHLY)


class Series(Base):
    """A recurring afterwork: the rule and the first occurrence's local wall time it is computed from.

    Occurrence k starts at the rule's k-th local wall time read in `timezone`, so 19:00 stays 19:00
    local across daylight-saving changes. Each occurrence is an Afterwork row (its own answers, card).
    """

    __tablename__ = "afterwork_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    rule: Mapped[str] = mapped_column(String(16))
    first_wall: Mapped[datetime] = mapped_column(DateTime())  # naive: the local time of occurrence 0
    timezone: Mapped[str] = mapped_column(String(64))
    nth: Mapped[int | None] = mapped_column(Integer, nullable=True)  # monthly: 1 to 4, or -1 (the last)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)  # local date, included
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Afterwork(Base):
    """One event. `going_count` and `rsvp_seq` are changed only by conditional UPDATEs (the capacity race)."""

    __tablename__ = "afterworks"
    __table_args__ = (
        Index("ix_afterworks_community_upcoming", "community_id", "status", "starts_at"),
        UniqueConstraint("series_id", "occurrence"),  # two processes never post the same occurrence twice
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    # Kept when the organizer's data is deleted: the event stays, anonymous.
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="afterwork")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    city_key: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Answers close this many minutes before the start (None: at the start).
    rsvp_cutoff_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    going_count: Mapped[int] = mapped_column(Integer, default=0)
    rsvp_seq: Mapped[int] = mapped_column(Integer, default=0)  # click order of the answers
    origin_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # Discord scheduled event
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # .ics SEQUENCE: bumped by each change
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("afterwork_series.id", ondelete="SET NULL"), nullable=True
    )
    occurrence: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0, 1, 2… within its series
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def closes_at(self) -> datetime:
        """When answers close: the cutoff, else the start."""
        return self.starts_at - timedelta(minutes=self.rsvp_cutoff_minutes or 0)


class Rsvp(Base):
    """A member's answer to one afterwork; `position` orders the waitlist (click order)."""

    __tablename__ = "afterwork_rsvps"
    __table_args__ = (
        UniqueConstraint("afterwork_id", "member_id"),
        Index("ix_afterwork_rsvps_event_status", "afterwork_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    afterwork_id: Mapped[int] = mapped_column(ForeignKey("afterworks.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """One reminder sent (or being sent) to one target: the unique key makes each go out once.

    `target` is "member:<id>" or "channel"; `starts_at` is the event time the reminder was for, so a
    reminder re-planned by an edit of the time is a new delivery.
    """

    __tablename__ = "afterwork_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "afterwork_id", "offset_minutes", "starts_at", "target", name="uq_afterwork_deliveries_once"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    afterwork_id: Mapped[int] = mapped_column(ForeignKey("afterworks.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=True, index=True
    )
    offset_minutes: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    target: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Preference(Base):
    """A member's choice about afterwork DMs (no row: DMs on)."""

    __tablename__ = "afterwork_preferences"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    dms: Mapped[bool] = mapped_column(Boolean, default=True)


OPEN, DECIDED = "open", "decided"


class Poll(Base):
    """A date poll: the afterwork's details without its time, and up to 5 slots members tick."""

    __tablename__ = "afterwork_polls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # the form's other fields, as typed
    status: Mapped[str] = mapped_column(String(16), default=OPEN)  # open, decided, cancelled
    chosen_slot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    afterwork_id: Mapped[int | None] = mapped_column(
        ForeignKey("afterworks.id", ondelete="SET NULL"), nullable=True
    )
    origin_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PollSlot(Base):
    __tablename__ = "afterwork_poll_slots"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("afterwork_polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1 to 5, as proposed
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PollVote(Base):
    """A member can make one slot: the unique key settles double clicks and concurrent ones."""

    __tablename__ = "afterwork_poll_votes"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("afterwork_polls.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("afterwork_poll_slots.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
