"""Accent- and case-insensitive full-text search over comments, one adapter per database.

"zrodla finansowania" must find "Źródła finansowania". Both adapters compare
*folded* words: lower case, diacritics removed, "ł" read as "l" (Unicode gives
"ł" no decomposition, so neither NFKD nor SQLite's `remove_diacritics` folds it).

- PostgreSQL: a stored generated column `search_vector`, `to_tsvector('simple',
  review_unaccent(...))`, with a GIN index, created by the migration together with
  the `unaccent` extension. `review_unaccent` is an IMMUTABLE wrapper, because
  `unaccent()` itself may not be used in a generated column or an index.
- SQLite: an FTS5 table `comment_search` (comment id, folded text) that the
  review handlers keep in sync whenever a comment is added; the text is folded
  in Python before it is indexed, and the tokenizer removes diacritics as well.

Every query word matches as a prefix ("finans" finds "finansowania"); all words must match.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from sqlalchemy import ColumnElement, String, bindparam, column, literal_column, text
from sqlalchemy.orm import Session

# Letters without a Unicode decomposition that Polish (and neighbours) still read as base letters.
_EXTRA_FOLDS = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ß": "ss"})
_WORD = re.compile(r"[0-9a-z]+")
MAX_QUERY_WORDS = 12
# The comment fields a search looks at, in the order they are indexed.
SEARCHED_FIELDS = ("reference", "section", "current_text", "proposal", "justification", "submitter_label", "topic")


def fold(value: str) -> str:
    """Lower case without diacritics: "Źródła Łódź" -> "zrodla lodz"."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def query_words(query: str | None) -> list[str]:
    """The folded words of a search query, duplicates dropped, at most MAX_QUERY_WORDS."""
    words: list[str] = []
    for word in _WORD.findall(fold(query or "")):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def searchable_text(values: Iterable[str | None]) -> str:
    return fold(" ".join(v for v in values if v))


def comment_text(comment: object) -> str:
    """The folded text a comment is found by (SQLite index)."""
    return searchable_text(getattr(comment, name) for name in SEARCHED_FIELDS)


class SearchIndex:
    """The port: restrict a comment query to the matches of a text query, and keep an index in sync."""

    def matches(self, comment_id_column: ColumnElement, words: list[str]) -> ColumnElement:
        raise NotImplementedError

    def index(self, session: Session, comments: Iterable[object]) -> None:
        """Add or refresh the index entries of `comments` in the caller's transaction."""
        raise NotImplementedError

    def forget(self, session: Session, comment_ids: Iterable[str]) -> None:
        """Drop the index entries of comments about to be deleted, in the caller's transaction."""
        raise NotImplementedError


class PostgresSearch(SearchIndex):
    """The generated column and GIN index of migration review0005 do the work; nothing to keep in sync."""

    def matches(self, comment_id_column: ColumnElement, words: list[str]) -> ColumnElement:
        # Words are [0-9a-z]+ only, so the tsquery text cannot carry operators of its own.
        tsquery = " & ".join(f"{word}:*" for word in words)
        return literal_column("comments.search_vector").op("@@")(
            text("to_tsquery('simple'::regconfig, :search_query)").bindparams(bindparam("search_query", tsquery)))

    def index(self, session: Session, comments: Iterable[object]) -> None:
        return None

    def forget(self, session: Session, comment_ids: Iterable[str]) -> None:
        return None  # the generated column goes with its row


class SqliteSearch(SearchIndex):
    """FTS5 over text folded in Python; `comment_search` is created by migration review0005."""

    def matches(self, comment_id_column: ColumnElement, words: list[str]) -> ColumnElement:
        # Quoted words with a trailing * are FTS5 prefix queries; quoting keeps FTS5 syntax out of user input.
        fts_query = " ".join(f'"{word}"*' for word in words)
        return comment_id_column.in_(
            text("SELECT comment_id FROM comment_search WHERE comment_search MATCH :search_query")
            .bindparams(bindparam("search_query", fts_query)).columns(column("comment_id", String)))

    def index(self, session: Session, comments: Iterable[object]) -> None:
        for comment in comments:
            self.forget(session, [comment.id])
            session.execute(text("INSERT INTO comment_search (comment_id, body) VALUES (:id, :body)"),
                            {"id": comment.id, "body": comment_text(comment)})

    def forget(self, session: Session, comment_ids: Iterable[str]) -> None:
        for comment_id in comment_ids:
            session.execute(text("DELETE FROM comment_search WHERE comment_id = :id"), {"id": comment_id})


def search_for(dialect_name: str) -> SearchIndex:
    return PostgresSearch() if dialect_name == "postgresql" else SqliteSearch()


def search_for_session(session: Session) -> SearchIndex:
    return search_for(session.get_bind().dialect.name)
