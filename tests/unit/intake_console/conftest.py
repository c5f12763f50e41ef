"""An intake service on SQLite in a temporary folder, with its app for API and page tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from services.common.db import upgrade
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.intake import app as intake_app


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var")), "UWAGI_RELAY_INTERVAL": "30"})
    upgrade("intake", settings.database_url("intake"))
    context = intake_app.build(settings)
    yield context
    context.close()


@pytest.fixture(scope="module")
def app(ctx: ServiceContext) -> Flask:
    return intake_app.create_app(ctx=ctx)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()
