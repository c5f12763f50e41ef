"""Fixtures of the public-page tests: an intake app on SQLite in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var")), "UWAGI_MAX_UPLOAD_MB": "1"})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    built.config["INTAKE_FORM_RATE_LIMIT"] = "1000/minute"
    yield built
    built.extensions["uwagi"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
