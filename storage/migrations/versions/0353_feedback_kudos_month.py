"""feedback: each kudos keeps its month; a request keeps its attached file's name

feedback_kudos.month is the month a kudos counts in on /kudos top (feedback_kudos_months.month),
fixed when it is given: a privacy deletion takes it out of that month's count even after the
community's zone changed. The kudos already given get theirs in the community's current zone, the
zone 0352 counted them in. feedback_requests.file_name is the name of a file attached to /feedback
on Discord (the file itself is posted with the card; the request no longer keeps its expiring URL).

Revision ID: 0353
Revises: 0352
Create Date: 2026-12-02 16:00:00
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0353'
down_revision = '0352'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback_kudos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('month', sa.String(length=7), nullable=True))

    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))

    _fill_months()


def _fill_months() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT k.id, k.created_at, c.timezone "
        "FROM feedback_kudos k JOIN communities c ON c.id = k.community_id"
    ))
    months = []
    for kudos_id, created_at, timezone in rows:
        at = created_at if isinstance(created_at, datetime) else datetime.fromisoformat(str(created_at))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        months.append({"kudos_id": kudos_id, "month": at.astimezone(ZoneInfo(timezone or "UTC")).strftime("%Y-%m")})
    if months:
        bind.execute(sa.text("UPDATE feedback_kudos SET month = :month WHERE id = :kudos_id"), months)


def downgrade() -> None:
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_column('file_name')

    with op.batch_alter_table('feedback_kudos', schema=None) as batch_op:
        batch_op.drop_column('month')
