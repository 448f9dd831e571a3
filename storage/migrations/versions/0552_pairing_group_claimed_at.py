"""pairing group claimed at

pairing_groups.claimed_at: when a round's job claimed the group to open its private space (state
"opening"), so that a group whose job died is taken back only once that claim is stale, never while
another holder of the same job is still opening it. NULL outside "opening".

Revision ID: 0552
Revises: 0551
Create Date: 2026-12-02 16:35:00.000000
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0552'
down_revision = '0551'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pairing_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pairing_groups', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
