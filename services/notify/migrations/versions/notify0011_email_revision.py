"""known_comments.email_revision: the revision of the submitter's address as intake last sent it (1 as received,
+1 with each correction by staff, `submission.email_corrected`): an older correction arriving late changes nothing

Revision ID: notify0011
Revises: notify0010
"""
import sqlalchemy as sa
from alembic import op

revision = 'notify0011'
down_revision = 'notify0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.add_column(sa.Column("email_revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("known_comments") as batch:
        batch.drop_column("email_revision")
