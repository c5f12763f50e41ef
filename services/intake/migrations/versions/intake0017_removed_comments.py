"""submissions.removed_comments: the comments a staff correction took out of the register, for the status page

Revision ID: intake0017
Revises: intake0016
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0017'
down_revision = 'intake0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("removed_comments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("removed_comments")
