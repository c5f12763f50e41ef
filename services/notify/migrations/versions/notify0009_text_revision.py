"""known_comments.text_revision: the revision of the comment's text as intake last sent it
(1 as received, 2 once transcribed, higher with each correction staff made):
an older `submission.transcribed` or `submission.corrected` arriving late changes nothing

Revision ID: notify0009
Revises: notify0008
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify0009'
down_revision = 'notify0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.add_column(sa.Column("text_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.drop_column("text_revision")
