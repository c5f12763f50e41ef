"""outbox: a partial index on id of the unpublished rows, for the relay's claim

Revision ID: intake0008
Revises: intake0007
"""
from alembic import op

from services.common.db import create_outbox_pending_index, drop_outbox_pending_index

revision = 'intake0008'
down_revision = 'intake0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index(op)


def downgrade() -> None:
    drop_outbox_pending_index(op)
