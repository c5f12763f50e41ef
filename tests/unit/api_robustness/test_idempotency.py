"""Idempotency-Key on the creating POSTs: a retry gets the first answer, another body a 422, never a twin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.common.db import upgrade, utcnow
from services.common.idempotency import STALE_AFTER, TTL, stored_keys, sweep_expired_keys
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake.models import Consultation, IdempotencyKey, Submission
from tests.unit.intake_pages.helpers import open_consultation

TOKEN = "idempotency-demo-token-0123456789"


@pytest.fixture
def app(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_DEMO_TOKEN": TOKEN,
                              "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off"})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    yield built
    built.extensions["uwagi"].close()


def body(proposal: str = "Dodać słowniczek.") -> dict:
    return {"submitter": {"name": "Anna Kowalska", "email": "anna@example.org", "publish_consent": False},
            "comments": [{"section": "§ 1", "proposal": proposal}]}


def count(app, model) -> int:
    with app.extensions["uwagi"].db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_retried_submission_gets_the_first_answer_and_creates_nothing_more(app):
    consultation = open_consultation(app)
    client = app.test_client()
    url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
    first = client.post(url, json=body(), headers={"Idempotency-Key": "retry-1"})
    again = client.post(url, json=body(), headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(app, Submission) == 1
    other = client.post(url, json=body(), headers={"Idempotency-Key": "retry-2"})
    assert other.status_code == 201 and other.get_json()["reference"] != first.get_json()["reference"]
    without = client.post(url, json=body())
    assert without.status_code == 201 and count(app, Submission) == 3


def test_the_same_key_with_another_body_is_a_422(app):
    consultation = open_consultation(app)
    client = app.test_client()
    url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
    assert client.post(url, json=body(), headers={"Idempotency-Key": "k"}).status_code == 201
    changed = client.post(url, json=body("Inna propozycja."), headers={"Idempotency-Key": "k"})
    assert changed.status_code == 422 and changed.get_json()["error"] == "idempotency_key_reused"
    # The key's scope is the endpoint: the same key elsewhere is another key.
    second = open_consultation(app)
    elsewhere = client.post(f"/intake/api/v1/consultations/{second.id}/submissions", json=body(),
                            headers={"Idempotency-Key": "k"})
    assert elsewhere.status_code == 201 and count(app, Submission) == 2


def test_a_refused_request_keeps_no_key_so_the_retry_runs_again(app):
    client = app.test_client()
    missing = client.post("/intake/api/v1/consultations/nope/submissions", json=body(),
                          headers={"Idempotency-Key": "k2"})
    assert missing.status_code == 404
    invalid = client.post("/intake/api/v1/consultations/nope/submissions", json={"comments": []},
                          headers={"Idempotency-Key": "k3"})
    assert invalid.status_code == 422
    assert stored_keys(app.extensions["uwagi"], IdempotencyKey) == []


def test_a_malformed_key_is_refused(app):
    consultation = open_consultation(app)
    response = app.test_client().post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json=body(),
                                      headers={"Idempotency-Key": "two words"})
    assert response.status_code == 422 and count(app, Submission) == 0


def _claim(app, consultation_id: str, *, committed: bool, age: timedelta, sha: str) -> None:
    now = utcnow()
    with app.extensions["uwagi"].db.transaction() as session:
        session.add(IdempotencyKey(scope=f"POST /intake/api/v1/consultations/{consultation_id}/submissions",
                                   key="busy", request_sha256=sha, committed=committed, status=None,
                                   response_body=None, response_headers={}, created_at=now - age,
                                   expires_at=now - age + TTL))


def _fingerprint_of(app, url: str, payload: dict) -> str:
    from services.common.idempotency import request_fingerprint

    with app.test_request_context(url, method="POST", json=payload):
        return request_fingerprint()


def test_a_request_in_progress_answers_409_and_an_abandoned_one_is_taken_over(app):
    consultation = open_consultation(app)
    url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
    sha = _fingerprint_of(app, url, body())
    _claim(app, consultation.id, committed=False, age=timedelta(seconds=1), sha=sha)
    busy = app.test_client().post(url, json=body(), headers={"Idempotency-Key": "busy"})
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.get_json()["error"] == "idempotency_key_in_progress"
    with app.extensions["uwagi"].db.transaction() as session:
        row = session.scalars(select(IdempotencyKey)).one()
        row.created_at = utcnow() - STALE_AFTER - timedelta(seconds=1)  # its process died before any change
    taken_over = app.test_client().post(url, json=body(), headers={"Idempotency-Key": "busy"})
    assert taken_over.status_code == 201 and count(app, Submission) == 1


def test_a_committed_change_whose_answer_was_lost_is_never_repeated(app):
    consultation = open_consultation(app)
    url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
    _claim(app, consultation.id, committed=True, age=STALE_AFTER * 2, sha=_fingerprint_of(app, url, body()))
    lost = app.test_client().post(url, json=body(), headers={"Idempotency-Key": "busy"})
    assert lost.status_code == 409 and "lost" in lost.get_json()["message"]
    assert count(app, Submission) == 0


def test_the_claim_is_marked_committed_in_the_changes_own_transaction(app):
    consultation = open_consultation(app)
    app.test_client().post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json=body(),
                           headers={"Idempotency-Key": "c1"})
    (row,) = stored_keys(app.extensions["uwagi"], IdempotencyKey)
    assert row.committed and row.status == 201 and row.expires_at - row.created_at == TTL


def test_staff_creations_and_bookings_are_idempotent_too(app):
    from tests.unit.intake_bookings.test_bookings import future_day

    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "new-consultation"}
    payload = {"title": "Program współpracy 2026", "opens_at": "2026-01-01T00:00:00+01:00",
               "closes_at": "2099-01-31T23:59:00+01:00"}
    first = client.post("/intake/api/v1/consultations", json=payload, headers=auth)
    again = client.post("/intake/api/v1/consultations", json=payload, headers=auth)
    assert first.status_code == 201, first.get_json()
    assert again.get_json()["id"] == first.get_json()["id"] and count(app, Consultation) == 1

    consultation = open_consultation(app, duty_days=(future_day(),))
    slot = client.get(f"/intake/api/v1/consultations/{consultation.id}/slots").get_json()[0]
    booking = {"slot_id": slot["id"], "name": "Jan Nowak", "email": "jan@example.org"}
    url = f"/intake/api/v1/consultations/{consultation.id}/bookings"
    one = client.post(url, json=booking, headers={"Idempotency-Key": "b1"})
    two = client.post(url, json=booking, headers={"Idempotency-Key": "b1"})
    assert one.status_code == two.status_code == 201 and one.get_json() == two.get_json()


def test_the_sweep_forgets_keys_after_24_hours(app):
    consultation = open_consultation(app)
    app.test_client().post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json=body(),
                           headers={"Idempotency-Key": "old"})
    ctx = app.extensions["uwagi"]
    assert sweep_expired_keys(ctx, IdempotencyKey) == 0
    assert sweep_expired_keys(ctx, IdempotencyKey, now=utcnow() + TTL + timedelta(seconds=1)) == 1
    assert stored_keys(ctx, IdempotencyKey) == []


def _form(boundary: str, file: bytes, *, csrf: str = "t1", odd_name: bytes = b"") -> bytes:
    parts = [(b'name="title"', b"Projekt"), (b'name="csrf_token"', csrf.encode()),
             (b'name="file"; filename="a.docx"\r\nContent-Type: application/octet-stream', file)]
    if odd_name:
        parts.append((b'name="' + odd_name + b'"', b"x"))
    b = boundary.encode()
    return b"".join(b"--" + b + b"\r\nContent-Disposition: form-data; " + head + b"\r\n\r\n" + value + b"\r\n"
                    for head, value in parts) + b"--" + b + b"--\r\n"


def test_a_form_counts_by_its_fields_and_files_not_by_its_boundary_or_csrf_token(app):
    from flask import request

    from services.common.idempotency import request_fingerprint

    def fingerprint(boundary: str, file: bytes, *, parsed_first: bool = False, **kwargs) -> str:
        with app.test_request_context("/intake/x", method="POST", data=_form(boundary, file, **kwargs),
                                      content_type=f"multipart/form-data; boundary={boundary}"):
            if parsed_first:  # as the CSRF check of a cookie-authenticated call does
                assert request.form["title"] == "Projekt"
            digest = request_fingerprint()
            assert request.files["file"].read() == file  # the view still reads the whole file
            return digest

    first = fingerprint("b1", b"AAA")
    assert fingerprint("b2", b"AAA") == first == fingerprint("b1", b"AAA", parsed_first=True)
    assert fingerprint("b1", b"AAA", csrf="t2") == first
    assert fingerprint("b1", b"BBB") != first and fingerprint("b1", b"BBB", parsed_first=True) != first
    # A part name the parser cannot read (None) still gives a fingerprint, not a 500.
    assert fingerprint("b1", b"AAA", odd_name=b"\x01\\") != first
