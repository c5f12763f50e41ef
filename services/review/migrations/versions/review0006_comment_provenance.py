"""comment provenance: who entered a letter or duty-hour note, when, and from what (from submission.received)

Revision ID: review0006
Revises: review0005
"""
from alembic import op
import sqlalchemy as sa

revision = 'review0006'
down_revision = 'review0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding the table (batch mode) would drop SQLite's search triggers.
    op.add_column('comments', sa.Column('provenance', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('comments', 'provenance')
