"""decisions and approval: approval states, standard justifications, an append-only audit log

Revision ID: review0003
Revises: review0002
"""
from alembic import op
import sqlalchemy as sa

revision = 'review0003'
down_revision = 'review0002'
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit_log is append-only"


def upgrade() -> None:
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decisions_need_approval', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('approval_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_revision', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comments_approval_state'), ['approval_state'], unique=False)
    # Before approvals existed every decision went out at once: it counts as approved.
    op.execute("UPDATE comments SET approval_state = 'approved', approved_by = decided_by, approved_at = decided_at, "
               "approved_revision = revision WHERE decision IS NOT NULL")
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), nullable=False, server_default='approved'))
        batch_op.add_column(sa.Column('reviewed_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('standard_justification_id', sa.Integer(), nullable=True))
    op.create_table('standard_justifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('standard_justifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_justifications_consultation_id'), ['consultation_id'],
                              unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consultation_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('before', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('after', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index('ix_audit_log_subject_at', ['subject', 'at'], unique=False)
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    """The database itself refuses to rewrite the audit log, whatever client writes to it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END")


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_or_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_subject_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_column('after')
        batch_op.drop_column('before')
        batch_op.drop_column('consultation_id')
    with op.batch_alter_table('standard_justifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_justifications_consultation_id'))
    op.drop_table('standard_justifications')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('standard_justification_id')
        batch_op.drop_column('review_note')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by')
        batch_op.drop_column('state')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_approval_state'))
        batch_op.drop_column('approved_revision')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
        batch_op.drop_column('approval_note')
        batch_op.drop_column('approval_state')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('decisions_need_approval')
