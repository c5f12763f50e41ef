"""The public results page, fed by `report.published`: every published file, no token, Polish and English."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.intake import domain, handlers
from services.intake.handlers import EVENT_HANDLERS
from services.intake.models import Inbox
from tests.unit.intake_pages.helpers import open_consultation

KINDS = ("report_docx", "report_xlsx", "report_csv", "version_clean", "version_tracked")


def publish(app: Flask, consultation_id: str) -> dict:
    files = [{"artifact_id": str(uuid.uuid4()), "kind": kind, "media_type": "application/octet-stream",
              "sha256": "ab" * 32, "size": 20480, "public_url": f"http://127.0.0.1:8000/documents/files/{i}/{kind}"}
             for i, kind in enumerate(KINDS)]
    data = {"consultation_id": consultation_id, "build_id": str(uuid.uuid4()), "sha256": "ab" * 32,
            "download_url": files[0]["public_url"], "publication_id": str(uuid.uuid4()),
            "published_at": datetime(2024, 12, 2, 9, 0, tzinfo=UTC), "files": files, "document_version": 2}
    event = parse_envelope(new_envelope("report.published", data, producer="documents"))
    dispatcher = InboxDispatcher(app.extensions["uwagi"].db, Inbox, EVENT_HANDLERS)
    dispatcher.dispatch(event)
    dispatcher.dispatch(event)  # redelivered: one result, not two
    return data


def test_before_publication_the_results_page_is_a_clear_404(app: Flask, client: FlaskClient):
    consultation = open_consultation(app)
    response = client.get(f"/intake/c/{consultation.id}/results")
    assert response.status_code == 404
    assert "nie zostały jeszcze opublikowane" in response.get_data(as_text=True)


def test_the_published_report_and_version_are_listed_for_anyone_in_polish_and_english(app: Flask, client: FlaskClient):
    consultation = open_consultation(app)
    data = publish(app, consultation.id)
    html = client.get(f"/intake/c/{consultation.id}/results").get_data(as_text=True)
    assert "<h1>Wyniki konsultacji</h1>" in html and "2 grudnia 2024" in html
    for file in data["files"]:
        assert f'href="{file["public_url"]}"' in html
    assert "Raport z konsultacji (DOCX)" in html and "Dokument z zaznaczonymi zmianami (DOCX)" in html
    assert html.index("Raport z konsultacji (DOCX)") < html.index("Dokument po konsultacjach (DOCX)")
    assert '<th scope="col">Plik</th>' in html

    english = client.get(f"/intake/c/{consultation.id}/results?lang=en").get_data(as_text=True)
    assert "Results of the consultation" in english and "The document with the changes marked (DOCX)" in english
    page = client.get(f"/intake/c/{consultation.id}?lang=pl").get_data(as_text=True)
    assert f'href="/intake/c/{consultation.id}/results"' in page


def test_the_status_page_links_to_the_published_results(app: Flask, client: FlaskClient):
    consultation = open_consultation(app)
    receipt = handlers.submit_comments(app.extensions["uwagi"], domain.SubmitComments(
        consultation_id=consultation.id, submitter=domain.Submitter("Anna Nowak", "anna@example.org", False),
        comments=(domain.CommentDraft(section="§ 1", current_text="", proposal="Zmienić.", justification=""),)))
    status_url = f"/intake/status?reference={receipt.reference}&token={receipt.status_token}"
    assert "/results" not in client.get(status_url).get_data(as_text=True)
    publish(app, consultation.id)
    assert f'href="/intake/c/{consultation.id}/results"' in client.get(status_url).get_data(as_text=True)
