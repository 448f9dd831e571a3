"""The directory's one table: saved searches, so that paging buttons carry a short token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class DirectoryQuery(Base):
    """A search's resolved filters behind a token (`directory:page:<n>:<token>`).

    The token is a hash of the community and the filters, so the same search reuses its row.
    No member column: a search is not personal data (the results are what any member may see).
    """

    __tablename__ = "directory_queries"
    __table_args__ = (UniqueConstraint("community_id", "token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(16))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

