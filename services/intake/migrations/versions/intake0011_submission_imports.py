"""submission_imports: each staff bulk import (file, sha256, counts, references, who and when)

Revision ID: intake0011
Revises: intake0010
"""
from alembic import op
import sqlalchemy as sa


revision = 'intake0011'
down_revision = 'intake0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submission_imports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('imported_by', sa.String(length=254), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_submission_imports_consultation_id'), 'submission_imports', ['consultation_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submission_imports_consultation_id'), table_name='submission_imports')
    op.drop_table('submission_imports')
