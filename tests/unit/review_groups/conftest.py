"""A review service on SQLite in tmp_path, migrated once per session into a template that each test copies."""

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
def migrated_groups_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("review-groups-template"))})
    upgrade("review", settings.database_url("review"))
    return Path(settings.database_url("review").split("///", 1)[1])


@pytest.fixture
def ctx(tmp_path: Any, migrated_groups_db: Path) -> Iterator[ServiceContext]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var")})
    target = Path(settings.database_url("review").split("///", 1)[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_groups_db, target)
    context = build(settings)
    yield context
    context.close()


@pytest.fixture
def client(ctx: ServiceContext) -> Any:
    return create_app(ctx=ctx).test_client()
