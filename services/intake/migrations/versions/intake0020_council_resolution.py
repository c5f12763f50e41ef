"""council_handovers.adopted_on and resolution_number: the City Council's resolution, for the results page

Revision ID: intake0020
Revises: intake0019
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0020'
down_revision = 'intake0019'
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
