"""known_comments: `dismissed`, a mail's placeholder that staff closed as holding no comments

Kept rather than deleted: a mail reopened for transcription (`submission.reopened`) needs the status link the
receipt gave, which only `submission.received` carried.

Revision ID: notify0008
Revises: notify0007
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify0008'
down_revision = 'notify0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.add_column(sa.Column("dismissed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.drop_column("dismissed")
