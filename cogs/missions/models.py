"""Tables of mission sharing: the mission, the trades it needs, its candidacies, and posting allowances."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

STATUSES = ("open", "forming", "staffed", "closed", "expired")
LIVE = ("open", "forming")  # candidacies and expiry apply
OUTCOMES = ("won", "lost", "cancelled")
WORK_MODES = ("remote", "onsite", "hybrid")
SOURCES = ("own", "network", "platform")
BUDGET_KINDS = ("fixed", "daily", "discuss")


class Mission(Base):
    """A client mission shared by a member (the author) with the trades it needs."""

    __tablename__ = "missions"
    __table_args__ = (
        Index("ix_missions_community_status", "community_id", "status", "id"),
        Index("ix_missions_community_author", "community_id", "author_member_id", "created_at"),
        Index("ix_missions_community_title_key", "community_id", "title_key"),
        Index("ix_missions_community_city_key", "community_id", "city_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    # NULL once the author deleted their data while others were involved ("a former member").
    author_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    brought_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    title_key: Mapped[str] = mapped_column(String(200))  # folded words, for repost detection
    description: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[key, label], …]
    budget_kind: Mapped[str] = mapped_column(String(8), default="discuss")
    budget_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    budget_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    duration: Mapped[str] = mapped_column(String(50), default="")
    work_mode: Mapped[str] = mapped_column(String(8), default="remote")
    city: Mapped[str] = mapped_column(String(100), default="")
    city_key: Mapped[str] = mapped_column(String(100), default="", server_default="")  # folded, for /missions
    sector_id: Mapped[int | None] = mapped_column(
        ForeignKey("sectors.id", ondelete="SET NULL"), nullable=True
    )
    answer_by: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8), default="own")
    platform_name: Mapped[str] = mapped_column(String(50), default="")
    referral_fee: Mapped[int | None] = mapped_column(Integer, nullable=True)  # percent, 0..30
    link: Mapped[str] = mapped_column(String(500), default="")
    client_name: Mapped[str] = mapped_column(String(100), default="")  # confidential
    status: Mapped[str] = mapped_column(String(8), default="open")
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    origin_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MissionTrade(Base):
    """A trade slot of a mission, in the order the author chose."""

    __tablename__ = "mission_trades"
    __table_args__ = (
        UniqueConstraint("mission_id", "trade_id"),
        Index("ix_mission_trades_community_trade", "community_id", "trade_id", "mission_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class MissionSkill(Base):
    """A skill wanted by a mission (its normalized key): /missions finds missions by skill with an index."""

    __tablename__ = "mission_skills"
    __table_args__ = (
        UniqueConstraint("mission_id", "key"),
        Index("ix_mission_skills_community_key", "community_id", "key", "mission_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))


class MissionSearch(Base):
    """A /missions search's resolved filters behind a token (`missions:page:<n>:<token>`).

    The token is a hash of the community and the filters, so the same search reuses its row. No member
    column: "mine" and "where I am a candidate" mean whoever turns the page.
    """

    __tablename__ = "mission_searches"
    __table_args__ = (UniqueConstraint("community_id", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(16))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Candidacy(Base):
    """A member's "I'm interested" on a mission; one per member and mission (the database says so)."""

    __tablename__ = "mission_candidacies"
    __table_args__ = (
        UniqueConstraint("mission_id", "member_id"),
        Index("ix_mission_candidacies_community_member", "community_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    trade_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the mission's trades they cover
    note: Mapped[str] = mapped_column(String(500), default="")
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MissionAllowance(Base):
    """A member's posting allowance: `used` missions in the 7 days from `window_start`.

    Claimed with one conditional UPDATE, so two posts at once cannot both take the last one.
    """

    __tablename__ = "mission_allowances"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used: Mapped[int] = mapped_column(Integer, default=0)


class MissionInvitation(Base):
    """A member invited by the author from **Suggest a team**: DMed once per mission (the database says so).

    Accepting is clicking **I'm interested** in that DM: the invitation becomes a candidacy like any other;
    **Not for me** declines it (the next suggestion proposes someone else).
    """

    __tablename__ = "mission_invitations"
    __table_args__ = (
        UniqueConstraint("mission_id", "member_id"),
        Index("ix_mission_invitations_community_member", "community_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id", ondelete="SET NULL"), nullable=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "Not for me" in the DM: no longer suggested for this mission, the author told once.
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
