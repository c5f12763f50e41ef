"""An intake service on SQLite in a temporary folder, with its app: the console tests' own fixtures."""

from tests.unit.intake_console.conftest import app, client, ctx  # noqa: F401 (pytest fixtures)
