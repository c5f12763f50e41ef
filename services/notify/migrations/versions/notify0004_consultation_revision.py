"""consultation revision: keep the newest announcement's outcome notice

Revision ID: notify0004
Revises: notify0003
"""
from alembic import op
import sqlalchemy as sa


revision = 'notify0004'
down_revision = 'notify0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultations') as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('consultations') as batch_op:
        batch_op.drop_column('revision')
