"""A documents service on SQLite in tmp_path with the in-process broker; its worker only when asked for."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from services.common.db import upgrade
from services.common.runtime import ServiceContext, ServiceWorker
from services.common.settings import load_settings
from services.documents.app import build, create_app
from services.documents.engine.demo_draft import make_demo_draft
from services.documents.worker import worker_spec
from tests.support.infra import purge_memory_broker


@pytest.fixture(scope="session")
def draft() -> bytes:
    return make_demo_draft("auto")


@pytest.fixture
def ctx(tmp_path: Any) -> Iterator[ServiceContext]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_RELAY_INTERVAL": "0.2",
                              "UWAGI_MAX_UPLOAD_MB": "2"})
    upgrade("documents", settings.database_url("documents"))
    context = build(settings)
    yield context
    context.close()


@pytest.fixture
def client(ctx: ServiceContext) -> Any:
    return create_app(ctx=ctx).test_client()


@pytest.fixture
def worker(ctx: ServiceContext) -> Iterator[ServiceWorker]:
    """The documents worker in this process: consumer, relay, sweeps and a Celery thread."""
    purge_memory_broker()
    running = ServiceWorker(ctx, worker_spec()).start_background()
    running.start_celery_thread()
    yield running
    running.stop()
