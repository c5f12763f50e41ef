"""A review service on SQLite in tmp_path: the same fixtures as the decision tests (a migrated template per
session, copied for each test)."""

from tests.unit.review_decisions.conftest import client, ctx, migrated_review_db  # noqa: F401
