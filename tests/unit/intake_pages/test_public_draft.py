"""The public side of a consultation: the draft to read and comment on, the comment form to download, the
announcement's facts, an e-mail address that may be left out, and the adopted wording after a decision."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import docx
import pytest
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.intake import domain, handlers
from services.intake.comment_form import COLUMNS, SUBMITTER_LABELS
from services.intake.mail.form import read_docx
from services.intake.models import Consultation, Outbox, Submission
from tests.unit.intake_pages.helpers import csrf_token, form_data, open_consultation, text

UNITS = [
    {"id": "u0001", "label": "Tytuł", "kind": "block", "parent": None,
     "text": "Program współpracy Gminy Miasta Wzorowo z organizacjami pozarządowymi"},
    {"id": "u0002", "label": "Rozdział I", "kind": "chapter", "parent": None, "title": "Postanowienia ogólne",
     "text": "Postanowienia ogólne"},
    {"id": "u0003", "label": "§ 5", "kind": "paragraph", "parent": "u0002", "text": "Formy współpracy"},
    {"id": "u0004", "label": "§ 5 ust. 1", "kind": "section", "parent": "u0003",
     "text": "Współpraca ma charakter finansowy i pozafinansowy."},
    {"id": "u0005", "label": "§ 5 ust. 2", "kind": "section", "parent": "u0003", "text": "Współpraca finansowa obejmuje:"},
    {"id": "u0006", "label": "§ 5 ust. 2 pkt 1", "kind": "point", "parent": "u0005",
     "text": "powierzanie wykonywania zadań publicznych wraz z udzieleniem dotacji;"},
]
def page_url(consultation_id: str) -> str:
    return f"/intake/c/{consultation_id}"


CLEAN_URL = "http://127.0.0.1:8000/documents/files/a-1/projekt-do-konsultacji.docx"


def announce_draft(app, consultation_id, *, version=1, units=UNITS, clean_url=CLEAN_URL):
    data = {"document_id": "d-1", "version": version, "consultation_id": consultation_id, "title": "Projekt programu",
            "units": units, **({"clean_url": clean_url} if clean_url else {})}
    event = parse_envelope(new_envelope("document.version_created", data, producer="documents"))
    with app.extensions["uwagi"].db.transaction() as session:
        handlers.on_document_version_created(event, session)


def consultation_row(app, consultation_id) -> Consultation:
    with app.extensions["uwagi"].db.transaction() as session:
        return session.get(Consultation, consultation_id)


def with_draft(app, **overrides):
    consultation = open_consultation(app, **overrides)
    announce_draft(app, consultation.id)
    return consultation


# --- the draft ----------------------------------------------------------------------------------


def test_the_announced_draft_is_kept_with_its_texts_and_public_link_and_a_later_version_does_not_replace_it(app):
    consultation = with_draft(app)
    kept = consultation_row(app, consultation.id)
    assert kept.document_url == CLEAN_URL and kept.document_version == 1
    assert kept.document_sections[3] == {"id": "u0004", "label": "§ 5 ust. 1", "kind": "section", "parent": "u0003",
                                         "text": "Współpraca ma charakter finansowy i pozafinansowy."}
    assert kept.document_sections[1]["title"] == "Postanowienia ogólne"
    # Version 2 is built from decisions and is not public before the results: its texts are not shown.
    announce_draft(app, consultation.id, version=2, clean_url="",
                   units=[{**UNITS[3], "text": "Tekst po konsultacjach, jeszcze nieopublikowany."}])
    kept = consultation_row(app, consultation.id)
    assert kept.document_version == 1 and len(kept.document_sections) == len(UNITS)


def test_the_draft_page_shows_every_unit_with_an_anchor_and_a_link_that_opens_the_form_at_that_unit(app, client):
    consultation = with_draft(app)
    body = text(client.get(f"{page_url(consultation.id)}/draft"))
    assert "<h1>Projekt dokumentu</h1>" in body
    assert '<h3 id="j-u0002" class="draft-chapter">Rozdział I. Postanowienia ogólne</h3>' in body
    for unit in UNITS[2:]:
        assert f'id="j-{unit["id"]}"' in body and unit["text"] in body
    assert body.count("Zgłoś uwagę do tego zapisu") == 4  # not for the title block or the chapter
    link = re.search(r'href="([^"]*unit=u0005[^"]*)"', body).group(1).replace("&amp;", "&")
    assert "#" not in link  # a fragment would cancel the autofocus that puts the cursor in the proposal
    assert f'href="{CLEAN_URL}"' in body and f"/intake/api/v1/consultations/{consultation.id}/form.docx" in body

    form = text(client.get(link))
    assert 'id="c-0-section" name="c-0-section" type="text" value="§ 5 ust. 2"' in form
    assert "Współpraca finansowa obejmuje:</textarea>" in form  # the current text, ready to edit
    assert re.search(r'<textarea id="c-0-proposal"[^>]* autofocus', form)


def test_an_annex_whose_heading_names_it_is_shown_by_its_heading_once(app, client):
    """The annex's label is "Załącznik" and its text the heading "Załącznik do uchwały …": the page shows the heading,
    not "Załącznik Załącznik do uchwały …"; a provision is still shown with its label before its text."""
    consultation = open_consultation(app)
    annex = {"id": "u0007", "label": "Załącznik", "kind": "annex", "parent": None,
             "text": "Załącznik do uchwały nr …/24 Rady Miasta Torunia z dnia … 2024 r."}
    announce_draft(app, consultation.id, units=[*UNITS, annex,
                                                {"id": "u0008", "label": "Załącznik § 1", "kind": "paragraph",
                                                 "parent": "u0007", "text": "Program określa cele współpracy."}])
    body = text(client.get(f"{page_url(consultation.id)}/draft"))
    assert "<p><strong>Załącznik do uchwały nr …/24 Rady Miasta Torunia z dnia … 2024 r.</strong></p>" in body
    assert "Załącznik</strong> Załącznik" not in body
    assert '<strong class="unit-label">Załącznik § 1</strong> Program określa cele współpracy.' in body


def test_an_unknown_unit_opens_an_empty_form_and_a_consultation_without_a_draft_has_no_draft_page(app, client):
    consultation = open_consultation(app)
    form = text(client.get(page_url(consultation.id) + "?unit=nope"))
    assert 'id="c-0-section" name="c-0-section" type="text" value=""' in form
    assert "Projekt dokumentu" not in form
    assert client.get(f"{page_url(consultation.id)}/draft").status_code == 404


def test_the_draft_page_in_english(app, client):
    consultation = with_draft(app)
    body = text(client.get(f"{page_url(consultation.id)}/draft?lang=en"))
    assert "Draft document" in body and "Comment on this provision" in body


# --- the consultation page ----------------------------------------------------------------------


def test_the_consultation_page_gives_the_announcements_facts_the_draft_and_every_way_to_comment(app, client):
    consultation = with_draft(
        app, organiser="Wydział Zdrowia i Polityki Społecznej",
        legal_basis="art. 5 ust. 5 ustawy o działalności pożytku publicznego i o wolontariacie",
        contact_phone="56 611 88 88", postal_address="Urząd Miasta Torunia\nul. Wały gen. Sikorskiego 8\n87-100 Toruń",
        opens_at=datetime(2024, 9, 30, 8, 0, tzinfo=UTC))
    raw = client.get(page_url(consultation.id)).get_data(as_text=True)
    body = raw.replace("&nbsp;", " ")
    for needle in ("Uwagi przyjmujemy od", "30 września 2024 r.", "Wydział Zdrowia i Polityki Społecznej",
                   "art. 5 ust. 5 ustawy o działalności pożytku publicznego", 'href="tel:566118888"',
                   "56 611 88 88", "87-100 Toruń", "Decyduje data wpływu do urzędu",
                   "Jedna rozmowa trwa do 30 minut.", "Treść projektu na tej stronie", f'href="{CLEAN_URL}"',
                   f'href="/intake/api/v1/consultations/{consultation.id}/form.docx"',
                   "najlepiej z wypełnionym formularzem zgłaszania uwag"):
        assert needle in body, needle
    # Dates and hours never break across lines.
    assert "30&nbsp;września&nbsp;2024&nbsp;r." in raw and "21&nbsp;października&nbsp;2099&nbsp;r." in raw
    assert '<span class="nowrap">9:00–17:00</span>' in raw
    assert 'data-label="Zapisy do"' in raw  # on a narrow screen the stacked row still says what the date is
    assert "13&nbsp;października&nbsp;2099&nbsp;r., godz.&nbsp;15:00" in raw


def test_the_letter_address_names_the_organiser_once_and_the_rule_after_it_starts_a_new_line(app, client):
    consultation = with_draft(
        app, organiser="Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        postal_address="Urząd Miasta Torunia – Wydział Komunikacji Społecznej i Informacji\n"
                       "ul. Wały gen. Sikorskiego 8\n87-100 Toruń")
    raw = client.get(page_url(consultation.id)).get_data(as_text=True)
    address = re.search(r'<span class="pre postal-address">(.*?)</span>', raw, re.S).group(1)
    assert address.startswith("Urząd Miasta Torunia – Wydział") and address.count("Wydział") == 1
    assert address.endswith("87-100 Toruń")  # the rule on the date of receipt follows the block, not the town


def test_the_optional_e_mail_field_says_optional_once(app, client):
    consultation = with_draft(app)
    body = re.sub(r"<[^>]+>", "", client.get(page_url(consultation.id)).get_data(as_text=True))
    assert "Adres e-mail (nieobowiązkowe)" in body and "(nieobowiązkowe) (nieobowiązkowe)" not in body


@pytest.mark.parametrize(("organiser", "address", "expected"), [
    ("Wydział Zdrowia", "ul. Wały gen. Sikorskiego 8\n87-100 Toruń",
     "Wydział Zdrowia\nul. Wały gen. Sikorskiego 8\n87-100 Toruń"),
    ("Wydział Komunikacji Społecznej i Informacji UMT", "UMT – Wydział  Komunikacji Społecznej\n87-100 Toruń",
     "UMT – Wydział  Komunikacji Społecznej\n87-100 Toruń"),
    (None, " ul. Wały 8 ", "ul. Wały 8"),
    ("Wydział Zdrowia", "  ", None),
])
def test_letter_address_heads_the_address_with_the_organiser_unless_it_names_it(organiser, address, expected):
    assert domain.letter_address(organiser, address) == expected


def test_the_public_pages_use_one_formal_register(app, client):
    consultation = with_draft(app)
    url = page_url(consultation.id)
    pages = [text(client.get(url)), text(client.get(f"{url}/draft")), text(client.get("/intake/")),
             text(client.get("/intake/status")),
             text(client.post(url, data=form_data(csrf_token(client, url), name="", email="zly-adres")))]
    informal = re.compile(r"\b(Twój|Twoje|Twoja|Twoich|Twoim|Wpisz|Popraw|Sprawdź|Wybierz|Spróbuj|możesz|Możesz|"
                          r"zobaczysz|otrzymasz|wybierzesz|piszesz|chcesz|Porozmawiaj|Zapisz się|Cię)\b")
    for page in pages:
        assert not informal.findall(page), informal.findall(page)


# --- the comment form (DOCX) --------------------------------------------------------------------


def test_the_comment_form_is_a_public_deterministic_docx_after_the_citys_paper_form(app, client):
    consultation = with_draft(app, organiser="Wydział Zdrowia i Polityki Społecznej",
                              postal_address="ul. Wały gen. Sikorskiego 8, 87-100 Toruń")
    url = f"/intake/api/v1/consultations/{consultation.id}/form.docx"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "formularz-uwag.docx" in response.headers["Content-Disposition"]
    assert client.get(url).data == response.data  # deterministic: same consultation, same bytes
    assert response.headers["ETag"] == client.get(url).headers["ETag"]

    document = docx.Document(io.BytesIO(response.data))
    paragraphs = "\n".join(p.text for p in document.paragraphs).replace("\u00a0", " ")
    assert consultation.title in paragraphs and "II etap" in paragraphs
    assert "21 października 2099 r." in paragraphs and "konsultacje@um.example.pl" in paragraphs
    details, comments = document.tables
    assert [row.cells[0].text for row in details.rows] == list(SUBMITTER_LABELS)
    assert [cell.text.replace("\u00a0", " ") for cell in comments.rows[0].cells] == list(COLUMNS)
    assert [row.cells[0].text for row in comments.rows[1:4]] == ["1.", "2.", "3."]
    # The draft's labels, the way the engine reads them, under their chapter.
    assert "Rozdział I. Postanowienia ogólne – § 5; § 5 ust. 1; § 5 ust. 2; § 5 ust. 2 pkt 1" in paragraphs
    assert "Tytuł" not in paragraphs
    # The GDPR clause names the office as the one running the consultation, and the supervisory authority.
    assert "Klauzula informacyjna (RODO)" in paragraphs and "Wydział Zdrowia i Polityki Społecznej" in paragraphs
    assert "art. 6 ust. 1 lit. e RODO" in paragraphs and "Prezesa Urzędu Ochrony Danych Osobowych" in paragraphs


def test_a_filled_comment_form_is_read_back_by_e_mail_intake(app, client):
    """GIVEN the generated form filled in as a resident would WHEN e-mail intake reads it THEN it gets every
    non-empty row with its section, current text, proposal and justification, and the submitter's details."""
    consultation = with_draft(app)
    document = docx.Document(io.BytesIO(client.get(
        f"/intake/api/v1/consultations/{consultation.id}/form.docx").data))
    details, comments = document.tables
    for row, value in zip(details.rows, ("Anna Nowak", "Stowarzyszenie Przykładowe", "ul. Długa 1, 87-100 Toruń",
                                         "anna.nowak@example.pl", "600 100 200")):
        row.cells[1].paragraphs[0].add_run(value)
    for row, values in zip(comments.rows[1:], (
            ("§ 5 ust. 2", "Współpraca finansowa obejmuje:", "Dodać pkt 4: użyczanie lokali.", "Brak lokali."),
            ("§ 5 ust. 1", "", "Współpraca ma charakter finansowy, pozafinansowy i lokalowy.", ""))):
        for cell, value in zip(row.cells[1:], values):
            cell.paragraphs[0].add_run(value)
    buffer = io.BytesIO()
    document.save(buffer)

    filled = read_docx(buffer.getvalue())
    assert filled is not None and len(filled.rows) == 2
    assert filled.rows[0].section == "§ 5 ust. 2" and filled.rows[0].current_text == "Współpraca finansowa obejmuje:"
    assert filled.rows[0].proposal == "Dodać pkt 4: użyczanie lokali." and filled.rows[0].justification == "Brak lokali."
    assert filled.rows[1].section == "§ 5 ust. 1" and filled.rows[1].justification == ""
    assert filled.submitter.name == "Anna Nowak" and filled.submitter.organization == "Stowarzyszenie Przykładowe"
    assert filled.submitter.email == "anna.nowak@example.pl" and filled.submitter.phone == "600 100 200"
    assert filled.submitter.address == "ul. Długa 1, 87-100 Toruń"


def test_an_empty_form_gives_no_comments_and_no_submitter(app, client):
    consultation = with_draft(app)
    filled = read_docx(client.get(f"/intake/api/v1/consultations/{consultation.id}/form.docx").data)
    assert filled is not None and filled.rows == () and filled.submitter.name == ""


def test_a_title_with_characters_xml_cannot_carry_still_gives_a_form_not_a_server_error(app, client):
    """Found by schemathesis: a consultation titled with a vertical tab made form.docx a 500 (lxml refuses it)."""
    consultation = open_consultation(app, title="Program\x0bwspółpracy\x00 2027", organiser="Wydział\x1f Zdrowia")
    announce_draft(app, consultation.id, units=[{**UNITS[2], "title": "Formy\x0c współpracy"}])
    response = client.get(f"/intake/api/v1/consultations/{consultation.id}/form.docx")
    assert response.status_code == 200
    paragraphs = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    assert "Programwspółpracy 2027" in paragraphs and "Wydział Zdrowia" in paragraphs


def test_the_form_of_an_unknown_consultation_is_404(client):
    response = client.get(f"/intake/api/v1/consultations/{uuid.uuid4()}/form.docx")
    assert response.status_code == 404 and response.is_json


# --- e-mail optional ------------------------------------------------------------------------------


def test_a_resident_without_e_mail_submits_on_the_web_and_is_told_no_e_mail_will_come(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url), email=""))
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert re.search(r"UW/\d{4}/\d{6}", page)
    assert "Nie wyślemy potwierdzenia e-mailem, ponieważ nie podano adresu e-mail." in page
    assert "Wysyłamy potwierdzenie" not in page
    with app.extensions["uwagi"].db.transaction() as session:
        [submission] = session.scalars(select(Submission).where(Submission.consultation_id == consultation.id))
        assert submission.email is None
        [event] = [row.envelope["data"] for row in session.scalars(select(Outbox))
                   if row.event_type == "submission.received"
                   and row.envelope["data"]["submission_id"] == submission.id]
    assert event["submitter"]["email"] is None


def test_the_json_api_accepts_a_submission_without_e_mail(app, client):
    consultation = open_consultation(app)
    response = client.post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json={
        "submitter": {"name": "Jan Kowalski", "publish_consent": False},
        "comments": [{"section": "§ 5", "proposal": "Dodać konsultacje online."}]})
    assert response.status_code == 201, response.json
    assert response.json["reference"].startswith("UW/")
    bad = client.post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json={
        "submitter": {"name": "Jan Kowalski", "email": "nie-adres", "publish_consent": False},
        "comments": [{"section": "§ 5", "proposal": "x"}]})
    assert bad.status_code == 422


# --- statuses --------------------------------------------------------------------------------------


def test_the_status_reads_registered_then_the_decision_with_its_adopted_wording(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    client.post(url, data=form_data(csrf_token(client, url)))
    thanks = text(client.get(f"{url}/thanks"))
    status_link = re.search(r'href="(/intake/status\?[^"]+)"', thanks).group(1).replace("&amp;", "&")
    page = text(client.get(status_link))
    assert "zarejestrowana" in page and "przyjęta" not in page
    with app.extensions["uwagi"].db.transaction() as session:
        submission = session.scalars(select(Submission).where(Submission.consultation_id == consultation.id)).one()
        comment_id, reference = submission.comments[0].id, submission.reference
    decided = parse_envelope(new_envelope("comment.decided", {
        "comment_id": comment_id, "consultation_id": consultation.id, "reference": reference,
        "decision": "partially_accepted", "justification": "Częściowo zgodne z ustawą.",
        "final_text": "Konkursy ogłasza się co najmniej dwa razy w roku.", "decided_by": "r@um.example.pl",
        "decided_at": datetime.now(UTC), "revision": 1}, producer="review"))
    with app.extensions["uwagi"].db.transaction() as session:
        handlers.on_comment_decided(decided, session)
    page = text(client.get(status_link))
    assert "uwzględniona częściowo" in page and "Przyjęte brzmienie zapisu" in page
    assert "Konkursy ogłasza się co najmniej dwa razy w roku." in page
    token = re.search(r"token=([^&]+)", status_link).group(1)
    api = client.get(f"/intake/api/v1/submissions/{reference}?token={token}")
    assert api.json["comments"][0]["final_text"] == "Konkursy ogłasza się co najmniej dwa razy w roku."


@pytest.mark.parametrize("path", ["/draft", ""])
def test_the_new_pages_have_their_titles_in_english_too(app, client, path):
    consultation = with_draft(app)
    body = text(client.get(f"{page_url(consultation.id)}{path}?lang=en"))
    assert '<html lang="en">' in body and "Download the comment form (DOCX)" in body
