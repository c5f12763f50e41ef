"""outbox: a partial index on id of the unpublished rows, for the relay's claim

Revision ID: review0007
Revises: review0006
"""
from alembic import op

from services.common.db import create_outbox_pending_index, drop_outbox_pending_index

revision = 'review0007'
down_revision = 'review0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index(op)


def downgrade() -> None:
    drop_outbox_pending_index(op)
