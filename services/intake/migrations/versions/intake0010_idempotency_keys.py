"""idempotency_keys: the first answer to each Idempotency-Key of a creating POST, for 24 hours

Revision ID: intake0010
Revises: intake0009
"""
from alembic import op

from services.common.idempotency import create_idempotency_keys, drop_idempotency_keys


revision = 'intake0010'
down_revision = 'intake0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_keys(op)


def downgrade() -> None:
    drop_idempotency_keys(op)
