"""published results: the files of a consultation's published report and new version

Revision ID: intake0004
Revises: intake_staff_directory
"""
from alembic import op
import sqlalchemy as sa


revision = 'intake0004'
down_revision = 'intake_staff_directory'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('published_results',
    sa.Column('publication_id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document_version', sa.Integer(), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('publication_id')
    )
    op.create_index(op.f('ix_published_results_consultation_id'), 'published_results', ['consultation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_published_results_consultation_id'), table_name='published_results')
    op.drop_table('published_results')
