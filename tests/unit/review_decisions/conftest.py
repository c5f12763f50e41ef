"""A review service on SQLite in tmp_path with the in-process broker.

The schema is migrated once per session into a template file, which each test
copies: migrating per test would cost more than the tests themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from services.common.db import upgrade
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.review.app import build, create_app


@pytest.fixture(scope="session")
def migrated_review_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("review-template")
    settings = load_settings({"UWAGI_DATA_DIR": str(data_dir)})
    upgrade("review", settings.database_url("review"))
    return Path(settings.database_url("review").split("///", 1)[1])


@pytest.fixture
def ctx(tmp_path: Any, migrated_review_db: Path) -> Iterator[ServiceContext]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var")})
    target = Path(settings.database_url("review").split("///", 1)[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_review_db, target)
    context = build(settings)
    yield context
    context.close()


@pytest.fixture
def client(ctx: ServiceContext) -> Any:
    return create_app(ctx=ctx).test_client()
