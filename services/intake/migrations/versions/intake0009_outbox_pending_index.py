"""outbox: a partial index on id of the unpublished rows, for the relay's claim

Revision ID: intake0009
Revises: intake0008
"""
from alembic import op

from services.common.db import create_outbox_pending_index, drop_outbox_pending_index

revision = 'intake0009'
down_revision = 'intake0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index(op)


def downgrade() -> None:
    drop_outbox_pending_index(op)
