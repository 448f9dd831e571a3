"""Tables of pairing rounds: the rounds held, their groups and members, and members' own preferences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

HELD, SKIPPED = "held", "skipped"
OUTCOMES = ("met", "not_yet", "cannot")
# A group's private space: opened by exactly one process (a conditional UPDATE claims it).
SPACE_PENDING, SPACE_OPENING, SPACE_OPEN, SPACE_DMS, SPACE_FAILED = (
    "pending",
    "opening",
    "open",
    "dms",
    "failed",
)


class PairingRound(Base):
    """One round of a community: the slot it was scheduled for is unique, so a round is held once."""

    __tablename__ = "pairing_rounds"
    __table_args__ = (
        UniqueConstraint("community_id", "scheduled_for"),
        UniqueConstraint("community_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… within the community (snoozes count rounds)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(8), default=HELD)
    eligible: Mapped[int] = mapped_column(Integer, default=0)
    announced: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PairingGroup(Base):
    """Two or three members put together in a round, their private space and whether they met."""

    __tablename__ = "pairing_groups"
    __table_args__ = (Index("ix_pairing_groups_round", "community_id", "round_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"))
    space: Mapped[str] = mapped_column(String(8), default=SPACE_PENDING)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_cross_pairs: Mapped[int] = mapped_column(Integer, default=0)  # first-time pairs across trades
    outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)  # OUTCOMES
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # While "opening": when its round's job claimed it (a dead job's claim is taken back once stale).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Members of the group who deleted their data since: its card shows each as "a former member".
    former_members: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class PairingMember(Base):
    """A member in a group; the whole history of who met whom is read from these rows."""

    __tablename__ = "pairing_members"
    __table_args__ = (
        UniqueConstraint("round_id", "member_id"),
        Index("ix_pairing_members_member", "community_id", "member_id"),
        Index("ix_pairing_members_group", "community_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("pairing_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))


class PairingPreference(Base):
    """A member's snooze: not paired in rounds up to `snoozed_through` (a round number)."""

    __tablename__ = "pairing_preferences"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    snoozed_through: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PairingAvoid(Base):
    """A "don't pair me with" entry: private to `member_id`; holds both ways when grouping.

    Once the avoided member deleted their data the entry still holds, should they come back: their
    member id is gone (NULL) and `avoided_key` is a keyed hash of their platform user id
    (`_store.user_key`, an HMAC with the community's random salt), not a plain hash anyone could
    recompute from a list of user ids.
    """

    __tablename__ = "pairing_avoids"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "avoided_id"),
        Index("ix_pairing_avoids_avoided", "community_id", "avoided_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    avoided_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=True
    )
    avoided_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # only with avoided_id NULL
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PairingSalt(Base):
    """The community's random key for `PairingAvoid.avoided_key`, made by the first deletion needing it."""

    __tablename__ = "pairing_salts"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    salt: Mapped[str] = mapped_column(String(64))  # 32 random bytes, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
