"""consultation office: who signs and sends a consultation's e-mails (organiser, contact, postal address)

Revision ID: notify0005
Revises: notify0004
"""
from alembic import op
import sqlalchemy as sa


revision = 'notify0005'
down_revision = 'notify0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultations') as batch_op:
        batch_op.add_column(sa.Column('office', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consultations') as batch_op:
        batch_op.drop_column('office')
