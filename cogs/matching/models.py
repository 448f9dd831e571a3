"""Tables of matching: the teams proposed (for Invite and rotation), who was in them, the invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class Proposal(Base):
    """One /match answer: the request as resolved, its tie-break seed, and whether the team was invited.

    `token` is what the Invite button carries (`matching:invite:<token>`): the proposal is stored
    after the requester has their answer, so its id is not known when the button is drawn.
    """

    __tablename__ = "match_proposals"
    __table_args__ = (UniqueConstraint("community_id", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Where Invite was clicked: the team's private thread opens there (or in the missions channel).
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Set once, by whoever opens the team's private space (a conditional UPDATE: never twice).
    space_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProposedMember(Base):
    """A member proposed for a slot: the team's list for the invite, and the rotation's memory."""

    __tablename__ = "match_proposed_members"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id"),
        # Rotation counts each candidate's recent proposals: by community and time, the member beside.
        Index("ix_match_proposed_members_recent", "community_id", "proposed_at", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("match_proposals.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id", ondelete="SET NULL"), nullable=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(Base):
    """A member for a slot of a proposal: the proposed one (rank 0) or an alternative (rank 1, 2…).

    Stored with the proposal as `reserve`; Invite makes the rank-0 rows `pending` (a DM with Accept /
    Decline); a decline, an unreachable DM or an expiry invites the slot's next reserve. The answer is
    one conditional UPDATE from `pending`, so a second click, or two processes, change nothing more.
    """

    __tablename__ = "match_invitations"
    __table_args__ = (
        UniqueConstraint("proposal_id", "slot", "member_id"),
        Index("ix_match_invitations_proposal", "proposal_id", "slot", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("match_proposals.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    # reserve | pending | accepted | declined | unreachable | expired
    status: Mapped[str] = mapped_column(String(12), default="reserve")
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
