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
    assert response.status_code == 404  # nothing to index yet; for people, a page of the consultation
    page = response.get_data(as_text=True)
    assert "nie zostały jeszcze opublikowane" in page and "urząd opublikuje tutaj raport" in page
    assert f'href="/intake/c/{consultation.id}"' in page and "Kod błędu" not in page


def test_the_published_report_and_version_are_listed_for_anyone_in_polish_and_english(app: Flask, client: FlaskClient):
    consultation = open_consultation(app)
    data = publish(app, consultation.id)
    html = client.get(f"/intake/c/{consultation.id}/results").get_data(as_text=True)
    assert "<h1>Wyniki konsultacji</h1>" in html and "2 grudnia 2024" in html
    for file in data["files"]:
        assert f'href="{file["public_url"]}"' in html
    assert "Raport z konsultacji (DOCX)" in html and "Dokument z zaznaczonymi zmianami (DOCX)" in html
    assert f'href="/documents/c/{consultation.id}/comments">Przeczytaj wszystkie uwagi i stanowisko Miasta' in html
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
    status = client.get(status_url).get_data(as_text=True)
    assert f'href="/intake/c/{consultation.id}/results"' in status
    assert f'href="/documents/c/{consultation.id}/comments?q={receipt.reference}"' in status


def record_handover(app: Flask, consultation_id: str, revision: int, handed_over_on: str, print_number: str = "",
                    **adopted: str) -> None:
    event = parse_envelope(new_envelope("council.handover_recorded", {
        "consultation_id": consultation_id, "handed_over_on": handed_over_on, "letter_reference": "WRS-II.524.3.2024",
        "print_number": print_number, "revision": revision, "recorded_by": "koordynator@um.example.pl",
        "recorded_at": datetime(2024, 12, 5, 9, 0, tzinfo=UTC), **adopted}, producer="documents"))
    InboxDispatcher(app.extensions["uwagi"].db, Inbox, EVENT_HANDLERS).dispatch(event)


def test_the_results_and_status_pages_say_when_the_draft_went_to_the_city_council(app: Flask, client: FlaskClient):
    consultation = open_consultation(app)
    receipt = handlers.submit_comments(app.extensions["uwagi"], domain.SubmitComments(
        consultation_id=consultation.id, submitter=domain.Submitter("Anna Nowak", "anna@example.org", False),
        comments=(domain.CommentDraft(section="§ 1", current_text="", proposal="Zmienić.", justification=""),)))
    status_url = f"/intake/status?reference={receipt.reference}&token={receipt.status_token}"
    publish(app, consultation.id)
    results_url = f"/intake/c/{consultation.id}/results"
    assert "Radzie Miasta" not in client.get(results_url).get_data(as_text=True)

    record_handover(app, consultation.id, 2, "2024-12-04", print_number="412")
    record_handover(app, consultation.id, 1, "2024-12-03")  # the first record, arriving after its correction
    html = client.get(results_url).get_data(as_text=True)
    assert ("Projekt uchwały wraz z dokumentem po konsultacjach przekazano Radzie Miasta 4 grudnia 2024 r. "
            "Druk nr 412. Znak pisma: WRS-II.524.3.2024.") in html
    assert "<h2>Przekazanie Radzie Miasta</h2>" in html
    english = client.get(f"{results_url}?lang=en").get_data(as_text=True)
    assert "was handed over to the City Council on 4 December 2024. Council print no.: 412." in english
    status = client.get(f"{status_url}&lang=pl").get_data(as_text=True)
    assert "przekazano Radzie Miasta 4 grudnia 2024 r." in status
    handover = handlers.council_handover(app.extensions["uwagi"], consultation.id)
    assert (handover.revision, handover.print_number) == (2, "412")
    assert "uchwałą" not in html and "uchwałą" not in status

    # the council passes the resolution: the coordinator adds it to the record
    record_handover(app, consultation.id, 3, "2024-12-04", print_number="412", adopted_on="2024-12-12",
                    resolution_number="XII/123/24")
    html = client.get(results_url).get_data(as_text=True)
    assert "Rada Miasta przyjęła dokument uchwałą nr XII/123/24 z dnia 12 grudnia 2024 r.</strong>" in html
    assert "adopted the document by resolution no. XII/123/24 of 12 December 2024." in client.get(
        f"{results_url}?lang=en").get_data(as_text=True)
    assert "Rada Miasta przyjęła dokument uchwałą nr XII/123/24 z dnia 12 grudnia 2024 r." in client.get(
        f"{status_url}&lang=pl").get_data(as_text=True)
