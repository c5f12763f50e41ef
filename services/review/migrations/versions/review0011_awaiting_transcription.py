"""comments.awaiting_transcription: an e-mail's own text that intake staff have not transcribed yet

From `submission.received` (`needs_review`), cleared by `submission.transcribed`: the queue and the comment's page
say so, and no decision is taken on it until then (a decision on the placeholder would refuse the transcription).
Comments stored before this revision are taken as transcribed.

Revision ID: review0011
Revises: review0010
"""
import sqlalchemy as sa
from alembic import op

revision = 'review0011'
down_revision = 'review0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("awaiting_transcription", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("awaiting_transcription")
