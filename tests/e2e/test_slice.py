"""One real comment through all four services, as separate processes, over HTTP."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from docx import Document
from minio import Minio

from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]


def open_consultation(cluster, title: str = "Program współpracy z NGO na 2025 r.") -> str:
    now = datetime.now(timezone.utc)
    response = requests.post(cluster.api("intake", "/consultations"), headers=cluster.staff, json={
        "title": title, "stage": "II etap", "opens_at": (now - timedelta(days=1)).isoformat(),
        "deadline": (now + timedelta(days=14)).date().isoformat(),
        "topics": ["Procedury konkursowe"], "contact_email": "konsultacje@um.example",
    }, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def submit(cluster, consultation_id: str, email: str, proposal: str) -> dict:
    response = requests.post(cluster.api("intake", f"/consultations/{consultation_id}/submissions"), json={
        "submitter": {"name": "Maria Zielińska", "organization": "Stowarzyszenie Przykładowe", "email": email,
                      "publish_consent": True},
        "comments": [{"section": "§ 5 ust. 2 pkt 3", "current_text": "Konkursy ogłasza się raz w roku.",
                      "proposal": proposal, "justification": "Organizacje potrzebują przewidywalności."}],
    }, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def review_comment(cluster, consultation_id: str, reference: str) -> dict:
    def find():
        page = requests.get(cluster.api("review", "/comments"), params={"consultation": consultation_id},
                            headers=cluster.staff, timeout=10).json()
        return next((c for c in page["items"] if c["reference"] == reference), None)

    return wait_until(find, timeout=30, what=f"review to learn of {reference}")


def test_a_comment_travels_from_the_form_to_the_report_and_back_to_its_author(cluster, e2e_smtp, s3_server):
    consultation_id = open_consultation(cluster)
    email = f"maria-{uuid.uuid4().hex[:6]}@example.org"
    proposal = "Ogłaszać konkursy dwa razy w roku: w styczniu i w lipcu."
    receipt = submit(cluster, consultation_id, email, proposal)
    assert receipt["reference"].startswith("UW/")

    comment = review_comment(cluster, consultation_id, receipt["reference"])
    assert comment["proposal"] == proposal and comment["status"] == "new"
    decision = requests.post(cluster.api("review", f"/comments/{comment['id']}/decision"), headers=cluster.staff,
                             json={"decision": "partially_accepted", "justification": "Drugi nabór tylko w lipcu.",
                                   "final_text": "Konkursy ogłasza się dwa razy w roku."}, timeout=10)
    assert decision.status_code == 200, decision.text

    # The receipt reaches the submitter at once. The decision is told when the report is published
    # (the default outcome notice; see test_publication), so no second e-mail goes out now.
    wait_until(lambda: len(e2e_smtp.to(email)) >= 1, timeout=45, what="the receipt e-mail")
    receipt_mail = e2e_smtp.to(email)[0].get_body(preferencelist=("plain",)).get_content()
    assert receipt["reference"] in receipt_mail and proposal in receipt_mail

    # The submitter's status page shows the decision (intake learnt it from the bus).
    def decided():
        status = requests.get(cluster.api("intake", f"/submissions/{receipt['reference']}"),
                              params={"token": receipt["status_token"]}, timeout=10).json()
        return status["comments"][0]["status"] == "partially_accepted"

    wait_until(decided, timeout=30, what="status page to show the decision")

    # The report is built by a Celery worker and stored in S3.
    def documents_knows_decision():
        started = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/report"),
                                headers=cluster.staff, json={"language": "pl"}, timeout=10)
        assert started.status_code == 202, started.text
        build_id = started.json()["id"]

        def finished():
            builds = requests.get(cluster.api("documents", f"/consultations/{consultation_id}/reports"),
                                  headers=cluster.staff, timeout=10).json()
            build = next(b for b in builds if b["id"] == build_id)
            return build if build["state"] in {"done", "failed"} else None

        build = wait_until(finished, timeout=60, what="report build")
        assert build["state"] == "done", build
        return build

    import hashlib

    client = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)

    def report_with_the_decision():
        """A report built once documents' own consumer has the comment and its decision: documents learns them
        from the bus on its own schedule, so a report built before that is rightly without them; build again."""
        build = documents_knows_decision()
        assert build["sha256"] and build["download_url"]
        objects = list(client.list_objects("uwagi-e2e", prefix=f"reports/{consultation_id}/"))
        assert objects, "the report object is in S3"
        stored = [client.get_object("uwagi-e2e", item.object_name).read() for item in objects]
        data = next((blob for blob in stored if hashlib.sha256(blob).hexdigest() == build["sha256"]), None)
        assert data is not None, "the build's object, by its sha256, is in S3"
        document = Document(io.BytesIO(data))
        text = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
        return text if proposal in text and "Drugi nabór tylko w lipcu." in text else None

    text = wait_until(report_with_the_decision, timeout=90, what="a report with the comment and its decision")
    assert proposal in text
    assert "Drugi nabór tylko w lipcu." in text
    assert "uwzględniona częściowo" in text.lower()

    # The delivery log shows the receipt, sent once, and nothing else for this submitter.
    log = requests.get(cluster.api("notify", "/notifications"), headers=cluster.staff, timeout=10).json()
    rows = [n for n in (log["items"] if isinstance(log, dict) else log) if n["recipient"] == email]
    assert [n["status"] for n in rows] == ["sent"] and len(e2e_smtp.to(email)) == 1


def test_staff_endpoints_deny_by_default_across_services(cluster):
    for service, path in [("intake", "/consultations"), ("review", "/comments"), ("notify", "/notifications"),
                          ("documents", "/consultations/x/reports")]:
        method = requests.post if service == "intake" else requests.get
        assert method(cluster.api(service, path), json={}, timeout=10).status_code == 401
        assert method(cluster.api(service, path), json={}, headers={"Authorization": "Bearer forged"},
                      timeout=10).status_code == 401
    reviewer = cluster.run("users", "create", "--email", "recenzent@e2e.example", "--role", "reviewer").strip()
    response = requests.post(cluster.api("intake", "/consultations"), json={},
                             headers={"Authorization": f"Bearer {reviewer}"}, timeout=10)
    assert response.status_code == 403
