"""Each service's migrations build exactly the tables its models declare (what `alembic revision
--autogenerate` would find missing must be nothing)."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from services.common.alembic_env import unmanaged
from services.common.db import upgrade

SERVICES = ("intake", "review", "documents", "notify")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service, tmp_path):
    url = f"sqlite:///{tmp_path / service}.db"
    upgrade(service, url)
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": unmanaged(metadata)})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
