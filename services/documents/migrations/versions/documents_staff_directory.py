"""staff directory: the local copy of staff users kept from staff.changed, to refuse revoked tokens and sessions

Revision ID: documents_staff_directory
Revises: documents0003
"""
from alembic import op

from services.common.staff_directory import create_staff_directory, drop_staff_directory

revision = 'documents_staff_directory'
down_revision = 'documents0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_staff_directory(op)


def downgrade() -> None:
    drop_staff_directory(op)
