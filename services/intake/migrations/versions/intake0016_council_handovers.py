"""council_handovers: when the draft went to the City Council, from documents' `council.handover_recorded`

Revision ID: intake0016
Revises: intake0015
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0016'
down_revision = 'intake0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "council_handovers",
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("letter_reference", sa.String(length=200), nullable=False),
        sa.Column("print_number", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("consultation_id"),
    )


def downgrade() -> None:
    op.drop_table("council_handovers")
