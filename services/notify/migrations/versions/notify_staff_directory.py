"""staff directory: the local copy of staff users kept from staff.changed, to refuse revoked tokens and sessions

Revision ID: notify_staff_directory
Revises: notify0002
"""
from alembic import op

from services.common.staff_directory import create_staff_directory, drop_staff_directory

revision = 'notify_staff_directory'
down_revision = 'notify0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_staff_directory(op)


def downgrade() -> None:
    drop_staff_directory(op)
