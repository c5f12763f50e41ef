"""consultations.revision: the highest consultation.published revision applied, so an older snapshot
redelivered late never overwrites a newer one

Revision ID: review0008
Revises: review0007
"""
from alembic import op
import sqlalchemy as sa

revision = 'review0008'
down_revision = 'review0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('consultations', sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('consultations') as batch:
        batch.drop_column('revision')
