"""A database that is down answers 503 with Retry-After, never 500 (issue 9, R3; tests/chaos proves it on a real outage)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import handlers


@pytest.fixture
def client(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path)})
    upgrade("intake", settings.database_url("intake"))
    app = intake_app.create_app(ctx=intake_app.build(settings))
    yield app.test_client()
    app.extensions["uwagi"].close()


SUBMISSION = {"submitter": {"name": "Anna Nowak", "email": "anna@example.org", "publish_consent": False},
              "comments": [{"section": "§ 1", "proposal": "Zmiana"}]}


@pytest.mark.parametrize("error", [
    sa_exc.OperationalError("INSERT ...", {}, ConnectionRefusedError("connection refused")),
    sa_exc.InterfaceError("SELECT 1", {}, OSError("connection already closed")),
    sa_exc.TimeoutError("QueuePool limit reached"),
])
def test_a_database_outage_is_a_503_with_retry_after(client, monkeypatch, error):
    def down(*args, **kwargs):
        raise error

    monkeypatch.setattr(handlers, "submit_comments", down)
    response = client.post("/intake/api/v1/consultations/c-1/submissions", json=SUBMISSION)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"] == "unavailable"
