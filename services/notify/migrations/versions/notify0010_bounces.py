"""notifications.bounced_at: when a mail server reported the message undeliverable (status `bounced`, the
server's status code and words in `error`), from intake's `mail.delivery_failed`

Revision ID: notify0010
Revises: notify0009
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify0010'
down_revision = 'notify0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("bounced_at")
