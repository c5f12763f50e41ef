"""initial schema

Revision ID: notify0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa

from services.common.db import create_outbox_and_inbox, drop_outbox_and_inbox


revision = 'notify0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox(op)
    op.create_table('known_comments',
    sa.Column('comment_id', sa.String(length=36), nullable=False),
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=True),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('consultation_title', sa.String(length=300), nullable=False),
    sa.Column('section', sa.Text(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('last_notified_revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('comment_id')
    )
    with op.batch_alter_table('known_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_comments_submission_id'), ['submission_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('cause_key', sa.String(length=512), nullable=False),
    sa.Column('cause_event_id', sa.String(length=36), nullable=False),
    sa.Column('cause_event_type', sa.String(length=80), nullable=False),
    sa.Column('correlation_id', sa.String(length=100), nullable=True),
    sa.Column('template', sa.String(length=60), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cause_key'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_cause_event_id'), ['cause_event_id'], unique=False)
        batch_op.create_index('ix_notifications_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_template'), ['template'], unique=False)



def downgrade() -> None:
    drop_outbox_and_inbox(op)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_template'))
        batch_op.drop_index('ix_notifications_status_created_at')
        batch_op.drop_index(batch_op.f('ix_notifications_cause_event_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('known_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_comments_submission_id'))

    op.drop_table('known_comments')
