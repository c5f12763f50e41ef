"""council_handovers.adopted_on and resolution_number: the City Council's resolution adopting the document

Revision ID: documents0013
Revises: documents0012
"""
import sqlalchemy as sa
from alembic import op

revision = 'documents0013'
down_revision = 'documents0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("council_handovers") as batch:
        batch.add_column(sa.Column("adopted_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("resolution_number", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("council_handovers") as batch:
        batch.drop_column("resolution_number")
        batch.drop_column("adopted_on")
