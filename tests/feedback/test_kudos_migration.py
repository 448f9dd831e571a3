"""Migration 0352: kudos on anonymous answers leave the monthly counts /kudos top reads."""

from __future__ import annotations

import sqlalchemy as sa

from storage.engine import Database
from storage.migrate import upgrade
from tests.intros.test_leaderboards_migration import NOW, _members, empty_url  # noqa: F401 (fixture)


async def test_kudos_on_anonymous_answers_are_counted_no_more(empty_url: str) -> None:  # noqa: F811
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine, "0351")
        async with db.engine.begin() as conn:
            await _members(conn, 3)
            await conn.execute(sa.text(
                "INSERT INTO feedback_requests (id, community_id, member_id, title, links, kind, question, "
                "channel_id, allow_anonymous, state, week, week_slot, nudged, created_at) VALUES "
                "(1, 1, 1, 'Logo', '[]', 'design', '', 'C1', :yes, 'open', '2026-W48', 1, :no, :now)"
            ), {"yes": True, "no": False, "now": NOW})
            for answer_id, author, anonymous in ((1, 2, False), (2, 3, True)):
                await conn.execute(sa.text(
                    "INSERT INTO feedback_answers (id, community_id, request_id, member_id, anonymous, text, "
                    "ratings, created_at) VALUES (:id, 1, 1, :author, :anonymous, 'Bien', '{}', :now)"
                ), {"id": answer_id, "author": author, "anonymous": anonymous, "now": NOW})
                await conn.execute(sa.text(
                    "INSERT INTO feedback_kudos (id, community_id, answer_id, giver_id, receiver_id, kind, "
                    "created_at) VALUES (:id, 1, :id, 1, :author, 'design', :now)"
                ), {"id": answer_id, "author": author, "now": NOW})
                await conn.execute(sa.text(  # as the code before counted them: both
                    "INSERT INTO feedback_kudos_months (community_id, month, trade_key, receiver_id, n) "
                    "VALUES (1, '2026-11', 0, :author, 1)"
                ), {"author": author})
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            counted = (await conn.execute(sa.text(
                "SELECT receiver_id, n FROM feedback_kudos_months ORDER BY receiver_id"))).all()
    finally:
        await db.dispose()
    assert [tuple(row) for row in counted] == [(2, 1)]


async def test_each_kudos_keeps_the_month_it_was_counted_in(empty_url: str) -> None:  # noqa: F811
    """Migration 0353: the kudos already given get their month in the community's zone (the one 0352
    counted them in): 30 Nov 23:30 UTC is December in Paris."""
    late = NOW.replace(day=30, hour=23, minute=30)
    db = Database.from_url(empty_url)
    try:
        await upgrade(db.engine, "0352")
        async with db.engine.begin() as conn:
            await _members(conn, 2)
            await conn.execute(sa.text(
                "INSERT INTO feedback_requests (id, community_id, member_id, title, links, kind, question, "
                "channel_id, allow_anonymous, state, week, week_slot, nudged, created_at) VALUES "
                "(1, 1, 1, 'Logo', '[]', 'design', '', 'C1', :no, 'open', '2026-W48', 1, :no, :now)"
            ), {"no": False, "now": NOW})
            for answer_id, at in ((1, NOW), (2, late)):
                await conn.execute(sa.text(
                    "INSERT INTO feedback_answers (id, community_id, request_id, member_id, anonymous, text, "
                    "ratings, created_at) VALUES (:id, 1, 1, 2, :no, 'Bien', '{}', :at)"
                ), {"id": answer_id, "no": False, "at": at})
                await conn.execute(sa.text(
                    "INSERT INTO feedback_kudos (id, community_id, answer_id, giver_id, receiver_id, kind, "
                    "created_at) VALUES (:id, 1, :id, 1, 2, 'design', :at)"
                ), {"id": answer_id, "at": at})
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            months = (await conn.execute(sa.text("SELECT id, month FROM feedback_kudos ORDER BY id"))).all()
            files = (await conn.execute(sa.text("SELECT file_name FROM feedback_requests"))).all()
    finally:
        await db.dispose()
    assert [tuple(row) for row in months] == [(1, "2026-11"), (2, "2026-12")]
    assert [tuple(row) for row in files] == [(None,)]
