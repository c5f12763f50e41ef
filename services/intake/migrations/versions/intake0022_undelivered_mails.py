"""undelivered_mails: e-mails to submitters and bookers that a mail server returned (notify's
`notification.bounced`), for the clerk's pages

Revision ID: intake0022
Revises: intake0021
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0022'
down_revision = 'intake0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "undelivered_mails",
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("booking_id", sa.String(length=36), nullable=True),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    op.create_index("ix_undelivered_mails_reference", "undelivered_mails", ["reference"])
    op.create_index("ix_undelivered_mails_booking_id", "undelivered_mails", ["booking_id"])


def downgrade() -> None:
    op.drop_index("ix_undelivered_mails_booking_id", table_name="undelivered_mails")
    op.drop_index("ix_undelivered_mails_reference", table_name="undelivered_mails")
    op.drop_table("undelivered_mails")
