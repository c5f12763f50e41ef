"""Twenty concurrent requests with one Idempotency-Key on PostgreSQL: one submission, one answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake.models import IdempotencyKey, Outbox, Submission
from tests.unit.intake_pages.helpers import open_consultation

pytestmark = pytest.mark.postgres


def test_concurrent_requests_with_one_key_create_once(tmp_path, postgres):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "idempotency-secret-0123456789",
                              "INTAKE_DATABASE_URL": postgres.create_database("uwagi_idem"),
                              "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off"})
    upgrade("intake", settings.database_url("intake"))
    app = intake_app.create_app(ctx=intake_app.build(settings))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ctx = app.extensions["uwagi"]
        assert ctx.db.is_postgres
        consultation = open_consultation(app)
        url = f"http://127.0.0.1:{server.server_port}/intake/api/v1/consultations/{consultation.id}/submissions"
        payload = {"submitter": {"name": "Anna Kowalska", "email": "anna@example.org", "publish_consent": False},
                   "comments": [{"section": "§ 1", "proposal": "Dodać słowniczek."}]}
        barrier = threading.Barrier(20)

        def send(_n: int) -> tuple[int, dict]:
            barrier.wait()
            response = requests.post(url, json=payload, headers={"Idempotency-Key": "race-1"}, timeout=30)
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(send, range(20)))
        statuses = [status for status, _ in answers]
        assert set(statuses) <= {201, 409}, statuses
        assert 201 in statuses
        assert len({body["reference"] for status, body in answers if status == 201}) == 1
        # After the race, every retry gets the one answer.
        replay = requests.post(url, json=payload, headers={"Idempotency-Key": "race-1"}, timeout=30)
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        with ctx.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 1
            assert session.scalar(select(func.count()).select_from(Outbox)
                                  .where(Outbox.event_type == "submission.received")) == 1
            (key,) = session.scalars(select(IdempotencyKey)).all()
            assert key.committed and key.status == 201
    finally:
        server.shutdown()
        thread.join(5)
        app.extensions["uwagi"].close()
