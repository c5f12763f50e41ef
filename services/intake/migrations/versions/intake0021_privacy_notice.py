"""privacy_notice: the controller and the data protection officer the public information clause names

Revision ID: intake0021
Revises: intake0020
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0021'
down_revision = 'intake0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_notice",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("controller", sa.Text(), nullable=False),
        sa.Column("dpo_email", sa.String(length=254), nullable=False),
        sa.Column("dpo_address", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("retention", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("privacy_notice")
