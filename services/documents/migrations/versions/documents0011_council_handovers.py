"""council_handovers: when the draft resolution with the document after the consultation went to the City Council

Revision ID: documents0011
Revises: documents0010
"""
import sqlalchemy as sa
from alembic import op

revision = 'documents0011'
down_revision = 'documents0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "council_handovers",
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("letter_reference", sa.String(length=200), nullable=False),
        sa.Column("print_number", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=254), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consultation_id"),
    )


def downgrade() -> None:
    op.drop_table("council_handovers")
