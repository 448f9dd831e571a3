"""Tables of member introductions: the profile, its trades, skills, sectors, links and posted cards."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, UTCDateTime, utcnow

WORK_MODES = ("remote", "onsite", "hybrid")
AVAILABILITY = ("available", "from_date", "busy")
_LISTING = ("availability", "available_from", "updated_at", "work_mode")


class Profile(Base):
    """One member's introduction in one community."""

    __tablename__ = "profiles"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id"),
        # The directory's filters and ranking read only these columns (cogs/directory/_queries.py):
        # by id (a trade's or sector's profiles), by city, or every listed profile, the index alone
        # answers, and the wide rows (bio, languages…) are read for the result page only.
        Index("ix_profiles_community_listed", "community_id", "id", "opt_directory", *_LISTING),
        Index("ix_profiles_community_city", "community_id", "city_key", "opt_directory", *_LISTING, "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    city_key: Mapped[str] = mapped_column(String(100), default="")
    work_mode: Mapped[str] = mapped_column(String(16), default="remote")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    rate_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    availability: Mapped[str] = mapped_column(String(16), default="available")
    available_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    opt_matching: Mapped[bool] = mapped_column(Boolean, default=True)
    opt_pairing: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_directory: Mapped[bool] = mapped_column(Boolean, default=True)
    # Shown on leaderboards (/kudos top): its own choice, on by default (profiles saved before too).
    opt_leaderboards: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    trades: Mapped[list[ProfileTrade]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileTrade.position", lazy="raise"
    )
    skills: Mapped[list[ProfileSkill]] = relationship(cascade="all, delete-orphan", lazy="raise")
    sectors: Mapped[list[ProfileSector]] = relationship(cascade="all, delete-orphan", lazy="raise")
    links: Mapped[list[ProfileLink]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileLink.position", lazy="raise"
    )


class ProfileTrade(Base):
    __tablename__ = "profile_trades"
    __table_args__ = (
        UniqueConstraint("profile_id", "trade_id"),
        Index("ix_profile_trades_community_trade", "community_id", "trade_id", "profile_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProfileSkill(Base):
    """A skill tag: `key` is the normalized form the directory searches, `label` what the member typed."""

    __tablename__ = "profile_skills"
    __table_args__ = (
        UniqueConstraint("profile_id", "key"),
        Index("ix_profile_skills_community_key", "community_id", "key", "profile_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(50))


class ProfileSector(Base):
    __tablename__ = "profile_sectors"
    __table_args__ = (
        UniqueConstraint("profile_id", "sector_id"),
        Index("ix_profile_sectors_community_sector", "community_id", "sector_id", "profile_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id", ondelete="CASCADE"))


class ProfileLink(Base):
    __tablename__ = "profile_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)
