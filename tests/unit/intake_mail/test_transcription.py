"""Staff transcribe a needs_review e-mail: the page shows the mail and its attachments, the comments replace
the placeholder (which keeps its id), and `submission.transcribed` carries the submission as it now stands."""

from __future__ import annotations

import base64
import re
import shutil
import uuid

import pytest
from sqlalchemy import select

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.common.events import parse_envelope
from services.common.web import Conflict
from services.intake import app as intake_app
from services.intake import domain
from services.intake.mail.importer import import_mail
from services.intake.mail.transcribe import transcribe_mail
from services.intake.models import InboundMail, Outbox, Submission
from tests.support.infra import require_tesseract
from tests.unit.intake_mail.conftest import CORPUS, make_ctx, now, open_consultation


def body_only_mail() -> bytes:
    return (f"From: Anna Nowak <anna@example.org>\r\nTo: konsultacje@um.torun.pl\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\nSubject: Uwagi\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Proszę o dwa konkursy w roku.\r\n").encode()


def scanned_mail(ctx, raw: bytes | None = None):
    consultation = open_consultation(ctx)
    raw = raw or (CORPUS / "netscape-rfc2047-scan.eml").read_bytes()
    result = import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
    with ctx.db.transaction() as session:
        mail = session.scalar(select(InboundMail).where(InboundMail.message_id == result.message_id))
        return mail.id, result.reference


def reviewer_client(ctx):
    """A test client of intake's pages, signed in as a reviewer."""
    client = intake_app.create_app(ctx=ctx).test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", "recenzent@um.torun.pl", "reviewer"))
    return client


def transcribed_events(ctx, reference):
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "submission.transcribed"))
        return [parse_envelope(row.envelope).data for row in rows if row.envelope["data"]["reference"] == reference]


def comments_of(ctx, reference):
    with ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        return [(c.id, c.number, c.section, c.proposal) for c in submission.comments]


ROWS = (domain.CommentDraft(section="§ 5 ust. 2", proposal="Konkursy dwa razy w roku.", justification="Więcej NGO."),
        domain.CommentDraft(section="§ 10", proposal="Zwiększyć kwotę.", topic=None))


def test_the_transcription_replaces_the_placeholder_and_tells_the_other_services(fresh_ctx):
    mail_id, reference = scanned_mail(fresh_ctx)
    [(placeholder_id, _, _, _)] = comments_of(fresh_ctx, reference)
    done = transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    assert (done.reference, done.comments) == (reference, 2)
    comments = comments_of(fresh_ctx, reference)
    assert comments[0] == (placeholder_id, 1, "§ 5 ust. 2", "Konkursy dwa razy w roku.")
    assert comments[1][1:] == (2, "§ 10", "Zwiększyć kwotę.")
    [event] = transcribed_events(fresh_ctx, reference)
    assert [c["comment_id"] for c in event["comments"]] == [c[0] for c in comments]
    assert event["transcribed_by"] == "recenzent@um.torun.pl" and event["channel"] == "email"
    assert event["provenance"]["entered_by"] == "recenzent@um.torun.pl"
    with fresh_ctx.db.transaction() as session:
        assert session.get(InboundMail, mail_id).status == "transcribed"


def test_a_second_transcription_or_one_after_a_decision_is_refused(fresh_ctx):
    mail_id, reference = scanned_mail(fresh_ctx)
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="r@um.torun.pl")
    with pytest.raises(Conflict):
        transcribe_mail(fresh_ctx, mail_id, ROWS[:1], actor="r@um.torun.pl")
    assert len(transcribed_events(fresh_ctx, reference)) == 1
    decided_mail, decided_reference = scanned_mail(fresh_ctx, body_only_mail())
    with fresh_ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == decided_reference))
        submission.comments[0].status = "not_considered"
    with pytest.raises(Conflict):
        transcribe_mail(fresh_ctx, decided_mail, ROWS, actor="r@um.torun.pl")
    assert transcribed_events(fresh_ctx, decided_reference) == []


def test_the_pages_list_the_mail_show_its_text_and_attachments_and_save_the_transcription(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx)
    listing = client.get("/intake/staff/mails").get_data(as_text=True)
    assert "<h1>E-maile do przepisania</h1>" in listing and f"/intake/staff/mails/{mail_id}" in listing
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "W załączeniu skan podpisanego formularza z uwagami." in page and "skan uwag Toruń.pdf" in page
    assert f"/intake/api/v1/staff/mails/{mail_id}/attachments/" in page and reference in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"rows": "3", "c-0-section": "§ 5 ust. 2", "c-0-proposal": "Konkursy dwa razy w roku.", "action": "save"}
    assert client.post(f"/intake/staff/mails/{mail_id}", data=form).status_code == 400  # no CSRF token
    more = client.post(f"/intake/staff/mails/{mail_id}", data={**form, "csrf_token": token, "action": "add_row"})
    assert more.status_code == 200 and 'name="c-3-proposal"' in more.get_data(as_text=True)
    empty = client.post(f"/intake/staff/mails/{mail_id}", data={"rows": "1", "csrf_token": token, "action": "save"})
    assert empty.status_code == 422 and "co najmniej jedną uwagę" in empty.get_data(as_text=True)
    assert 'name="tell_sender" value="yes" checked' in page  # the sender is sent the comments to check, by default
    assert "Wyślij nadawcy przepisane uwagi (na adres" in page
    assert 'name="tell_sender" value="yes">' in more.get_data(as_text=True)  # unticked stays unticked on a post-back
    saved = client.post(f"/intake/staff/mails/{mail_id}", data={**form, "csrf_token": token, "tell_sender": "yes"})
    assert saved.status_code == 303
    assert transcribed_events(fresh_ctx, reference)[0]["tell_sender"] is True
    after = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"Zgłoszenie {reference} ma teraz przepisane uwagi: 1." in after
    assert "czeka na przepisanie" not in after and "Przepisz e-mail" not in after  # the mail is read, linked as such
    assert f'href="/intake/staff/mails/{mail_id}">E-mail, z którego odczytano uwagi' in after
    again = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "nie czeka na przepisanie" in again and 'name="c-0-proposal"' not in again
    assert len(transcribed_events(fresh_ctx, reference)) == 1


def mail_with_ole_file(media_type: str = "application/vnd.ms-outlook", name: str = "RE Uwagi.msg",
                       data: bytes = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0") -> bytes:
    """A mail carrying one file: by default an OLE compound file (an Outlook item) that is only the OLE magic."""
    return (f"From: Anna Nowak <anna@example.org>\r\nTo: konsultacje@um.torun.pl\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\nSubject: Uwagi\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
            f'Przekazuję.\r\n--b\r\nContent-Type: {media_type}; name="{name}"\r\n'
            "Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.encodebytes(data).decode()}\r\n--b--\r\n").encode()


@pytest.mark.parametrize("corpus_mail,hint", [
    # a winmail.dat with no file inside that can be read (a real TNEF stream with garbage after its last attribute,
    # tests/corpus/mail/tnef/SOURCES.md); one with files gives them as attachments of their own
    ("tnef", "Plik winmail.dat z Outlooka (wiadomość wysłana w formacie RTF)"),
    ("doc", "Dokument programu Word 97-2003, którego nie udało się odczytać"),  # a .doc that is only the OLE magic
    (None, "Element programu Outlook (.msg), czyli cała wiadomość: formularz może być do niej załączony."),
    ("xls", "Skoroszyt programu Excel 97-2003 (.xls), którego nie udało się odczytać (uszkodzony lub chroniony hasłem)"),
    # Request Tracker's S/MIME-encrypted test mail (tests/corpus/mail/rt/SOURCES.md), sent to the city's address
    ("rt/smime-4-encrypted-plain.eml", "Wiadomość zaszyfrowana (S/MIME lub OpenPGP)"),
])
def test_the_page_tells_staff_why_an_attached_form_was_not_read(fresh_ctx, corpus_mail, hint):
    client = reviewer_client(fresh_ctx)
    raw = (mail_with_ole_file("application/vnd.ms-excel", "uwagi.xls") if corpus_mail == "xls"
           else mail_with_ole_file("application/ms-tnef", "winmail.dat", (CORPUS / "tnef" / "garbage-at-end.tnef")
                                   .read_bytes()) if corpus_mail == "tnef"
           else mail_with_ole_file("application/msword", "uwagi.doc") if corpus_mail == "doc"
           else b"To: konsultacje@um.torun.pl\r\n"
           + (CORPUS / corpus_mail).read_bytes().replace(b"\nTo: ", b"\nX-To: ", 1) if corpus_mail
           else mail_with_ole_file())
    mail_id, _reference = scanned_mail(fresh_ctx, raw)
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert hint in page and 'name="c-0-proposal"' in page


def test_rows_the_mail_names_a_provision_for_are_filled_in_for_staff_to_check_and_save(fresh_ctx):
    """The corpus's Polish Outlook forward (outlook-pd-forward-body-only.eml): its text names § 5 ust. 2 and gives
    the reason in a paragraph of its own; the page opens with that row filled in and one empty row after it."""
    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx, (CORPUS / "outlook-pd-forward-body-only.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "1 wiersz wypełniono na podstawie treści wiadomości" in page
    assert re.search(r'name="c-0-section"[^>]*value="§ 5 ust. 2"', page)
    assert "proponuję w § 5 ust. 2 dopisać: tworzenie warunków do współpracy" in page
    assert 'name="c-1-proposal"' in page and 'name="c-2-proposal"' not in page
    plain = client.get(f"/intake/staff/mails/{scanned_mail(fresh_ctx)[0]}").get_data(as_text=True)
    assert "wypełniono na podstawie treści" not in plain and 'name="c-2-proposal"' in plain


def test_a_scanned_letter_is_read_by_ocr_shown_as_such_and_its_points_start_filled_in(fresh_ctx):
    """The Federation's letter printed, signed and scanned by a copier (outlook-scanned-letter-pdf.eml): the page
    shows the text recognised in the scan, says it was recognised and may be misread, and fills the two rows."""
    require_tesseract()
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "outlook-scanned-letter-pdf.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "Tekst rozpoznany w skanie SKM_C25811110814050.pdf" in page
    assert "Rozpoznany automatycznie (OCR) z obrazu" in page
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza rekomendowane do współfinansowania przedsięwzięcia”." in page
    assert "2 wiersze wypełniono na podstawie treści wiadomości i załączonych pism" in page
    assert re.search(r'name="c-0-section"[^>]*value="Rozdział VI § 12 ust. 19"', page)
    with fresh_ctx.db.transaction() as session:
        attachment = session.get(InboundMail, mail_id).attachments[0]
    assert attachment["role"] == "scan" and attachment["ocr"] is True
    text = client.get(f"/intake/api/v1/staff/mails/{mail_id}/attachments/{attachment['sha256']}/text")
    assert text.status_code == 200 and "Kujawsko-Pomorska Federacja" in text.get_data(as_text=True)


def test_with_ocr_off_a_scan_is_a_picture_only(tmp_path):
    ctx = make_ctx(tmp_path / "var", UWAGI_OCR_LANGUAGES="off")
    try:
        mail_id, _reference = scanned_mail(ctx, (CORPUS / "outlook-scanned-letter-pdf.eml").read_bytes())
        with ctx.db.transaction() as session:
            attachment = session.get(InboundMail, mail_id).attachments[0]
        assert attachment["role"] == "scan" and "text_key" not in attachment and "ocr" not in attachment
        page = reviewer_client(ctx).get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
        assert "Tekst rozpoznany" not in page and "wypełniono na podstawie treści" not in page
    finally:
        ctx.close()


def test_a_letter_attached_instead_of_the_form_is_shown_and_its_points_start_filled_in(fresh_ctx):
    """The corpus's Outlook mail with the Federation's letter as LibreOffice's PDF (outlook-letter-pdf-attached.eml):
    the page shows the letter's text in a region of its own, and its two points fill two rows."""
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "outlook-letter-pdf-attached.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "Treść pisma Uwagi Federacji do Programu Współpracy 2012.pdf" in page
    assert 'class="letter-text" tabindex="0" role="region"' in page
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza rekomendowane do współfinansowania przedsięwzięcia”." in page
    assert "2 wiersze wypełniono na podstawie treści wiadomości i załączonych pism" in page
    assert re.search(r'name="c-0-section"[^>]*value="Rozdział VI § 12 ust. 19"', page)
    assert re.search(r'name="c-1-section"[^>]*value="§ 5 ust. 2"', page)
    assert 'name="c-2-proposal"' in page and 'name="c-3-proposal"' not in page


def test_the_page_says_so_when_the_letter_text_cannot_be_read_from_the_store(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "thunderbird-letter-docx-attached.eml").read_bytes())
    with fresh_ctx.db.transaction() as session:
        text_key = session.get(InboundMail, mail_id).attachments[0]["text_key"]
    shutil.rmtree(fresh_ctx.store._dir(text_key))  # as if the store lost it or did not answer
    response = client.get(f"/intake/staff/mails/{mail_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nie można teraz pokazać tekstu odczytanego z tego pliku" in page
    assert re.search(r'<a href="[^"]+/attachments/[0-9a-f]{64}">uwagi-federacji.docx</a>', page)


def test_staff_correct_the_sender_from_the_letter_and_the_event_carries_it(fresh_ctx):
    """The Federation's letter came from its office's mailbox ("Biuro Federacji"): the clerk enters the
    organisation from the letter's heading; the submission and `submission.transcribed` carry it."""
    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx, (CORPUS / "outlook-letter-pdf-attached.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert re.search(r'name="name"[^>]*value="Biuro Federacji"', page)
    # the letter's heading names the organisation: the field starts with it, under a hint to check it
    assert re.search(r'name="organization"[^>]*value="Kujawsko-Pomorska Federacja Organizacji Pozarządowych"', page)
    assert "Odczytano z nagłówka pisma: sprawdź." in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "rows": "1", "c-0-section": "§ 12 ust. 19", "c-0-proposal": "Zatwierdza.",
            "action": "save", "name": "Biuro Federacji",
            "organization": "Kujawsko-Pomorska Federacja Organizacji Pozarządowych"}
    missing = client.post(f"/intake/staff/mails/{mail_id}", data={**form, "name": " "})
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.get_data(as_text=True)
    assert client.post(f"/intake/staff/mails/{mail_id}", data=form).status_code == 303
    (event,) = transcribed_events(fresh_ctx, reference)
    assert event["submitter"]["organization"] == "Kujawsko-Pomorska Federacja Organizacji Pozarządowych"
    assert event["submitter"]["kind"] == "organization" and event["submitter"]["name"] == "Biuro Federacji"
    with fresh_ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        assert submission.kind == "organization" and submission.email == "biuro@federacja.example.org"


def test_a_photo_of_the_form_is_shown_on_the_page_to_transcribe_from(fresh_ctx):
    """The corpus's GMX mail with a phone photo of the filled paper form pasted into it
    (gmx-photo-of-form-pasted-inline.eml): the clerk sees the picture beside the rows, not only a link."""
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "gmx-photo-of-form-pasted-inline.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    found = re.search(r'<img src="([^"]+/attachments/[0-9a-f]{64})" alt="Obraz [^"]+, tak jak załączył go nadawca"',
                      page)
    assert found
    picture = client.get(found.group(1))
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg" and picture.data[:2] == b"\xff\xd8"


def test_the_letters_text_is_also_served_to_staff_tools_and_refused_for_other_files(fresh_ctx):
    require_tesseract()
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "thunderbird-letter-docx-attached.eml").read_bytes())
    with fresh_ctx.db.transaction() as session:
        sha256 = session.get(InboundMail, mail_id).attachments[0]["sha256"]
    text = client.get(f"/intake/api/v1/staff/mails/{mail_id}/attachments/{sha256}/text")
    assert text.status_code == 200 and text.content_type == "text/plain; charset=utf-8"
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza" in text.get_data(as_text=True)
    assert 'filename="uwagi-federacji.txt"' in text.headers["Content-Disposition"]
    assert client.get(f"/intake/api/v1/staff/mails/{mail_id}/attachments/{'0' * 64}/text").status_code == 404
    # a photo of a form filled in by hand: OCR is not sure of a word in it, so there is no text to serve
    photo_id, _ = scanned_mail(fresh_ctx, (CORPUS / "gmx-photo-of-form-pasted-inline.eml").read_bytes())
    with fresh_ctx.db.transaction() as session:
        photo_sha = session.get(InboundMail, photo_id).attachments[0]["sha256"]
    assert client.get(f"/intake/api/v1/staff/mails/{photo_id}/attachments/{photo_sha}/text").status_code == 404


def test_a_scanned_form_starts_the_rows_its_table_has_and_says_they_were_read_by_ocr(fresh_ctx):
    """Form A filled in, printed, signed and scanned (outlook-scanned-form-pdf.eml): the rows are its table's as
    OCR read them, not guesses from its text, and the page says to check every word against the scan."""
    require_tesseract()
    client = reviewer_client(fresh_ctx)
    mail_id, _reference = scanned_mail(fresh_ctx, (CORPUS / "outlook-scanned-form-pdf.eml").read_bytes())
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "2 wiersze odczytano automatycznie (OCR) z tabeli zeskanowanego formularza Skan formularza uwag.pdf" in page
    assert re.search(r'name="c-0-section"[^>]*value="§ 5 ust. 2"', page)
    assert re.search(r'name="c-1-section"[^>]*value="Rozdział 4 pkt 3"', page)
    assert 'name="c-2-section"' in page and 'name="c-3-section"' not in page  # one empty row to add to
    assert re.search(r'name="organization"[^>]*value="Stowarzyszenie Przyjaciół Torunia"', page)
    assert "Odczytane automatycznie (OCR) ze zeskanowanego formularza: sprawdź." in page


def test_the_page_shows_the_text_inside_outlooks_opaque_signature_and_who_signed(fresh_ctx):
    # a real Outlook 2003 mail signed as opaque S/MIME (tests/corpus/signed/SOURCES.md), to the city's address
    raw = b"To: konsultacje@um.torun.pl\r\n" + (CORPUS.parent / "signed" / "outlook2003-exchange-opaque-signed.eml"
                                               ).read_bytes().replace(b"\nTo: ", b"\nX-To: ", 1)
    mail_id, _reference = scanned_mail(fresh_ctx, raw)
    page = reviewer_client(fresh_ctx).get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "I think this would be worthwhile to do on the VIPs" in page
    assert "Podpisany elektronicznie przez: Thawte Freemail Member. Uwagi nie weryfikuje podpisów" in page
    assert "Wiadomość zaszyfrowana" not in page


def test_the_transcribed_submission_still_says_who_signed_the_mail(fresh_ctx):
    raw = b"To: konsultacje@um.torun.pl\r\n" + (CORPUS.parent / "signed" / "outlook2003-exchange-opaque-signed.eml"
                                               ).read_bytes().replace(b"\nTo: ", b"\nX-To: ", 1)
    mail_id, reference = scanned_mail(fresh_ctx, raw)
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    [event] = transcribed_events(fresh_ctx, reference)
    assert event["signed_by"] == ["Thawte Freemail Member"]
    assert event["provenance"]["entered_by"] == "recenzent@um.torun.pl"


def test_an_unsigned_transcribed_submission_names_no_signer(fresh_ctx):
    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    assert transcribed_events(fresh_ctx, reference)[0]["signed_by"] == []


def plain_mail(sender: str, subject: str, text: str) -> bytes:
    return (f"From: {sender}\r\nTo: konsultacje@um.torun.pl\r\nMessage-ID: <{uuid.uuid4().hex}@example.org>\r\n"
            f"Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n").encode("utf-8")


def test_a_reply_to_a_receipt_is_shown_beside_the_senders_earlier_submissions_and_those_it_names(fresh_ctx):
    consultation = open_consultation(fresh_ctx)

    def imported(raw: bytes) -> tuple[str, str]:
        result = import_mail(fresh_ctx, raw, received_at=now(), source="t", consultation_id=consultation)
        with fresh_ctx.db.transaction() as session:
            mail = session.scalar(select(InboundMail).where(InboundMail.message_id == result.message_id))
            return mail.id, result.reference

    first_id, first = imported(plain_mail("Anna Nowak <anna@example.org>", "Uwagi", "Proszę o dwa konkursy w roku."))
    _other_id, other = imported(plain_mail("Jan Wiśniewski <jan@example.org>", "Uwagi", "Więcej lokali dla NGO."))
    reply_id, reply = imported(plain_mail(
        "Anna Nowak <ANNA@example.org>", f"Re: Potwierdzenie złożenia uwag {first} – Program współpracy",
        f"Dzień dobry,\r\ndopisuję jedną uwagę i popieram zgłoszenie {other} pana Jana.\r\n\r\n"
        "> Szanowni Państwo,\r\n> dziękujemy za udział w konsultacjach."))
    client = reviewer_client(fresh_ctx)
    page = client.get(f"/intake/staff/mails/{reply_id}").get_data(as_text=True)
    listed = re.search(r'<ul class="related-submissions">(.*?)</ul>', page, re.S).group(1)
    assert "Inne zgłoszenia nadawcy" in page
    # oldest first: the sender's own (its address in another case) and the one the text names, never this one
    assert re.findall(r"UW/\d{4}/\d{6}", re.sub(r'href="[^"]*"', "", listed)) == [first, other]
    assert reply not in listed and listed.count("(wymienione w tej wiadomości)") == 2
    assert "1 uwaga" in listed and "może dodawać do niego uwagi, poprawiać którąś z nich albo ją wycofywać" in page
    assert f"/review/queue?consultation={consultation}&amp;q={first.replace('/', '%2F')}" in page
    # the first mail: the sender's later reply is listed, named by nothing
    first_page = client.get(f"/intake/staff/mails/{first_id}").get_data(as_text=True)
    listed = re.search(r'<ul class="related-submissions">(.*?)</ul>', first_page, re.S).group(1)
    assert reply in listed and other not in listed and "wymienione w tej wiadomości" not in first_page
    assert "może dodawać do niego uwagi" not in first_page


def test_the_status_page_of_a_mail_awaiting_transcription_says_so_instead_of_showing_the_mail_as_a_comment(fresh_ctx):
    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    with fresh_ctx.db.transaction() as session:
        [received] = [parse_envelope(row.envelope).data for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "submission.received"))
            if row.envelope["data"]["reference"] == reference]
    client = intake_app.create_app(ctx=fresh_ctx).test_client()
    path = received["status_url"][received["status_url"].index("/intake/status"):]
    waiting = client.get(path).get_data(as_text=True)
    assert "Pracownicy urzędu przepiszą zawarte w niej i w jej załącznikach uwagi" in waiting
    assert "Proszę o dwa konkursy w roku." not in waiting and "Liczba uwag" not in waiting
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    transcribed = client.get(path).get_data(as_text=True)
    assert "Konkursy dwa razy w roku." in transcribed and "Zwiększyć kwotę." in transcribed
    assert "Pracownicy urzędu przepiszą" not in transcribed


def test_a_mail_with_no_comments_is_closed_with_a_reason_and_tells_the_other_services(fresh_ctx):
    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx, plain_mail(
        "Anna Nowak <anna@example.org>", "Dyżur", "Dzień dobry, chciałabym się zapisać na dyżur 8 października."))
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "Wiadomość bez uwag do projektu?" in page and "Zapis na dyżur konsultacyjny" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    unchosen = client.post(f"/intake/staff/mails/{mail_id}", data={"csrf_token": token, "action": "dismiss"})
    assert unchosen.status_code == 422 and "Proszę wybrać, czym jest ta wiadomość." in unchosen.get_data(as_text=True)
    closed = client.post(f"/intake/staff/mails/{mail_id}", data={
        "csrf_token": token, "action": "dismiss", "reason": "booking", "note": "Zapisana telefonicznie na 10:00."})
    assert closed.status_code == 303 and closed.headers["Location"].endswith("/intake/staff/mails")
    listing = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert f"Zgłoszenie {reference} nie zawiera uwag do projektu" in listing
    waiting, closed_table = listing.split('id="closed-heading"')
    assert f"/intake/staff/mails/{mail_id}" not in waiting  # no longer waits for a transcription
    assert f"/intake/staff/mails/{mail_id}" in closed_table and reference in closed_table
    assert "Zapis na dyżur konsultacyjny" in closed_table and "Zapisana telefonicznie na 10:00." in closed_table
    assert "recenzent@um.torun.pl" in closed_table
    with fresh_ctx.db.transaction() as session:
        mail = session.get(InboundMail, mail_id)
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        assert mail.status == "no_comments" and "booking" in mail.reason
        assert {k: mail.closing[k] for k in ("reason", "note", "by")} == {
            "reason": "booking", "note": "Zapisana telefonicznie na 10:00.", "by": "recenzent@um.torun.pl"}
        assert [c.status for c in submission.comments] == ["dismissed"]
        [event] = [parse_envelope(row.envelope).data for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "submission.dismissed"))]
    assert event["comment_ids"] == [c[0] for c in comments_of(fresh_ctx, reference)]
    assert (event["reason"], event["dismissed_by"]) == ("booking", "recenzent@um.torun.pl")
    # closed for good: neither transcribed nor closed again
    with pytest.raises(Conflict):
        transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    again = client.post(f"/intake/staff/mails/{mail_id}", data={"csrf_token": token, "action": "dismiss",
                                                                "reason": "other"})
    assert again.status_code == 303 and len(transcribed_events(fresh_ctx, reference)) == 0
    after = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "Zamknięta jako wiadomość bez uwag do projektu przez recenzent@um.torun.pl" in after
    assert 'value="dismiss"' not in after
    # the sender's status page says what became of it and shows the mail as no comment
    with fresh_ctx.db.transaction() as session:
        [received] = [parse_envelope(row.envelope).data for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "submission.received"))
            if row.envelope["data"]["reference"] == reference]
    status = intake_app.create_app(ctx=fresh_ctx).test_client().get(
        received["status_url"][received["status_url"].index("/intake/status"):]).get_data(as_text=True)
    assert "Urząd nie znalazł w Państwa wiadomości uwag do projektu" in status
    assert "chciałabym się zapisać" not in status and "Liczba uwag" not in status


def test_a_mail_transcribed_already_cannot_be_closed_as_holding_no_comments(fresh_ctx):
    from services.intake.mail.transcribe import dismiss_mail
    from services.common.web import Invalid

    mail_id, _reference = scanned_mail(fresh_ctx, body_only_mail())
    with pytest.raises(Invalid):
        dismiss_mail(fresh_ctx, mail_id, "nonsense", actor="recenzent@um.torun.pl")
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    with pytest.raises(Conflict):
        dismiss_mail(fresh_ctx, mail_id, "question", actor="recenzent@um.torun.pl")


def outbox_events(ctx, event_type, reference):
    with ctx.db.transaction() as session:
        return [parse_envelope(row.envelope).data for row in session.scalars(
            select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            if row.envelope["data"]["reference"] == reference]


def test_a_mail_closed_by_mistake_is_reopened_with_a_new_placeholder_and_can_then_be_transcribed(fresh_ctx):
    from services.intake.mail.transcribe import dismiss_mail, reopen_mail

    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    with pytest.raises(Conflict):  # it waits for a transcription: nothing to reopen
        reopen_mail(fresh_ctx, mail_id, actor="recenzent@um.torun.pl")
    [(dismissed_id, _number, _section, text)] = comments_of(fresh_ctx, reference)
    dismiss_mail(fresh_ctx, mail_id, "question", actor="recenzent@um.torun.pl", note="Pytanie o termin.")
    page = client.get(f"/intake/staff/mails/{mail_id}").get_data(as_text=True)
    assert "Otwórz ponownie do przepisania" in page and 'value="dismiss"' not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reopened = client.post(f"/intake/staff/mails/{mail_id}", data={"csrf_token": token, "action": "reopen"})
    assert reopened.status_code == 303 and reopened.headers["Location"].endswith(f"/intake/staff/mails/{mail_id}")
    page = client.get(reopened.headers["Location"]).get_data(as_text=True)
    assert f"Zgłoszenie {reference} ponownie czeka na przepisanie." in page
    assert 'value="dismiss"' in page and "Otwórz ponownie do przepisania" not in page
    listing = client.get("/intake/staff/mails").get_data(as_text=True)
    assert f"/intake/staff/mails/{mail_id}" in listing and 'id="closed-heading"' not in listing
    [(placeholder_id, number, _section, reopened_text)] = comments_of(fresh_ctx, reference)
    assert placeholder_id != dismissed_id and (number, reopened_text) == (1, text)
    with fresh_ctx.db.transaction() as session:
        mail = session.get(InboundMail, mail_id)
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        assert (mail.status, mail.closing) == ("needs_review", None)
        assert "question" in mail.reason and "reopened for transcription by recenzent@um.torun.pl" in mail.reason
        assert [c.status for c in submission.comments] == ["received"] and submission.entered_by is None
    [event] = outbox_events(fresh_ctx, "submission.reopened", reference)
    assert event["dismissed_comment_ids"] == [dismissed_id] and event["needs_review"] is True
    assert [c["comment_id"] for c in event["comments"]] == [placeholder_id]
    assert event["comments"][0]["proposal"] == text and event["reopened_by"] == "recenzent@um.torun.pl"
    assert "token=" not in event["status_url"]  # intake keeps only the code's hash; notify has the receipt's link
    # a second reopening changes nothing; the page says so
    again = client.post(f"/intake/staff/mails/{mail_id}", data={"csrf_token": token, "action": "reopen"})
    assert again.status_code == 303 and len(outbox_events(fresh_ctx, "submission.reopened", reference)) == 1
    assert "nie jest zamknięta jako wiadomość bez uwag" in client.get(again.headers["Location"]).get_data(as_text=True)
    # the sender's status page says the office will transcribe it again, not that it holds no comments
    [received] = outbox_events(fresh_ctx, "submission.received", reference)
    status = intake_app.create_app(ctx=fresh_ctx).test_client().get(
        received["status_url"][received["status_url"].index("/intake/status"):]).get_data(as_text=True)
    assert "Urząd nie znalazł w Państwa wiadomości uwag do projektu" not in status
    # and staff transcribe it as any other: the new placeholder keeps its id, the rest are new
    done = transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    assert done.comments == 2
    assert [(c[0], c[1]) for c in comments_of(fresh_ctx, reference)][0] == (placeholder_id, 1)
    [transcribed] = transcribed_events(fresh_ctx, reference)
    assert [c["number"] for c in transcribed["comments"]] == [1, 2] and transcribed["revision"] == 2
    # a transcribed mail's comments are staff's typing: corrected until a decision, with the next revision
    from services.intake.paper.corrections import CorrectedRow, correct_submission
    with fresh_ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        consultation_id, submission_id = submission.consultation_id, submission.id
    correct_submission(fresh_ctx, consultation_id, submission_id, (
        CorrectedRow(ROWS[0], placeholder_id),), actor="recenzent@um.torun.pl")
    [corrected] = outbox_events(fresh_ctx, "submission.corrected", reference)
    assert corrected["revision"] == 3 and len(corrected["removed_comment_ids"]) == 1


def test_a_closed_mail_can_be_closed_again_after_it_was_reopened(fresh_ctx):
    from services.intake.mail.transcribe import dismiss_mail, reopen_mail

    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    dismiss_mail(fresh_ctx, mail_id, "question", actor="recenzent@um.torun.pl")
    reopen_mail(fresh_ctx, mail_id, actor="recenzent@um.torun.pl")
    dismiss_mail(fresh_ctx, mail_id, "reply", actor="recenzent@um.torun.pl")
    first, second = outbox_events(fresh_ctx, "submission.dismissed", reference)
    [reopened] = outbox_events(fresh_ctx, "submission.reopened", reference)
    assert reopened["dismissed_comment_ids"] == first["comment_ids"]
    assert second["comment_ids"] == [c["comment_id"] for c in reopened["comments"]] != first["comment_ids"]
    with fresh_ctx.db.transaction() as session:
        assert session.get(InboundMail, mail_id).closing["reason"] == "reply"


def test_an_e_mails_submission_page_and_the_register_say_whether_it_waits_closed_or_was_transcribed(fresh_ctx):
    from html import unescape

    from services.intake.mail.transcribe import dismiss_mail, reopen_mail

    client = reviewer_client(fresh_ctx)
    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    with fresh_ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        consultation_id, submission_id = submission.consultation_id, submission.id
    base = f"/intake/staff/consultations/{consultation_id}"

    def pages() -> tuple[str, str]:
        return (unescape(client.get(f"{base}/submissions/{submission_id}").get_data(as_text=True)),
                unescape(client.get(f"{base}/submissions", query_string={"q": reference}).get_data(as_text=True)))

    entered, register = pages()
    assert "Ten e-mail czeka na przepisanie uwag" in entered and f"/intake/staff/mails/{mail_id}" in entered
    assert "do przepisania" in register and "Popraw uwagi" not in entered
    dismiss_mail(fresh_ctx, mail_id, "question", actor="recenzent@um.torun.pl")
    entered, register = pages()
    assert "Ten e-mail zamknięto jako wiadomość bez uwag do projektu." in entered and "bez uwag" in register
    assert "E-mail i jego ponowne otwarcie" in entered
    reopen_mail(fresh_ctx, mail_id, actor="recenzent@um.torun.pl")
    transcribe_mail(fresh_ctx, mail_id, ROWS, actor="recenzent@um.torun.pl")
    entered, register = pages()
    assert "E-mail, z którego odczytano uwagi" in entered and "Popraw uwagi" in entered
    assert "do przepisania" not in register and "bez uwag" not in register


def test_a_consent_changed_on_a_mail_closed_as_holding_no_comments_is_kept_and_told_to_no_one(fresh_ctx):
    """Nothing of such a mail is published; a reopening carries the consent as it then stands."""
    from services.intake import consent
    from services.intake.mail.transcribe import dismiss_mail, reopen_mail

    mail_id, reference = scanned_mail(fresh_ctx, body_only_mail())
    dismiss_mail(fresh_ctx, mail_id, "question", actor="recenzent@um.torun.pl")
    with fresh_ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.reference == reference))
        consultation_id, submission_id, consented = submission.consultation_id, submission.id, submission.publish_consent
    changed = consent.change_by_staff(fresh_ctx, consultation_id, submission_id, not consented,
                                      actor="recenzent@um.torun.pl", note="e-mail z 12 listopada")
    assert changed.changed
    with fresh_ctx.db.transaction() as session:
        assert session.scalar(select(Submission).where(Submission.reference == reference)).consent_revision == 2
        assert not [row for row in session.scalars(select(Outbox).where(
            Outbox.event_type == "submission.consent_changed"))]
    reopen_mail(fresh_ctx, mail_id, actor="recenzent@um.torun.pl")
    with fresh_ctx.db.transaction() as session:
        [reopened] = [row.envelope["data"] for row in session.scalars(select(Outbox).where(
            Outbox.event_type == "submission.reopened")) if row.envelope["data"]["reference"] == reference]
    assert reopened["submitter"]["publish_consent"] is (not consented)
