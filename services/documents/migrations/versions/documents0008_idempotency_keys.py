"""idempotency_keys: the first answer to each Idempotency-Key of a creating POST, for 24 hours

Revision ID: documents0008
Revises: documents0007
"""
from alembic import op

from services.common.idempotency import create_idempotency_keys, drop_idempotency_keys

revision = 'documents0008'
down_revision = 'documents0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_keys(op)


def downgrade() -> None:
    drop_idempotency_keys(op)
