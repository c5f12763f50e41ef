"""parse_warnings_pl: the parser's warnings about a draft in Polish, for the staff pages

Revision ID: documents0009
Revises: documents0008
"""
from alembic import op
import sqlalchemy as sa

revision = 'documents0009'
down_revision = 'documents0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for drafts read before: their pages show the English warnings kept in parse_warnings.
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parse_warnings_pl', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('parse_warnings_pl')
