"""parked events: valid events that came before their prerequisite

Revision ID: documents0003
Revises: documents0002
"""
from alembic import op

from services.common.db import create_parked_events, drop_parked_events

revision = 'documents0003'
down_revision = 'documents0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events(op)


def downgrade() -> None:
    drop_parked_events(op)
