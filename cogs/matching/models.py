"""Tables of matching: the teams proposed (for the invite button and for rotation) and who was in them."""

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
