"""A review service on SQLite in tmp_path with the in-process broker."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from services.common.db import upgrade
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.review.app import build, create_app


@pytest.fixture
def ctx(tmp_path: Any) -> Iterator[ServiceContext]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_RELAY_INTERVAL": "5"})
    upgrade("review", settings.database_url("review"))
    context = build(settings)
    yield context
    context.close()


@pytest.fixture
def client(ctx: ServiceContext) -> Any:
    return create_app(ctx=ctx).test_client()
