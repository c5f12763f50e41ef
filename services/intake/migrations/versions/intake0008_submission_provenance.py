"""submission provenance: who entered a letter or duty-hour note, its postmark date, address, booking and scan

Revision ID: intake0008
Revises: intake0007
"""
from alembic import op
import sqlalchemy as sa


revision = 'intake0008'
down_revision = 'intake0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('entered_by', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('postmarked_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('postal_address', sa.Text(), nullable=True))
        batch.add_column(sa.Column('booking_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('scan', sa.JSON(), nullable=True))
        batch.create_index(batch.f('ix_submissions_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_index(batch.f('ix_submissions_booking_id'))
        for name in ('scan', 'booking_id', 'postal_address', 'postmarked_on', 'entered_at', 'entered_by'):
            batch.drop_column(name)
