"""outbox: a partial index on id of the unpublished rows, for the relay's claim

Revision ID: notify0006
Revises: notify0005
"""
from alembic import op

from services.common.db import create_outbox_pending_index, drop_outbox_pending_index

revision = 'notify0006'
down_revision = 'notify0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index(op)


def downgrade() -> None:
    drop_outbox_pending_index(op)
