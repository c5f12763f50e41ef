"""comments: drop ix_comments_submission_id; the unique (submission_id, number) index already serves every
lookup by submission, and the second index cost every comment insert (the bulk import most of all)

Revision ID: intake0012
Revises: intake0011
"""
from alembic import op


revision = 'intake0012'
down_revision = 'intake0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_comments_submission_id', table_name='comments')


def downgrade() -> None:
    op.create_index('ix_comments_submission_id', 'comments', ['submission_id'], unique=False)
