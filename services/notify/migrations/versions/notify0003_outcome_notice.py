"""outcome notice: consultations' choice, decisions kept for the summary e-mail, re-sends

Revision ID: notify0003
Revises: notify_staff_directory
"""
from alembic import op
import sqlalchemy as sa


revision = 'notify0003'
down_revision = 'notify_staff_directory'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('outcome_notice', sa.String(length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_url', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('known_comments') as batch_op:
        batch_op.add_column(sa.Column('status_url', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('decision', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('decision_justification', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('final_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('decision_revision', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.add_column(sa.Column('attempts_before_resend', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('resent_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('resent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_column('resent_at')
        batch_op.drop_column('resent_by')
        batch_op.drop_column('attempts_before_resend')
    with op.batch_alter_table('known_comments') as batch_op:
        batch_op.drop_column('decision_revision')
        batch_op.drop_column('final_text')
        batch_op.drop_column('decision_justification')
        batch_op.drop_column('decision')
        batch_op.drop_column('status_url')
    op.drop_table('consultations')
