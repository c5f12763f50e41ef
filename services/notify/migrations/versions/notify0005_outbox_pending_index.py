"""outbox: a partial index on id of the unpublished rows, for the relay's claim

Revision ID: notify0005
Revises: notify0004
"""
from alembic import op

from services.common.db import create_outbox_pending_index, drop_outbox_pending_index

revision = 'notify0005'
down_revision = 'notify0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index(op)


def downgrade() -> None:
    drop_outbox_pending_index(op)
