"""notifications: claims of the mailer loop (`sending`, the claimer's key, when) and the next attempt's time

Revision ID: notify0007
Revises: notify0006
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify0007'
down_revision = 'notify0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("claim_key", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claim_key")
