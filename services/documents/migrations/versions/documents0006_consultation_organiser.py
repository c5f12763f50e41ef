"""consultations read model: the organiser, the legal basis and the resolution on consultations, for the
report's title page

Revision ID: documents0006
Revises: documents0005
"""
from alembic import op
import sqlalchemy as sa

revision = 'documents0006'
down_revision = 'documents0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('legal_basis', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('resolution')
        batch_op.drop_column('legal_basis')
        batch_op.drop_column('organiser')
