"""triage: anchoring, the draft's units, assignment, notes, remembered filters, full-text search

Revision ID: review0005
Revises: review0004

On PostgreSQL the search is a GIN index over a stored tsvector of the unaccented
text (the `unaccent` extension is created here); on SQLite an FTS5 table that review's
handlers keep in sync (services/review/search.py).
"""
from alembic import op
import sqlalchemy as sa

revision = 'review0005'
down_revision = 'review0004'
branch_labels = None
depends_on = None

# Keep in step with services.review.search.SEARCHED_FIELDS.
_FIELDS = ("reference", "section", "current_text", "proposal", "justification", "submitter_label", "topic")
_DOCUMENT = ("to_tsvector('simple'::regconfig, review_unaccent("
             + " || ' ' || ".join(f"coalesce({name}, '')" for name in _FIELDS) + "))")
# Keep in step with models.ReviewComment.__table_args__.
_ORDER = ["received_at", "reference", "number", "id"]
_QUEUE_INDEXES = {
    "ix_comments_queue_received": ["consultation_id", *_ORDER, "assignee", "status", "chapter_id", "topic", "channel",
                                   "late"],
    "ix_comments_queue_reference": ["consultation_id", "reference", "number", "id"],
    "ix_comments_queue_status": ["consultation_id", "status", *_ORDER],
    "ix_comments_queue_assignee": ["consultation_id", "assignee", *_ORDER],
    "ix_comments_queue_chapter": ["consultation_id", "chapter_id", *_ORDER],
}


def upgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chapter_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('anchored_by', sa.String(length=254), nullable=True))
        for name, columns in _QUEUE_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    op.create_table('consultation_drafts',
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consultation_id')
    )
    op.create_table('draft_units',
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('chapter_id', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('document_id', 'version', 'unit_id')
    )
    op.create_table('chapter_assignments',
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('chapter_id', sa.String(length=64), nullable=False),
    sa.Column('assignee', sa.String(length=254), nullable=False),
    sa.Column('assigned_by', sa.String(length=254), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consultation_id', 'chapter_id')
    )
    op.create_table('comment_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('comment_id', sa.String(length=36), nullable=False),
    sa.Column('author', sa.String(length=254), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_notes_comment_id'), ['comment_id'], unique=False)
    op.create_table('queue_filter_preferences',
    sa.Column('user_id', sa.String(length=254), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        # unaccent() is only STABLE (its dictionary could change); an index needs an IMMUTABLE function.
        op.execute("CREATE OR REPLACE FUNCTION review_unaccent(text) RETURNS text "
                   "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
                   "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$")
        # A stored vector: a filter that walks a sort index checks each row without re-running unaccent.
        op.execute(f"ALTER TABLE comments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_DOCUMENT}) STORED")
        op.execute("CREATE INDEX ix_comments_search ON comments USING gin (search_vector)")
    else:
        op.execute("CREATE VIRTUAL TABLE comment_search USING fts5("
                   "comment_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')")
        _index_existing_comments()


def _index_existing_comments() -> None:
    from services.review.search import searchable_text

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, " + ", ".join(_FIELDS) + " FROM comments")).all()
    for row in rows:
        bind.execute(sa.text("INSERT INTO comment_search (comment_id, body) VALUES (:id, :body)"),
                     {"id": row[0], "body": searchable_text(row[1:])})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_comments_search")
        op.execute("ALTER TABLE comments DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS review_unaccent(text)")
    else:
        op.execute("DROP TABLE IF EXISTS comment_search")
    op.drop_table('queue_filter_preferences')
    with op.batch_alter_table('comment_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_notes_comment_id'))
    op.drop_table('comment_notes')
    op.drop_table('chapter_assignments')
    op.drop_table('draft_units')
    op.drop_table('consultation_drafts')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        for name in _QUEUE_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column('anchored_by')
        batch_op.drop_column('chapter_id')
        batch_op.drop_column('unit_id')
