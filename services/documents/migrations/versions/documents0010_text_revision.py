"""comments.text_revision: the revision of the comment's text as intake last sent it
(1 as received, 2 once transcribed, higher with each correction staff made):
an older `submission.transcribed` or `submission.corrected` arriving late changes nothing

Revision ID: documents0010
Revises: documents0009
"""
import sqlalchemy as sa
from alembic import op

revision = 'documents0010'
down_revision = 'documents0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("text_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("text_revision")
