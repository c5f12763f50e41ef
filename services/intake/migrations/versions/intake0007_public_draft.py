"""public draft and adopted wording: the announced draft's public DOCX link, each comment's adopted wording

Revision ID: intake0007
Revises: intake0006
"""
from alembic import op
import sqlalchemy as sa


revision = 'intake0007'
down_revision = 'intake0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_url', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('final_text', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('final_text')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('document_url')
