"""parked events: valid events that came before their prerequisite

Revision ID: intake0002
Revises: intake0001
"""
from alembic import op

from services.common.db import create_parked_events, drop_parked_events

revision = 'intake0002'
down_revision = 'intake0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events(op)


def downgrade() -> None:
    drop_parked_events(op)
