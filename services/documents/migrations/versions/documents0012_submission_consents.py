"""submission_consents: a submitter's consent to publish their name as it last changed after they sent it

Revision ID: documents0012
Revises: documents0011
"""
import sqlalchemy as sa
from alembic import op

revision = 'documents0012'
down_revision = 'documents0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_consents",
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("consultation_id", sa.String(length=36), nullable=False, index=True),
        sa.Column("publish_consent", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference"),
    )


def downgrade() -> None:
    op.drop_table("submission_consents")
