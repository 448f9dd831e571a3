"""removed posts

removed_posts: the channels where a moderator removed an object's card (Remove post), so that no job
posts it there again (a trade merged, an edit, a retry). No person's data; purged with the community.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 17:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('removed_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('feature', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.Column('removed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_removed_posts_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_removed_posts')),
    sa.UniqueConstraint('community_id', 'feature', 'object_id', 'channel_id', name=op.f('uq_removed_posts_community_id_feature_object_id_channel_id'))
    )


def downgrade() -> None:
    op.drop_table('removed_posts')
