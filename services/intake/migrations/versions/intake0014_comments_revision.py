"""submissions.comments_revision: how many times staff changed the submission's comments
(1 as received, +1 with a transcription
and each correction); `submission.transcribed` and `submission.corrected` carry it, so consumers apply the newest

Revision ID: intake0014
Revises: intake0013
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0014'
down_revision = 'intake0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("comments_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("comments_revision")
