"""inbound_mails.closing: what staff said when they closed a mail as holding no comments on the draft

{reason, note, by, at}: the list of closed mails shows it; the mail's `reason` keeps a line for the record.

Revision ID: intake0013
Revises: intake0012
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0013'
down_revision = 'intake0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_mails") as batch:
        batch.add_column(sa.Column("closing", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_mails") as batch:
        batch.drop_column("closing")
