"""consultation console: the announcement's every field, the lifecycle state and its log

Revision ID: intake0003
Revises: intake0002
"""
from alembic import op
import sqlalchemy as sa

revision = 'intake0003'
down_revision = 'intake0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('legal_basis', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('resolution', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=50), server_default='', nullable=False))
        batch_op.add_column(sa.Column('postal_address', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('decisions_need_approval', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('outcome_notice', sa.String(length=20), server_default='at_publication',
                                      nullable=False))
        # Every consultation made before this migration was published when it was created.
        batch_op.add_column(sa.Column('state', sa.String(length=20), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_consultations_state'), ['state'], unique=False)

    op.create_table('consultation_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consultation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_log_consultation_id'), ['consultation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consultation_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_log_consultation_id'))
    op.drop_table('consultation_log')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultations_state'))
        for column in ('updated_at', 'revision', 'state', 'outcome_notice', 'decisions_need_approval',
                       'postal_address', 'contact_phone', 'resolution', 'legal_basis', 'organiser'):
            batch_op.drop_column(column)
