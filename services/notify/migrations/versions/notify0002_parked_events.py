"""parked events: valid events that came before their prerequisite

Revision ID: notify0002
Revises: notify0001
"""
from alembic import op

from services.common.db import create_parked_events, drop_parked_events

revision = 'notify0002'
down_revision = 'notify0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events(op)


def downgrade() -> None:
    drop_parked_events(op)
