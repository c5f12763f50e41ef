"""Twenty concurrent requests with one Idempotency-Key on PostgreSQL: one creation, one answer, in intake,
review and documents."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from services.common.db import upgrade
from services.common.settings import load_settings
from services.documents import app as documents_app
from services.documents import models as documents_models
from services.intake import app as intake_app
from services.intake import models as intake_models
from services.review import app as review_app
from services.review import models as review_models
from tests.unit.intake_pages.helpers import open_consultation

pytestmark = pytest.mark.postgres


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on a threaded server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def race(url: str, payload: dict, headers: dict, n: int = 20) -> list[tuple[int, dict]]:
    """`n` requests with one key, released together."""
    barrier = threading.Barrier(n)

    def send(_n: int) -> tuple[int, dict]:
        barrier.wait()
        response = requests.post(url, json=payload, headers=headers, timeout=30)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(send, range(n)))


@contextmanager
def service_on_postgres(tmp_path: Any, postgres: Any, service: str, module: Any) -> Iterator[tuple[Any, Any]]:
    """The service's app on a database of its own; yields the app and its context."""
    url = postgres.create_database(f"uwagi_idem_{service}")
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "idempotency-secret-0123456789",
                              f"{service.upper()}_DATABASE_URL": url, "UWAGI_RELAY_INTERVAL": "5",
                              "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off"})
    upgrade(service, url)
    app = module.create_app(ctx=module.build(settings))
    ctx = app.extensions["uwagi"]
    try:
        assert ctx.db.is_postgres
        yield app, ctx
    finally:
        ctx.close()


def race_then_retry(url: str, payload: dict, headers: dict, success: int, identity: Callable[[dict], Any]) -> None:
    """Twenty at once get one answer (the others a 409 in progress, or the replay); a later retry replays it."""
    answers = race(url, payload, headers)
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {success, 409}, statuses
    assert success in statuses
    assert len({identity(body) for status, body in answers if status == success}) == 1
    assert all(body["error"] == "idempotency_key_in_progress" for status, body in answers if status == 409)
    replay = requests.post(url, json=payload, headers=headers, timeout=30)
    assert replay.status_code == success and replay.headers["Idempotent-Replayed"] == "true"


def assert_made_once(ctx: Any, models: Any, created: type, success: int, event_type: str | None = None) -> None:
    """One row made, one event staged, one key kept with its answer."""
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(created)) == 1
        if event_type:
            assert session.scalar(select(func.count()).select_from(models.Outbox)
                                  .where(models.Outbox.event_type == event_type)) == 1
        (key,) = session.scalars(select(models.IdempotencyKey)).all()
        assert key.committed and key.status == success


def test_concurrent_requests_with_one_key_create_once(tmp_path, postgres):
    with service_on_postgres(tmp_path, postgres, "intake", intake_app) as (app, ctx):
        consultation = open_consultation(app)
        payload = {"submitter": {"name": "Anna Kowalska", "email": "anna@example.org", "publish_consent": False},
                   "comments": [{"section": "§ 1", "proposal": "Dodać słowniczek."}]}
        with served(app) as base:
            race_then_retry(f"{base}/intake/api/v1/consultations/{consultation.id}/submissions", payload,
                            {"Idempotency-Key": "race-1"}, 201, lambda body: body["reference"])
        assert_made_once(ctx, intake_models, intake_models.Submission, 201, "submission.received")


def test_concurrent_decisions_with_one_key_make_one_revision_in_review(tmp_path, postgres):
    from tests.unit.review_decisions.support import REVIEWER, bearer, publish_consultation, submit

    with service_on_postgres(tmp_path, postgres, "review", review_app) as (app, ctx):
        (comment_id,) = submit(ctx, publish_consultation(ctx, needs_approval=False), ["§ 5"])
        payload = {"decision": "rejected", "justification": "Poza zakresem programu."}
        with served(app) as base:
            race_then_retry(f"{base}/review/api/v1/comments/{comment_id}/decision", payload,
                            {**bearer(ctx, REVIEWER), "Idempotency-Key": "race-decision"}, 200,
                            lambda body: (body["revision"], body["decided_at"]))
        assert_made_once(ctx, review_models, review_models.DecisionRecord, 200, "comment.decided")


def test_concurrent_report_requests_with_one_key_make_one_build_in_documents(tmp_path, postgres):
    from tests.unit.documents_service.support import publish_consultation, staff

    with service_on_postgres(tmp_path, postgres, "documents", documents_app) as (app, ctx):
        consultation_id = publish_consultation(ctx)
        with served(app) as base:
            race_then_retry(f"{base}/documents/api/v1/consultations/{consultation_id}/report", {"language": "pl"},
                            {**staff(ctx), "Idempotency-Key": "race-report"}, 202, lambda body: body["id"])
        assert_made_once(ctx, documents_models, documents_models.ReportBuild, 202)
