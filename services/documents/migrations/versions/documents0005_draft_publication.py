"""drafts: a document is published after its parsed units were seen; parse warnings are kept

Revision ID: documents0005
Revises: documents0004
"""
from alembic import op
import sqlalchemy as sa

revision = 'documents0005'
down_revision = 'documents0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('parse_warnings', sa.JSON(), nullable=True))
    # Documents uploaded before drafts existed were announced at once.
    op.execute("UPDATE documents SET published_at = created_at, published_by = created_by")
    op.execute("UPDATE documents SET parse_warnings = '[]'")
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('parse_warnings', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('parse_warnings')
        batch_op.drop_column('published_by')
        batch_op.drop_column('published_at')
