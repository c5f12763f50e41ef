"""parked events: valid events that came before their prerequisite

Revision ID: review0002
Revises: review0001
"""
from alembic import op

from services.common.db import create_parked_events, drop_parked_events

revision = 'review0002'
down_revision = 'review0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_parked_events(op)


def downgrade() -> None:
    drop_parked_events(op)
