"""feedback: kudos on anonymous answers off the monthly counts

A kudos given to an anonymous answer is now its author's alone (cogs.feedback.models.public_kudos):
on no leaderboard, or the reviewer's name on /kudos top would tell who wrote the answer. The monthly
counts (feedback_kudos_months) are counted again without them. Frozen here: the rule when written.

Revision ID: 0352
Revises: 0351
Create Date: 2026-12-02 12:30:00
"""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0352'
down_revision = '0351'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT k.community_id, k.trade_id, k.receiver_id, k.created_at, c.timezone "
        "FROM feedback_kudos k JOIN communities c ON c.id = k.community_id "
        "JOIN feedback_answers a ON a.id = k.answer_id WHERE a.anonymous = :no"
    ), {"no": False})
    counted: Counter[tuple[int, str, int, int]] = Counter()
    for community_id, trade_id, receiver_id, created_at, timezone in rows:
        at = created_at if isinstance(created_at, datetime) else datetime.fromisoformat(str(created_at))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        month = at.astimezone(ZoneInfo(timezone or "UTC")).strftime("%Y-%m")
        counted[(community_id, month, trade_id or 0, receiver_id)] += 1
    bind.execute(sa.text("DELETE FROM feedback_kudos_months"))
    if counted:
        table = sa.table("feedback_kudos_months", sa.column("community_id"), sa.column("month"),
                         sa.column("trade_key"), sa.column("receiver_id"), sa.column("n"))
        op.bulk_insert(table, [
            {"community_id": c, "month": m, "trade_key": t, "receiver_id": r, "n": n}
            for (c, m, t, r), n in counted.items()
        ])


def downgrade() -> None:
    pass  # counts without anonymous kudos are valid for the code before too
