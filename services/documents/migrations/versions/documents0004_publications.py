"""publications: reports and versions made public, and the working-draft mark of report builds

Revision ID: documents0004
Revises: documents_staff_directory
"""
from alembic import op
import sqlalchemy as sa


revision = 'documents0004'
down_revision = 'documents_staff_directory'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_builds') as batch_op:
        batch_op.add_column(sa.Column('working_draft', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('publications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('report_build_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('document_version', sa.Integer(), nullable=True),
    sa.Column('published_by', sa.String(length=254), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_build_id'], ['report_builds.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_publications_consultation_id'), 'publications', ['consultation_id'], unique=False)
    op.create_table('published_files',
    sa.Column('publication_id', sa.String(length=36), nullable=False),
    sa.Column('artifact_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], ),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], ),
    sa.PrimaryKeyConstraint('publication_id', 'artifact_id')
    )
    op.create_index(op.f('ix_published_files_artifact_id'), 'published_files', ['artifact_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_published_files_artifact_id'), table_name='published_files')
    op.drop_table('published_files')
    op.drop_index(op.f('ix_publications_consultation_id'), table_name='publications')
    op.drop_table('publications')
    with op.batch_alter_table('report_builds') as batch_op:
        batch_op.drop_column('working_draft')
