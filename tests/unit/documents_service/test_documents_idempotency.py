"""Idempotency-Key on documents' creating POSTs: a retried upload, version build, report build or publication
gets the first answer and creates nothing more; another body under the key is a 422; a retry while the first
runs is a 409."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.common.db import utcnow
from services.common.idempotency import HEADER, stored_keys
from services.common.runtime import ServiceWorker
from services.documents import api as documents_api
from services.documents.app import create_app
from services.documents.drafts import run_version_build
from services.documents.handlers import run_report_build
from services.documents.models import (Document, DocumentVersion, IdempotencyKey, Publication, ReportBuild,
                                       VersionBuild)
from services.documents.worker import worker_spec
from tests.support.idempotency import (assert_in_progress, assert_replayed, assert_reused, count, keyed,
                                       while_first_runs)
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, deliver, outbox, publish_consultation,
                                                   staff, submit)

API = "/documents/api/v1"


def ctx_staff(ctx: Any, user_id: str) -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue(user_id, 'inny@um.example.pl', 'coordinator')}"}


def upload(client: Any, ctx: Any, data: bytes, key: str, *, title: str = "Projekt programu",
           role: str = "coordinator") -> Any:
    """A multipart upload; the test client draws a new boundary for each request, as real clients do."""
    return client.post(f"{API}/documents", data={"file": (io.BytesIO(data), "projekt.docx"), "title": title},
                       headers=keyed(staff(ctx, role), key), content_type="multipart/form-data")


def test_a_retried_upload_gets_the_first_document_and_another_file_or_title_under_the_key_is_a_422(ctx, client,
                                                                                                   draft):
    first = upload(client, ctx, draft, "upload-1")
    again = upload(client, ctx, draft, "upload-1")
    assert first.status_code == 201
    assert_replayed(first, again)
    assert count(ctx, Document) == 1 and count(ctx, DocumentVersion) == 1
    assert len(outbox(ctx, "document.version_created")) == 1
    assert_reused(upload(client, ctx, draft, "upload-1", title="Inny tytuł"))
    assert_reused(upload(client, ctx, draft + b"\0", "upload-1"))
    assert count(ctx, Document) == 1
    # Keys are per staff member: another coordinator's "upload-1" is a new upload.
    other = client.post(f"{API}/documents", data={"file": (io.BytesIO(draft), "projekt.docx")},
                        headers={**ctx_staff(ctx, "u-other"), HEADER: "upload-1"}, content_type="multipart/form-data")
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_a_session_upload_counts_by_its_file_although_the_csrf_check_read_the_form_first(ctx, client, draft):
    """The CSRF check of a cookie-authenticated call parses the form before the key is checked, which leaves
    no raw body to hash: the file itself must still tell two uploads apart."""
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-session", "sesja@um.example.pl", "coordinator"))
    page = client.get("/documents/drafts/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def send(data: bytes) -> Any:
        return client.post(f"{API}/documents", data={"file": (io.BytesIO(data), "projekt.docx"), "csrf_token": token},
                           headers={HEADER: "session-1", "Accept": "application/json"},
                           content_type="multipart/form-data")

    first = send(draft)
    assert first.status_code == 201, first.get_json()
    assert_replayed(first, send(draft))
    assert_reused(send(draft + b"\0"))
    assert count(ctx, Document) == 1


def test_a_refused_upload_keeps_no_key(ctx, client):
    refused = upload(client, ctx, b"not a docx", "bad-1")
    assert refused.status_code == 422 and stored_keys(ctx, IdempotencyKey) == []


def test_a_retried_version_request_does_not_build_a_second_version(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    document_id = upload(client, ctx, draft, "doc").get_json()["id"]
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2", "current_text": QUOTE}])
    with ctx.db.transaction() as session:
        session.get(Document, document_id).consultation_id = consultation_id
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)
    url, headers = f"{API}/documents/{document_id}/versions", keyed(staff(ctx), "version-2")
    first = client.post(url, json={}, headers=headers)
    assert first.status_code == 202, first.get_json()
    run_version_build(ctx, first.get_json()["id"])
    # Without the key this retry would build version 3 from the same decisions.
    assert_replayed(first, client.post(url, json={}, headers=headers))
    assert count(ctx, VersionBuild) == 1 and count(ctx, DocumentVersion) == 2
    assert_reused(client.post(url, json={"approved_by": "Rada Miasta"}, headers=headers))


def test_a_retried_report_request_and_publication_create_one_build_and_one_publication(ctx, client):
    consultation_id = publish_consultation(ctx)
    deliver(ctx, "consultation.review_completed", {"consultation_id": consultation_id,
                                                   "completed_at": datetime.now(timezone.utc),
                                                   "completed_by": "koordynator@um.example.pl"}, "review")
    report_url = f"{API}/consultations/{consultation_id}/report"
    first = client.post(report_url, json={"language": "pl"}, headers=keyed(staff(ctx), "report-1"))
    assert first.status_code == 202, first.get_json()
    assert_replayed(first, client.post(report_url, json={"language": "pl"}, headers=keyed(staff(ctx), "report-1")))
    assert_reused(client.post(report_url, json={"language": "en"}, headers=keyed(staff(ctx), "report-1")))
    assert count(ctx, ReportBuild) == 1
    build_id = first.get_json()["id"]
    run_report_build(ctx, build_id)

    publish_url = f"{API}/consultations/{consultation_id}/publications"
    headers = keyed(staff(ctx), "publish-1")
    published = client.post(publish_url, json={"report_build_id": build_id}, headers=headers)
    assert published.status_code == 201, published.get_json()
    assert_replayed(published, client.post(publish_url, json={"report_build_id": build_id}, headers=headers))
    assert_reused(client.post(publish_url, json={"report_build_id": "another"}, headers=headers))
    assert count(ctx, Publication) == 1 and len(outbox(ctx, "report.published")) == 1


def test_a_retry_while_the_first_report_request_runs_is_a_409(ctx, client, monkeypatch):
    consultation_id = publish_consultation(ctx)
    app = client.application

    def send() -> Any:
        return app.test_client().post(f"{API}/consultations/{consultation_id}/report", json={},
                                      headers=keyed(staff(ctx), "slow"))

    first, second = while_first_runs(monkeypatch, documents_api.handlers, "request_report", send)
    assert first.status_code == 202, first.get_json()
    assert_in_progress(second)
    assert_replayed(first, send())
    assert count(ctx, ReportBuild) == 1


def test_the_documents_worker_sweeps_expired_keys(ctx, client):
    consultation_id = publish_consultation(ctx)
    url = f"{API}/consultations/{consultation_id}/report"
    for key in ("old", "new"):
        assert client.post(url, json={}, headers=keyed(staff(ctx), key)).status_code == 202
    with ctx.db.transaction() as session:
        session.get(IdempotencyKey, (f"POST {url} u-coordinator", "old")).expires_at = utcnow() - timedelta(1)
    ServiceWorker(ctx, worker_spec()).run_sweeps()
    assert [k.key for k in stored_keys(ctx, IdempotencyKey)] == ["new"]


def test_the_openapi_document_offers_the_header_exactly_on_the_creating_posts(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    with_key = {path.removeprefix(API) for path, operations in spec["paths"].items()
                for method, operation in operations.items() if method == "post"
                and {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", [])}
    assert with_key == {"/documents", "/documents/{document_id}/versions", "/consultations/{consultation_id}/report",
                        "/consultations/{consultation_id}/publications"}


def test_a_service_with_idempotent_views_but_no_table_for_the_keys_refuses_to_start(ctx):
    with pytest.raises(RuntimeError, match="idempotency_model"):
        create_app(ctx=dataclasses.replace(ctx, idempotency_model=None))
