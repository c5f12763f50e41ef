"""bookings.mail_id: the e-mail a booking answers, when staff booked its sender from the mail's page

Revision ID: intake0015
Revises: intake0014
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0015'
down_revision = 'intake0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("mail_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("mail_id")
