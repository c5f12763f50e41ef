"""email_corrections: each correction of a submitter's e-mail address by staff, and submissions.email_revision

Revision ID: intake0023
Revises: intake0022
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0023'
down_revision = 'intake0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("email_revision", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "email_corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("old_email", sa.String(254), nullable=True),
        sa.Column("new_email", sa.String(254), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(254), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.UniqueConstraint("submission_id", "revision"),
    )


def downgrade() -> None:
    op.drop_table("email_corrections")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("email_revision")
