"""Tables of the config feature: the audit log of settings changes, and collaboration packs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One change made by a moderator (or by the bot itself): who, when, what, old -> new.

    Values are stored raw (channel ids, minutes, names) and formatted when shown, so the log reads
    right in any language. `actor_name` keeps the log readable after a moderator deletes their data
    (the privacy hook clears `actor_member_id` and the name, not the entry).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_community_id_id", "community_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    subject_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True, index=True
    )
    setting: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(100), default="")  # the trade, pack or post it applies to
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Pack(Base):
    """A collaboration pack ("Site vitrine"): the trades a team needs to sell it together."""

    __tablename__ = "packs"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))  # folded name
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PackTrade(Base):
    """A trade slot of a pack, in order."""

    __tablename__ = "pack_trades"
    __table_args__ = (UniqueConstraint("pack_id", "trade_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"))
    trade_id: Mapped[int] = mapped_column(ForeignKey("trades.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
