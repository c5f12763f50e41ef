"""staff_users.digest, staff_users.language and staff_digests: the morning e-mail of the work waiting for each staff
user, once a day, in their language

Revision ID: review0013
Revises: review0012
"""
import sqlalchemy as sa
from alembic import op

revision = 'review0013'
down_revision = 'review0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="pl"))
    op.create_table(
        "staff_digests",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("staff_digests")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("language")
        batch.drop_column("digest")
