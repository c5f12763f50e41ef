"""comments.search_vector: punctuation folded to spaces before PostgreSQL's parser sees the text

The parser of to_tsvector reads "UW/2026/000123" as one file-path token and "anna@example.org" as one e-mail
token, while a search is split into the words [0-9a-z]+ (services.review.search): on PostgreSQL a comment
could not be found by its reference. Replacing every run of non-alphanumerics by a space first gives the
words SQLite's FTS5 tokenizer sees. A generated column cannot change its expression before PostgreSQL 17:
it is dropped and added again with its GIN index.

Revision ID: review0010
Revises: review0009
"""
from alembic import op

revision = 'review0010'
down_revision = 'review0009'
branch_labels = None
depends_on = None

# Keep in step with services.review.search.SEARCHED_FIELDS.
_FIELDS = ("reference", "section", "current_text", "proposal", "justification", "submitter_label", "topic")
_TEXT = "review_unaccent(" + " || ' ' || ".join(f"coalesce({name}, '')" for name in _FIELDS) + ")"
_WORDS = f"to_tsvector('simple'::regconfig, regexp_replace({_TEXT}, '[^[:alnum:]]+', ' ', 'g'))"
_BEFORE = f"to_tsvector('simple'::regconfig, {_TEXT})"  # review0005's


def _search_vector(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_comments_search")
    op.execute("ALTER TABLE comments DROP COLUMN IF EXISTS search_vector")
    op.execute(f"ALTER TABLE comments ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_comments_search ON comments USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite's FTS5 tokenizer already splits on punctuation
        _search_vector(_WORDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _search_vector(_BEFORE)
