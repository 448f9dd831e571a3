"""Core tables every feature builds on: communities, members, trades, sectors, posts, jobs, meta."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Community(Base):
    """A Discord guild or a Slack workspace (team)."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # "discord" | "slack"
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Member(Base):
    """A person as seen in one community (one row per community: nothing leaks across)."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommunitySettings(Base):
    """A community's typed settings; a missing row means all defaults (see `storage.settings`)."""

    __tablename__ = "community_settings"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    intro_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    missions_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    afterworks_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    feedback_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pairing_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    modlog_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reminder_offsets_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1440, 60])
    missions_per_week: Mapped[int] = mapped_column(Integer, default=3)
    feedback_per_week: Mapped[int] = mapped_column(Integer, default=3)
    intro_repost_days: Mapped[int] = mapped_column(Integer, default=7)
    moderator_role_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # Discord
    moderator_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # Slack members
    moderator_usergroup_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # Slack
    purge_grace_days: Mapped[int] = mapped_column(Integer, default=30)
    # Added by the config branch (0200): default packs are created once, so a removed one stays removed;
    # the Slack moderator user group's members, refreshed from Slack (no API call per request).
    packs_seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    moderator_usergroup_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change (optimistic lock)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeatureSetting(Base):
    """A setting a feature declared (bot.settings_registry): JSON written and read only through its spec.

    The settings config declares are the typed columns of `community_settings`; a feature's settings
    are rows here, so that a feature adding one needs no core migration. Every value is checked by the
    declaring spec's kind on write and again on read (see bot.settings_registry).
    """

    __tablename__ = "feature_settings"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "<feature>.<name>"
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class Trade(Base):
    """A trade of the community (Développement, Rédaction web…), optionally bound to a channel."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))  # folded name, for uniqueness and lookup
    name: Mapped[str] = mapped_column(String(50))
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Sector(Base):
    """A client sector of the community (mode, sport, culture & médias…)."""

    __tablename__ = "sectors"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Job(Base):
    """A timed job: the database is the truth, APScheduler only the timer."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_jobs_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The due time the row had when it began waiting for its community to take the bot back (due_at
    # then moves on every hour): its lateness is measured from it. None: it never waited.
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|done|failed|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Post(Base):
    """A message the bot posted for a member (an intro card, a mission…), to edit or remove it later.

    Features record their posts here so that edits update the same message, moderators can remove
    any of them, and a member's data deletion removes them.
    """

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("community_id", "channel_id", "message_id"),
        Index("ix_posts_object", "community_id", "feature", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), nullable=True, index=True
    )
    feature: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RemovedPost(Base):
    """A channel where a moderator removed an object's card (Remove post): no job posts it there again.

    Cards are posted again by jobs (a trade merged or renamed, an edit, a retry) wherever a wanted
    channel has no post: without this mark a removed card came back on its own. Only the member's own
    new post (an intro posted again, within the repost allowance) may go there again, and lifts it.
    No person's data: the feature, the object's id and the channel.
    """

    __tablename__ = "removed_posts"
    __table_args__ = (UniqueConstraint("community_id", "feature", "object_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[str] = mapped_column(String(64))
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FormSubmission(Base):
    """A form submission's key, claimed by the object it created (bot.submissions).

    A second submission of the same form (a double click, a retry) creates nothing. No person's data
    (the community, the key, what was created); forgotten nightly after a day.
    """

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))  # Slack: the view's id; Discord: the form's token
    kind: Mapped[str] = mapped_column(String(32))  # what it created, e.g. "pooling.pool"
    object_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Meta(Base):
    """Small installation-wide values (e.g. the hash of the last synced Discord commands)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Slack distribution (HTTP mode with SLACK_CLIENT_ID / SLACK_CLIENT_SECRET): slack_sdk's own tables,
# used by its AsyncSQLAlchemy installation and state stores (bot/slack_app/installations.py). Declared
# here column for column as slack_sdk's builders (`AsyncSQLAlchemyInstallationStore.build_*_table`,
# `AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table`) declare them, rather than built by them:
# importing slack_sdk's stores costs every process (Discord-only ones too) about 3 MB of RSS.
# tests/storage/test_slack_tables.py compares them with the builders' so that they cannot drift.
# They hold each workspace's bot token in clear: the database must be protected like the .env file
# (README).
slack_installations = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)
slack_bots = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)
slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
