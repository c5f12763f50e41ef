"""The end of a consultation on the real cluster: complete, build, publish, the public results page, the outcome
e-mails (once, also when the event is delivered again), and a correction after publication."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import create_engine, text

from services.common.bus import BrokerPublisher
from services.documents.engine.demo_draft import make_demo_draft
from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]

QUOTE = "wspieranie wykonywania zadań publicznych"
FINAL_TEXT = "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji, także na wkład własny;"


def closed_consultation(cluster, **extra: object) -> str:
    """A consultation whose deadline was yesterday: late comments are still taken (and flagged)."""
    now = datetime.now(timezone.utc)
    response = requests.post(cluster.api("intake", "/consultations"), headers=cluster.staff, json={
        "title": f"Konsultacje zakończone {uuid.uuid4().hex[:6]}", "stage": "II etap",
        "opens_at": (now - timedelta(days=20)).isoformat(), "deadline": (now - timedelta(days=2)).date().isoformat(),
        "topics": ["Finansowanie"], "contact_email": "konsultacje@um.example", **extra,
    }, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def submit(cluster, consultation_id: str, email: str, comments: list[dict], language: str = "pl") -> dict:
    response = requests.post(cluster.api("intake", f"/consultations/{consultation_id}/submissions"), json={
        "submitter": {"name": "Maria Zielińska", "email": email, "publish_consent": True},
        "language": language,
        "comments": [{"justification": "Uzasadnienie.", **c} for c in comments]}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def decide(cluster, comment_id: str, decision: str, justification: str = "", final_text: str | None = None) -> None:
    response = requests.post(cluster.api("review", f"/comments/{comment_id}/decision"), headers=cluster.staff,
                             json={"decision": decision, "justification": justification, "final_text": final_text},
                             timeout=10)
    assert response.status_code == 200, response.text


def finished(url: str, cluster) -> dict:
    def check():
        row = requests.get(url, headers=cluster.staff, timeout=10).json()
        return row if row["state"] in ("done", "failed") else None

    row = wait_until(check, timeout=90, what=url)
    assert row["state"] == "done", row
    return row


def local(cluster, public_url: str) -> str:
    """UWAGI_PUBLIC_URL is the gateway's address; the test talks to each service's own port."""
    path = public_url.removeprefix(cluster.env["UWAGI_PUBLIC_URL"])
    service = path.strip("/").split("/")[0]
    return f"http://127.0.0.1:{cluster.ports[service]}{path}"


def bodies(e2e_smtp, email: str) -> list[str]:
    return [m.get_body(preferencelist=("plain",)).get_content() for m in e2e_smtp.to(email)]


def test_publishing_makes_the_results_public_and_tells_each_submitter_once(cluster, e2e_smtp, e2e_rabbit):
    consultation_id = closed_consultation(cluster)
    upload = requests.post(cluster.api("documents", "/documents"), headers=cluster.staff, timeout=30,
                           data={"title": "Program współpracy", "consultation_id": consultation_id},
                           files={"file": ("projekt.docx", make_demo_draft("auto"))})
    assert upload.status_code == 201, upload.text
    document_id = upload.json()["id"]
    polish, english = (f"{who}-{uuid.uuid4().hex[:6]}@example.org" for who in ("anna", "john"))
    first = submit(cluster, consultation_id, polish, [
        {"section": "§ 5 ust. 2", "current_text": QUOTE, "proposal": "Dodać dotacje na wkład własny."},
        {"section": "§ 1", "proposal": "Skrócić wstęp."}])
    second = submit(cluster, consultation_id, english, [{"section": "§ 2", "proposal": "Add an English summary."}],
                    language="en")
    comment_ids = first["comment_ids"] + second["comment_ids"]
    wait_until(lambda: requests.get(cluster.api("review", "/comments"), params={"consultation": consultation_id},
                                    headers=cluster.staff, timeout=10).json()["total"] == 3,
               timeout=45, what="review to learn of the comments")
    decide(cluster, comment_ids[0], "accepted", final_text=FINAL_TEXT)
    decide(cluster, comment_ids[1], "rejected", "Wstęp wynika z ustawy.")
    decide(cluster, comment_ids[2], "not_considered", "Poza zakresem programu.")
    completed = requests.post(cluster.api("review", f"/consultations/{consultation_id}/complete"),
                              headers=cluster.staff, timeout=10)
    assert completed.status_code == 200, completed.text

    # Documents learns of the completion from the bus; until then a report would be a working draft.
    def report_after_completion():
        started = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/report"),
                                headers=cluster.staff, json={}, timeout=10)
        build = finished(cluster.api("documents", f"/reports/{started.json()['id']}"), cluster)
        return None if build["working_draft"] or build["comment_count"] < 3 else build

    # Documents learns of the accepted decision from the bus too: until then it has no change to apply (422).
    def version_started():
        answer = requests.post(cluster.api("documents", f"/documents/{document_id}/versions"),
                               headers=cluster.staff, timeout=30)
        assert answer.status_code in (202, 422), answer.text
        return answer if answer.status_code == 202 else None

    version = wait_until(version_started, timeout=60, interval=1, what="the accepted decision at documents")
    built = finished(cluster.api("documents", f"/documents/{document_id}/builds/{version.json()['id']}"), cluster)
    assert [c["comment_refs"] for c in built["changes"]] == [[f"{first['reference']}#1"]]
    report = wait_until(report_after_completion, timeout=90, interval=1, what="a final (not working-draft) report")
    published = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/publications"),
                              headers=cluster.staff, json={"report_build_id": report["id"]}, timeout=10)
    assert published.status_code == 201, published.text
    assert published.json()["document_version"] == 2

    # The public results page lists the five files; each downloads without a token.
    results_url = cluster.url("intake", f"/c/{consultation_id}/results")
    page = wait_until(lambda: (r := requests.get(results_url, timeout=10)).status_code == 200 and r.text,
                      timeout=45, what="the public results page")
    files = published.json()["files"]
    assert len(files) == 5
    for file in files:
        assert f'href="{file["public_url"]}"' in page
        download = requests.get(local(cluster, file["public_url"]), timeout=30)
        assert download.status_code == 200, file
        assert download.headers["ETag"].strip('"') == hashlib.sha256(download.content).hexdigest()

    # One e-mail per submission tells every outcome, with the links; in each submitter's language.
    wait_until(lambda: len(e2e_smtp.to(polish)) >= 2 and len(e2e_smtp.to(english)) >= 2, timeout=60,
               what="the outcome e-mails")
    summary = next(b for b in bodies(e2e_smtp, polish) if "opublikowano raport z konsultacji" in b)
    assert "uwaga uwzględniona" in summary and "uwaga nieuwzględniona" in summary and "Wstęp wynika z ustawy." in summary
    assert first["reference"] in summary and "/intake/status?" in summary and "/documents/files/" in summary
    summary_en = next(b for b in bodies(e2e_smtp, english) if "its report has been published" in b)
    assert "Decision: not considered" in summary_en

    # The same event delivered again, and a second publication, send nothing more.
    engine = create_engine(cluster.env["DOCUMENTS_DATABASE_URL"])
    with engine.connect() as conn:
        envelope = conn.execute(text("SELECT envelope FROM outbox WHERE event_type = 'report.published' "
                                     "AND envelope->'data'->>'consultation_id' = :c"), {"c": consultation_id}).scalar_one()
    engine.dispose()
    publisher = BrokerPublisher(e2e_rabbit.url())
    publisher.publish_batch([envelope])
    publisher.close()
    again = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/publications"),
                          headers=cluster.staff, json={"report_build_id": report["id"]}, timeout=10)
    assert again.status_code == 201
    # Notify consumes in order: once a later receipt is out, the redelivered events have been handled.
    marker = f"marker-{uuid.uuid4().hex[:6]}@example.org"
    submit(cluster, consultation_id, marker, [{"section": "§ 3", "proposal": "Spóźniona uwaga."}])
    wait_until(lambda: e2e_smtp.to(marker), timeout=45, what="the marker receipt")
    time.sleep(1)
    assert len(e2e_smtp.to(polish)) == 2 and len(e2e_smtp.to(english)) == 2

    # A decision changed after publication: the review is reopened with a reason, and one correction goes out.
    reopened = requests.post(cluster.api("review", f"/consultations/{consultation_id}/reopen"), headers=cluster.staff,
                             json={"reason": "Korekta stanowiska w uwadze 2 po analizie prawnej"}, timeout=10)
    assert reopened.status_code == 200, reopened.text
    decide(cluster, comment_ids[1], "partially_accepted", "Skrócono wstęp w części.", "Wstęp w nowym brzmieniu.")
    wait_until(lambda: len(e2e_smtp.to(polish)) >= 3, timeout=45, what="the correction e-mail")
    correction = bodies(e2e_smtp, polish)[-1]
    assert "zmieniono rozstrzygnięcie" in correction and "uwaga uwzględniona częściowo" in correction
    time.sleep(2)
    assert len(e2e_smtp.to(polish)) == 3 and len(e2e_smtp.to(english)) == 2


def test_a_consultation_that_tells_each_decision_sends_no_summary_at_publication(cluster, e2e_smtp):
    consultation_id = closed_consultation(cluster, outcome_notice="per_decision")
    email = f"ewa-{uuid.uuid4().hex[:6]}@example.org"
    receipt = submit(cluster, consultation_id, email, [{"section": "§ 1", "proposal": "Dodać słowniczek pojęć."}])
    wait_until(lambda: requests.get(cluster.api("review", "/comments"), params={"consultation": consultation_id},
                                    headers=cluster.staff, timeout=10).json()["total"] == 1,
               timeout=45, what="review to learn of the comment")
    decide(cluster, receipt["comment_ids"][0], "rejected", "Pojęcia zdefiniowano w ustawie.")
    wait_until(lambda: len(e2e_smtp.to(email)) >= 2, timeout=45, what="the receipt and the decision e-mail")
    assert "Pojęcia zdefiniowano w ustawie." in bodies(e2e_smtp, email)[-1]
    assert requests.post(cluster.api("review", f"/consultations/{consultation_id}/complete"), headers=cluster.staff,
                         timeout=10).status_code == 200

    def final_report():
        started = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/report"),
                                headers=cluster.staff, json={}, timeout=10)
        build = finished(cluster.api("documents", f"/reports/{started.json()['id']}"), cluster)
        return None if build["working_draft"] else build

    report = wait_until(final_report, timeout=90, interval=1, what="a final report")
    published = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/publications"),
                              headers=cluster.staff, json={"report_build_id": report["id"]}, timeout=10)
    assert published.status_code == 201 and len(published.json()["files"]) == 3  # no document: the report alone
    marker = f"marker-{uuid.uuid4().hex[:6]}@example.org"
    submit(cluster, consultation_id, marker, [{"section": "§ 2", "proposal": "Spóźniona uwaga."}])
    wait_until(lambda: e2e_smtp.to(marker), timeout=45, what="the marker receipt")
    time.sleep(1)
    assert len(e2e_smtp.to(email)) == 2
