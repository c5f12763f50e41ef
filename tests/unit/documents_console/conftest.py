"""The documents service fixtures (SQLite in tmp_path, in-process broker), shared with documents_service."""

from tests.unit.documents_service.conftest import client, ctx, draft, worker  # noqa: F401
