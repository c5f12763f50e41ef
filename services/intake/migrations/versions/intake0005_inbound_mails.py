"""inbound mails: every e-mail intake has looked at, unique by Message-ID

Revision ID: intake0005
Revises: intake0004
"""
from alembic import op
import sqlalchemy as sa


revision = 'intake0005'
down_revision = 'intake0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_mails',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=True),
    sa.Column('submission_id', sa.String(length=36), nullable=True),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('date_header', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('eml_key', sa.String(length=300), nullable=True),
    sa.Column('eml_sha256', sa.String(length=64), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    op.create_index(op.f('ix_inbound_mails_consultation_id'), 'inbound_mails', ['consultation_id'], unique=False)
    op.create_index(op.f('ix_inbound_mails_status'), 'inbound_mails', ['status'], unique=False)
    op.create_index(op.f('ix_inbound_mails_submission_id'), 'inbound_mails', ['submission_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_mails_submission_id'), table_name='inbound_mails')
    op.drop_index(op.f('ix_inbound_mails_status'), table_name='inbound_mails')
    op.drop_index(op.f('ix_inbound_mails_consultation_id'), table_name='inbound_mails')
    op.drop_table('inbound_mails')
