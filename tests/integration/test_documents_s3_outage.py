"""A report build during an S3 outage: the task fails transiently, Celery retries it, and the build
completes once the store is back, with its files in S3 (weed mini behind a TcpProxy that cuts the line)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any, Iterator

import pytest

from services.common.db import upgrade
from services.common.runtime import ServiceWorker
from services.common.settings import load_settings
from services.common.storage import S3ObjectStore
from services.documents import handlers
from services.documents.app import build
from services.documents.worker import worker_spec
from tests.support.infra import TcpProxy, purge_memory_broker, wait_until
from tests.unit.documents_service.support import publish_consultation

pytestmark = [pytest.mark.s3, pytest.mark.slow]


@pytest.fixture
def s3_proxy(s3_settings) -> Iterator[TcpProxy]:
    host, port = s3_settings.endpoint.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    yield proxy
    proxy.close()


@pytest.fixture
def documents(tmp_path, s3_settings, s3_proxy) -> Iterator[Any]:
    """The documents service and its worker (consumer, relay, Celery in this process), storing through the proxy."""
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_RELAY_INTERVAL": "0.2",
                              "UWAGI_S3_ENDPOINT": f"127.0.0.1:{s3_proxy.port}",
                              "UWAGI_S3_ACCESS_KEY": s3_settings.access_key,
                              "UWAGI_S3_SECRET_KEY": s3_settings.secret_key, "UWAGI_S3_BUCKET": s3_settings.bucket})
    upgrade("documents", settings.database_url("documents"))
    ctx = build(settings)
    purge_memory_broker()
    worker = ServiceWorker(ctx, worker_spec()).start_background()
    worker.start_celery_thread()
    yield ctx
    worker.stop()
    ctx.close()


def test_a_report_build_retried_through_an_s3_outage_stores_its_files_once_s3_is_back(documents, s3_proxy,
                                                                                       s3_settings):
    ctx = documents
    assert isinstance(ctx.store, S3ObjectStore)
    consultation_id = publish_consultation(ctx)
    s3_proxy.cut()
    requested = handlers.request_report(ctx, consultation_id, language="pl", internal=False, actor="k@example.org")

    # Every attempt claims the build again: a second claim is Celery's retry after a StorageUnavailable.
    wait_until(lambda: handlers.get_report(ctx, requested.id).attempts >= 2, timeout=30, interval=0.2,
               what="the build to be retried")
    during = handlers.get_report(ctx, requested.id)
    assert during.state == "running" and during.error is None  # transient: not recorded as a failure
    s3_proxy.restore()

    done = wait_until(lambda: (b := handlers.get_report(ctx, requested.id)).state in ("done", "failed") and b,
                      timeout=60, interval=0.2, what="the build to finish")
    assert done.state == "done", done.error
    assert done.attempts >= 2

    # The files are in S3 itself (read past the proxy), byte for byte what the build recorded.
    direct = S3ObjectStore(replace(s3_settings))
    artifacts = {a.kind: a for a in handlers.get_report(ctx, requested.id).artifacts}
    assert set(artifacts) == {"report_docx", "report_xlsx", "report_csv"}
    for artifact in artifacts.values():
        content = direct.get(artifact.key, artifact.version_id)
        assert hashlib.sha256(content).hexdigest() == artifact.sha256 and len(content) == artifact.size > 0
    assert done.object_key == artifacts["report_docx"].key and done.sha256 == artifacts["report_docx"].sha256
    assert direct.get(done.object_key, done.version_id)[:2] == b"PK"  # a DOCX (zip) container
