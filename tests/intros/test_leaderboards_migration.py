"""Migration 0101: profiles saved before the "show me on leaderboards" choice existed are shown on them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from storage.engine import Database
from storage.migrate import upgrade
from storage.models import UTCDateTime

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))


def _table(name: str, *columns: tuple[str, sa.types.TypeEngine]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, t) for c, t in columns))


COMMUNITIES = _table(
    "communities", ("id", sa.Integer()), ("platform", sa.String()), ("external_id", sa.String()),
    ("name", sa.String()), ("locale", sa.String()), ("timezone", sa.String()), ("active", sa.Boolean()),
    ("created_at", UTCDateTime()),
)
MEMBERS = _table(
    "members", ("id", sa.Integer()), ("community_id", sa.Integer()), ("platform_user_id", sa.String()),
    ("display_name", sa.String()), ("created_at", UTCDateTime()),
)
PROFILES = _table(
    "profiles", ("id", sa.Integer()), ("community_id", sa.Integer()), ("member_id", sa.Integer()),
    ("city", sa.String()), ("city_key", sa.String()), ("work_mode", sa.String()), ("languages", sa.JSON()),
    ("currency", sa.String()), ("availability", sa.String()), ("bio", sa.Text()),
    ("opt_matching", sa.Boolean()), ("opt_pairing", sa.Boolean()), ("opt_directory", sa.Boolean()),
    ("created_at", UTCDateTime()), ("updated_at", UTCDateTime()),
)


async def _members(conn: Any, count: int) -> None:
    """A community and `count` members, ids 1…count, as rows written before the migration under test."""
    await conn.execute(sa.insert(COMMUNITIES).values(
        id=1, platform="discord", external_id="G1", name="Collectif", locale="fr",
        timezone="Europe/Paris", active=True, created_at=NOW,
    ))
    await conn.execute(sa.insert(MEMBERS).values(
        [{"id": i, "community_id": 1, "platform_user_id": f"U{i}", "display_name": f"M{i}",
          "created_at": NOW} for i in range(1, count + 1)]
    ))


async def test_existing_profiles_are_on_leaderboards_after_the_upgrade(empty_url: str) -> None:
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine, "0100")  # the intros branch before the choice existed
        async with db.engine.begin() as conn:
            await _members(conn, 2)
            await conn.execute(sa.insert(PROFILES).values([
                {"id": i, "community_id": 1, "member_id": i, "city": "", "city_key": "",
                 "work_mode": "remote", "languages": ["fr"], "currency": "EUR", "availability": "available",
                 "bio": "",
                 "opt_matching": True, "opt_pairing": False, "opt_directory": listed,
                 "created_at": NOW, "updated_at": NOW}
                for i, listed in ((1, True), (2, False))
            ]))
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "SELECT id, opt_directory, opt_leaderboards FROM profiles ORDER BY id"
            ))).all()
    finally:
        await db.dispose()
    # hidden from the directory or not, every profile saved before is shown on leaderboards
    assert [(r[0], bool(r[1]), bool(r[2])) for r in rows] == [(1, True, True), (2, False, True)]


async def test_city_keys_saved_before_lose_their_punctuation(empty_url: str) -> None:
    """Migration 0102: "Saint-Étienne" saved with the key "saint-etienne" is found as "saint etienne"."""
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine, "0101")
        async with db.engine.begin() as conn:
            await _members(conn, 3)
            await conn.execute(sa.insert(PROFILES).values([
                {"id": i, "community_id": 1, "member_id": i, "city": city, "city_key": key,
                 "work_mode": "onsite", "languages": ["fr"], "currency": "EUR", "availability": "available",
                 "bio": "", "opt_matching": True, "opt_pairing": False, "opt_directory": True,
                 "created_at": NOW, "updated_at": NOW}
                for i, city, key in ((1, "Saint-Étienne", "saint-etienne"),
                                     (2, "L'Isle-d'Abeau", "l'isle-d'abeau"), (3, "", ""))
            ]))
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            keys = (await conn.execute(sa.text("SELECT city_key FROM profiles ORDER BY id"))).scalars().all()
    finally:
        await db.dispose()
    assert keys == ["saint etienne", "l isle d abeau", ""]
