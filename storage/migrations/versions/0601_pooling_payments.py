"""pooling payments

Revision ID: 0601
Revises: 0600
Create Date: 2026-12-01 12:55:00.000000
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0601'
down_revision = '0600'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pool_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('payment_reminder_at', storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('pools', schema=None) as batch_op:
        batch_op.drop_column('payment_reminder_at')
    with op.batch_alter_table('pool_members', schema=None) as batch_op:
        batch_op.drop_column('paid_at')
