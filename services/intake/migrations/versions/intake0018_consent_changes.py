"""consent_changes: each change of a submitter's consent to publish their name, and submissions.consent_revision

Revision ID: intake0018
Revises: intake0017
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0018'
down_revision = 'intake0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("consent_revision", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("publish_consent", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(254), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("submission_id", "revision"),
    )


def downgrade() -> None:
    op.drop_table("consent_changes")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("consent_revision")
