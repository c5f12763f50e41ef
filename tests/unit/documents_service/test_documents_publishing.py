"""Publishing: only a finished report built after the review is completed; its files become public."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from docx import Document as WordDocument

from services.documents.models import ReportBuild
from services.documents.publishing import publish_blockers
from tests.support.infra import wait_until
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, deliver, outbox, publish_consultation,
                                                   staff, submit, upload)


def api(path: str) -> str:
    return f"/documents/api/v1{path}"


@pytest.mark.parametrize("completed, state, internal, draft, reasons", [
    (True, "done", False, False, []),
    (False, "done", False, True, ["review_not_completed", "working_draft"]),
    (True, "running", False, False, ["build_not_done"]),
    (True, "done", True, False, ["internal_edition"]),
])
def test_what_may_be_published(completed, state, internal, draft, reasons):
    assert publish_blockers(review_completed=completed, build_state=state, internal=internal,
                            working_draft=draft) == reasons


def build_report(client, ctx, consultation_id: str) -> dict:
    started = client.post(api(f"/consultations/{consultation_id}/report"), headers=staff(ctx), json={})
    assert started.status_code == 202, started.json

    def done():
        row = client.get(api(f"/reports/{started.json['id']}"), headers=staff(ctx, "reviewer")).json
        return row if row["state"] in ("done", "failed") else None

    report = wait_until(done, timeout=30, what="report build")
    assert report["state"] == "done", report
    return report


def title_page(client, ctx, report: dict) -> str:
    docx = client.get(api(f"/reports/{report['id']}/download"), headers=staff(ctx)).data
    return "\n".join(p.text for p in WordDocument(io.BytesIO(docx)).paragraphs[:6])


def complete_review(ctx, consultation_id: str) -> None:
    deliver(ctx, "consultation.review_completed", {"consultation_id": consultation_id,
                                                   "completed_at": datetime.now(timezone.utc),
                                                   "completed_by": "koordynator@um.example.pl"}, "review")


def test_a_working_draft_is_marked_and_refused_then_the_final_report_and_version_are_published(ctx, client, draft, worker):
    consultation_id = publish_consultation(ctx)
    document_id = upload(client, ctx, draft, consultation_id=consultation_id).json["id"]
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2", "current_text": QUOTE}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)

    early = build_report(client, ctx, consultation_id)
    assert early["working_draft"] is True
    assert "Wersja robocza" in title_page(client, ctx, early)
    refused = client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                          json={"report_build_id": early["id"]})
    assert refused.status_code == 409 and refused.json["errors"]["reasons"] == ["review_not_completed", "working_draft"]

    complete_review(ctx, consultation_id)
    version = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    assert version.status_code == 202
    wait_until(lambda: client.get(api(f"/documents/{document_id}/builds/{version.json['id']}"),
                                  headers=staff(ctx)).json["state"] == "done", timeout=30, what="version 2")
    final = build_report(client, ctx, consultation_id)
    assert final["working_draft"] is False and "Wersja robocza" not in title_page(client, ctx, final)
    assert client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx, "reviewer"),
                       json={"report_build_id": final["id"]}).status_code == 403
    # A working draft stays refused even after completion: it was built from positions that could still change.
    assert client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                       json={"report_build_id": early["id"]}).json["errors"]["reasons"] == ["working_draft"]

    published = client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                            json={"report_build_id": final["id"]})
    assert published.status_code == 201, published.json
    assert published.json["document_version"] == 2
    [event] = outbox(ctx, "report.published")
    kinds = {f["kind"]: f for f in event["files"]}
    assert set(kinds) == {"report_docx", "report_xlsx", "report_csv", "version_clean", "version_tracked"}
    assert event["publication_id"] == published.json["id"] and event["document_version"] == 2
    assert event["download_url"] == kinds["report_docx"]["public_url"] and len(event["exports"]) == 3

    # Anyone downloads the published files, with no token; the bytes are the stored artifact's.
    anonymous = create_anonymous(client)
    for kind, described in kinds.items():
        path = described["public_url"].removeprefix(ctx.settings.public_url)
        response = anonymous.get(path)
        assert response.status_code == 200, (kind, response.status_code)
        assert response.headers["ETag"].strip('"') == described["sha256"]
    # An artifact that was never published is not served, even when its id is known.
    with ctx.db.transaction() as session:
        artifact_id = session.get(ReportBuild, early["id"]).artifacts[0].id
    assert anonymous.get(f"/documents/files/{artifact_id}/raport.docx").status_code == 404
    assert anonymous.get(api(f"/reports/{final['id']}/download")).status_code == 401  # the API still wants a token


def create_anonymous(client):
    return client.application.test_client()


def test_a_reopened_review_makes_new_reports_working_drafts_again(ctx, client, worker):
    consultation_id = publish_consultation(ctx)
    complete_review(ctx, consultation_id)
    deliver(ctx, "consultation.review_reopened", {"consultation_id": consultation_id,
                                                  "reopened_at": datetime.now(timezone.utc),
                                                  "reopened_by": "k@um.example.pl", "reason": "Korekta stanowiska"},
            "review")
    assert build_report(client, ctx, consultation_id)["working_draft"] is True
