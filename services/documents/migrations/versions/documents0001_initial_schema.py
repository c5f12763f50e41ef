"""initial schema

Revision ID: documents0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa

from services.common.db import create_outbox_and_inbox, drop_outbox_and_inbox


revision = 'documents0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox(op)
    op.create_table('comments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('submitter_name', sa.String(length=200), nullable=False),
    sa.Column('organization', sa.String(length=300), nullable=True),
    sa.Column('submitter_kind', sa.String(length=20), nullable=False),
    sa.Column('publish_consent', sa.Boolean(), nullable=False),
    sa.Column('section', sa.Text(), nullable=False),
    sa.Column('current_text', sa.Text(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('decision', sa.String(length=30), nullable=True),
    sa.Column('position', sa.Text(), nullable=False),
    sa.Column('final_text', sa.Text(), nullable=True),
    sa.Column('decision_revision', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('stage', sa.String(length=100), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('duty_days', sa.JSON(), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('review_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('report_builds',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('object_key', sa.String(length=500), nullable=True),
    sa.Column('version_id', sa.String(length=200), nullable=True),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_builds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_builds_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_builds_state'), ['state'], unique=False)



def downgrade() -> None:
    drop_outbox_and_inbox(op)
    with op.batch_alter_table('report_builds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_builds_state'))
        batch_op.drop_index(batch_op.f('ix_report_builds_consultation_id'))

    op.drop_table('report_builds')
    op.drop_table('consultations')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_consultation_id'))

    op.drop_table('comments')
