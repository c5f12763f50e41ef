"""A coordinator imports comments from a spreadsheet (errors by row, fixed, imported once, visible in review) and a
clerk transcribes an e-mail whose comments could not be read automatically, without JavaScript. axe-core checks
every page state. The whole system runs as `make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from services.intake.mail.importer import NEEDS_REVIEW, import_mail
from services.intake.models import Submission
from tests.e2e_browser.axe import check_accessibility, page_html
from tests.e2e_browser.test_booking_browser import demo_consultation_id
from tests.e2e_browser.test_letters_browser import REFERENCE, facts, staff_page, wait_for_review_comment
from tests.support.infra import require_tesseract, wait_until

pytestmark = pytest.mark.browser

HEADER = "Klucz zgłoszenia;Imię i nazwisko;Adres e-mail;Część dokumentu;Propozycja zmiany;Uzasadnienie;Sposób złożenia;Data wpływu"


def csv_file(tmp_path, name: str, *rows: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return str(path)


def submissions_of(system, consultation_id: str) -> int:
    from sqlalchemy import func, select

    with system.contexts["intake"].db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Submission)
                              .where(Submission.consultation_id == consultation_id))


def test_a_coordinator_imports_a_spreadsheet_fixes_its_errors_and_finds_the_submissions_in_review(
        browser, live_system, tmp_path):
    base, system = live_system["url"], live_system["system"]
    consultation_id = demo_consultation_id(system)
    today = time.strftime("%d.%m.%Y")
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}",
                             who="koordynator@example.org")
    page.get_by_role("link", name="Importuj uwagi z pliku (CSV lub XLSX)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import uwag z pliku"
    columns = page.get_by_role("table", name="Kolumny pliku")
    expect(columns.get_by_role("cell", name="Propozycja zmiany")).to_be_visible()
    template = staff.request.get(base + page.get_by_role("link", name="Pobierz plik do wypełnienia (CSV)")
                                 .get_attribute("href"))
    assert template.ok and template.text().lstrip("\ufeff").startswith("Klucz zgłoszenia;Imię i nazwisko;")
    check_accessibility(page, "staff: bulk import")

    before = submissions_of(system, consultation_id)
    page.get_by_label("Plik (CSV lub XLSX)").set_input_files(csv_file(
        tmp_path, "uwagi.csv",
        f"F-1;Fundacja Przykładowa;biuro@fundacja.example.org;§ 5 ust. 2;Konkursy co pół roku (import).;Szybciej.;pismo;{today}",
        f"F-1;Fundacja Przykładowa;biuro@fundacja.example.org;§ 6;;Brak propozycji.;pismo;{today}",
        "K-2;Jan Nowak;jan@@example;§ 7;Więcej dyżurów (import).;;dyżur;32.13.2026"))
    page.get_by_role("button", name="Sprawdź i importuj").click()

    # Nothing imported; every problem by row of the file and by column, as the file names it.
    expect(page.get_by_role("alert").get_by_text("Nic nie zostało zaimportowane")).to_be_visible()
    problems = page.get_by_role("table", name="Błędy według wiersza i kolumny")
    rows = [r.split("\t") for r in problems.locator("tbody tr").all_inner_texts()]
    assert rows == [["3", "Propozycja zmiany (proposal)", "Ta komórka jest wymagana."],
                    ["4", "Adres e-mail (email)", "To nie jest adres e-mail."],
                    ["4", "Data wpływu (received_on)", "Prosimy wpisać datę jako 2024-10-15 lub 15.10.2024."]]
    upload = page.get_by_label("Plik (CSV lub XLSX)")
    assert upload.get_attribute("aria-invalid") == "true" and "file-problem" in upload.get_attribute("aria-describedby")
    assert submissions_of(system, consultation_id) == before
    check_accessibility(page, "staff: bulk import with errors by row")

    page.get_by_role("link", name="Wybierz poprawiony plik").click()
    upload.set_input_files(csv_file(
        tmp_path, "uwagi-poprawione.csv",
        f"F-1;Fundacja Przykładowa;biuro@fundacja.example.org;§ 5 ust. 2;Konkursy co pół roku (import).;Szybciej.;pismo;{today}",
        f"F-1;Fundacja Przykładowa;biuro@fundacja.example.org;§ 6;Jawne oceny ofert (import).;Przejrzystość.;pismo;{today}",
        "K-2;Jan Nowak;jan@example.org;§ 7;Więcej dyżurów (import).;;dyżur;"))
    page.get_by_role("button", name="Sprawdź i importuj").click()
    result = page.get_by_role("status").filter(has_text="Zaimportowano")
    assert "Zgłoszenia: 2, uwagi: 3, z pliku uwagi-poprawione.csv." in result.inner_text()
    first, last = REFERENCE.findall(result.locator(".reference").inner_text())
    check_accessibility(page, "staff: bulk import done")
    page.reload()  # the result is a page of its own: reloading it imports nothing again
    assert submissions_of(system, consultation_id) == before + 2
    history = page.get_by_role("table", name="Importy do tych konsultacji, od najnowszego")
    expect(history.locator("tbody tr")).to_have_count(1)
    assert "koordynator@example.org" in history.inner_text()

    # The imported comments reach review, where the coordinator finds them by reference.
    wait_for_review_comment(system, "Więcej dyżurów (import).")
    page.get_by_role("link", name="Uwagi z tych konsultacji w rozpatrywaniu").click()
    page.goto(f"{page.url}&q={first}")
    expect(page.get_by_text("Konkursy co pół roku (import).").first).to_be_visible()
    expect(page.get_by_text("Jawne oceny ofert (import).").first).to_be_visible()
    page.goto(f"{base}/review/queue?consultation={consultation_id}&q={last}")
    expect(page.get_by_text("Więcej dyżurów (import).").first).to_be_visible()
    letter = wait_for_review_comment(system, "Konkursy co pół roku (import).")
    page.goto(f"{base}/review/comments/{letter.id}")  # imported, with who imported it and the letter's stamp
    provenance = page.locator("section.provenance").inner_text()
    assert "koordynator@example.org" in provenance and "Data wpływu" in provenance

    page.goto(f"{base}/intake/staff/consultations/{consultation_id}/import")
    # The same file a second time is refused until the coordinator says it holds other comments.
    page.get_by_label("Plik (CSV lub XLSX)").set_input_files(str(tmp_path / "uwagi-poprawione.csv"))
    page.get_by_role("button", name="Sprawdź i importuj").click()
    assert first in page.get_by_role("alert").get_by_text("Ten plik został już zaimportowany").inner_text()
    expect(page.get_by_label("Plik zawiera inne uwagi: zaimportuj go ponownie")).to_be_visible()
    assert submissions_of(system, consultation_id) == before + 2
    check_accessibility(page, "staff: bulk import of a file already imported")
    staff.close()


def mailed_comments() -> bytes:
    """A resident's e-mail with the comments in its text and a scanned letter attached, but no form."""
    message = EmailMessage()
    message["From"] = "Ewa Zielińska <ewa.zielinska@example.org>"
    message["To"] = "konsultacje@um.torun.pl"
    message["Subject"] = "Uwagi do programu współpracy"
    message["Message-ID"] = f"<{time.time_ns()}@example.org>"
    message.set_content("Dzień dobry,\n\nw § 5 ust. 2 proponuję ogłaszać konkursy co kwartał, a w § 9 dodać "
                        "sprawozdanie z konsultacji.\nW załączniku skan podpisanego pisma.\n\nEwa Zielińska\n")
    message.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="skan-pisma.pdf")
    return message.as_bytes()


def test_a_clerk_transcribes_a_mailed_submission_that_needs_review(browser, live_system):
    system = live_system["system"]
    consultation_id = demo_consultation_id(system)
    # As the IMAP poller would take it from the consultation's mailbox.
    imported = import_mail(system.contexts["intake"], mailed_comments(), received_at=datetime.now(timezone.utc),
                           source="imap")
    assert imported.status == NEEDS_REVIEW
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}")
    page.get_by_role("link", name="E-maile do przepisania").click()
    waiting = page.get_by_role("table", name="Czekające na przepisanie, od najnowszych")
    assert imported.reference in waiting.inner_text()
    check_accessibility(page, "staff: e-mails to transcribe")

    page.get_by_role("link", name="Uwagi do programu współpracy").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Przepisz e-mail"
    assert "proponuję ogłaszać konkursy co kwartał" in page.locator(".mail-body").inner_text()
    expect(page.get_by_role("link", name="skan-pisma.pdf")).to_be_visible()
    # The text names § 5 ust. 2 and, in the same sentence, § 9: two rows start filled in, under a notice.
    filled_in = page.get_by_role("status").filter(has_text="2 wiersze wypełniono na podstawie treści wiadomości")
    expect(filled_in).to_be_visible()
    assert page.locator("#f-c-0-section").input_value() == "§ 5 ust. 2"
    assert page.locator("#f-c-0-proposal").input_value() == "w § 5 ust. 2 proponuję ogłaszać konkursy co kwartał"
    assert page.locator("#f-c-1-section").input_value() == "§ 9"
    assert page.locator("#f-c-1-proposal").input_value().startswith("w § 9 dodać sprawozdanie z konsultacji.")
    check_accessibility(page, "staff: transcribe an e-mail")
    for row in (0, 1):  # the clerk clears the suggestions: nothing typed is an error
        for field in ("section", "proposal"):
            page.locator(f"#f-c-{row}-{field}").fill("")
    page.get_by_role("button", name="Zapisz przepisane uwagi").click()
    expect(page.get_by_role("alert").get_by_role("link", name="Uwaga nr 1, Proponowana zmiana:")).to_be_visible()
    check_accessibility(page, "staff: transcribe an e-mail with errors")

    page.locator("#f-c-0-section").fill("§ 5 ust. 2")
    page.locator("#f-c-0-proposal").fill("Ogłaszać konkursy co kwartał (przepisane).")
    page.locator("#f-c-1-section").fill("§ 9")
    page.locator("#f-c-1-proposal").fill("Dodać sprawozdanie z konsultacji (przepisane).")
    expect(page.get_by_label("Wyślij nadawcy przepisane uwagi", exact=False)).to_be_checked()
    page.get_by_role("button", name="Zapisz przepisane uwagi").click()
    expect(page.get_by_text(f"Zgłoszenie {imported.reference} ma teraz przepisane uwagi: 2.")).to_be_visible()
    expect(page.get_by_text("Przepisane uwagi zostaną wysłane na adres", exact=False)).to_be_visible()
    assert page.get_by_role("heading", level=1).inner_text() == f"Zgłoszenie {imported.reference}"
    shown = facts(page)
    assert shown["Sposób złożenia"] == "e-mail" and shown["Wprowadził(a)"].startswith("recenzent@example.org, ")
    expect(page.get_by_role("table", name="Uwagi (2)").locator("tbody tr")).to_have_count(2)
    assert "przepisane lub poprawione uwagi są tam wysyłane tylko wtedy, gdy zaznaczy to pracownik" in page_html(page)
    check_accessibility(page, "staff: e-mail transcribed")
    page.get_by_role("link", name="E-maile do przepisania").click()
    assert imported.reference not in page_html(page)

    transcribed = wait_for_review_comment(system, "Dodać sprawozdanie z konsultacji (przepisane).")
    assert transcribed.reference == imported.reference and transcribed.section == "§ 9"
    wait_until(lambda: wait_for_review_comment(system, "Ogłaszać konkursy co kwartał (przepisane).").section == "§ 5 ust. 2",
               timeout=30, what="the placeholder replaced in review")
    staff.close()


def test_a_clerk_reads_the_letter_attached_instead_of_the_form_beside_the_rows_it_filled_in(browser, live_system):
    """The corpus's Outlook mail with the Federation's letter as a PDF (tests/corpus/mail/SOURCES.md): the letter's
    text is on the page, in a region the keyboard can scroll, and its two points start as two rows."""
    from tests.unit.intake_mail.conftest import CORPUS

    system = live_system["system"]
    raw = (CORPUS / "outlook-letter-pdf-attached.eml").read_bytes().replace(
        b"AM6PR07MB5589D2A7C4E0B91F3B6A2D11C4A10@", f"{time.time_ns()}@".encode())
    imported = import_mail(system.contexts["intake"], raw, received_at=datetime.now(timezone.utc), source="imap",
                           consultation_id=demo_consultation_id(system))
    assert imported.status == NEEDS_REVIEW
    staff, page = staff_page(browser, live_system, "/intake/staff/mails")
    page.get_by_role("link", name="Uwagi do projektu Programu Współpracy").first.click()
    letter = page.get_by_role("region", name="Treść pisma Uwagi Federacji do Programu Współpracy 2012.pdf")
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza rekomendowane" in letter.inner_text()
    expect(page.get_by_role("status").filter(
        has_text="2 wiersze wypełniono na podstawie treści wiadomości i załączonych pism")).to_be_visible()
    assert page.locator("#f-c-0-section").input_value() == "Rozdział VI § 12 ust. 19"
    assert page.locator("#f-c-0-current_text").input_value().startswith("Prezydent Miasta Torunia podejmuje")
    assert page.locator("#f-c-1-section").input_value() == "§ 5 ust. 2"
    letter.focus()  # reachable by the keyboard, so its text can be scrolled without a mouse
    assert page.evaluate("document.activeElement.classList.contains('letter-text')")
    assert page.get_by_label("Imię i nazwisko").input_value() == "Biuro Federacji"
    check_accessibility(page, "staff: transcribe an e-mail with a letter attached")
    # The clerk reads the organisation in the letter's heading and saves the two rows as they were filled in.
    page.get_by_label("Organizacja (jeśli w jej imieniu)").fill("Kujawsko-Pomorska Federacja Organizacji Pozarządowych")
    expect(page.get_by_label("Wyślij nadawcy przepisane uwagi", exact=False)).to_be_checked()
    page.get_by_role("button", name="Zapisz przepisane uwagi").click()
    expect(page.get_by_text(f"Zgłoszenie {imported.reference} ma teraz przepisane uwagi: 2.")).to_be_visible()
    expect(page.get_by_text("Przepisane uwagi zostaną wysłane na adres", exact=False)).to_be_visible()
    with system.contexts["intake"].db.transaction() as session:
        submission = session.query(Submission).filter_by(reference=imported.reference).one()
        assert (submission.organization, submission.kind) == (
            "Kujawsko-Pomorska Federacja Organizacji Pozarządowych", "organization")
    staff.close()


def corpus_mail_waiting(system, name: str):
    """A corpus mail imported afresh (a new Message-ID) as the IMAP poller would, waiting for staff: its row's id."""
    from services.intake.models import InboundMail
    from tests.unit.intake_mail.conftest import CORPUS

    raw = (CORPUS / name).read_bytes().replace(b"Message-ID: <", f"Message-ID: <{time.time_ns()}.".encode(), 1)
    imported = import_mail(system.contexts["intake"], raw, received_at=datetime.now(timezone.utc), source="imap",
                           consultation_id=demo_consultation_id(system))
    assert imported.status == NEEDS_REVIEW
    with system.contexts["intake"].db.transaction() as session:
        return session.query(InboundMail).filter_by(message_id=imported.message_id).one().id, imported


def test_a_clerk_sees_the_photo_of_a_paper_form_beside_the_rows(browser, live_system):
    """The corpus's GMX mail with a phone photo of the filled paper form: the picture loads in the page (served
    to the signed-in clerk, allowed by the page's policy), with its text alternative."""
    mail_id, _imported = corpus_mail_waiting(live_system["system"], "gmx-photo-of-form-pasted-inline.eml")
    staff, page = staff_page(browser, live_system, f"/intake/staff/mails/{mail_id}")
    picture = page.locator("figure.scan-preview img")
    assert picture.get_attribute("alt").startswith("Obraz ")
    picture.scroll_into_view_if_needed()  # loading="lazy": a picture below the fold loads only when near the view
    assert page.wait_for_function("document.querySelector('figure.scan-preview img').naturalWidth > 0")
    check_accessibility(page, "staff: transcribe an e-mail with a photo of the form")
    staff.close()


def test_a_clerk_transcribes_a_scanned_letter_from_the_text_recognised_in_it(browser, live_system):
    """The corpus's Outlook mail with the Federation's letter scanned by a copier (an image-only PDF): the page
    shows the text OCR recognised, says it may be misread, and its two points start as rows the clerk saves."""
    require_tesseract()
    mail_id, imported = corpus_mail_waiting(live_system["system"], "outlook-scanned-letter-pdf.eml")
    staff, page = staff_page(browser, live_system, f"/intake/staff/mails/{mail_id}")
    expect(page.get_by_role("heading", name="Tekst rozpoznany w skanie SKM_C25811110814050.pdf")).to_be_visible()
    expect(page.get_by_text("Rozpoznany automatycznie (OCR) z obrazu")).to_be_visible()
    scanned = page.get_by_role("region", name="Tekst rozpoznany w skanie SKM_C25811110814050.pdf")
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza" in scanned.inner_text()
    assert page.locator("[name=c-0-section]").input_value() == "Rozdział VI § 12 ust. 19"
    check_accessibility(page, "staff: transcribe an e-mail with a scanned letter read by OCR")
    expect(page.get_by_label("Wyślij nadawcy przepisane uwagi", exact=False)).to_be_checked()
    page.get_by_role("button", name="Zapisz przepisane uwagi").click()
    expect(page.get_by_text(f"Zgłoszenie {imported.reference} ma teraz przepisane uwagi: 2.")).to_be_visible()
    expect(page.get_by_text("Przepisane uwagi zostaną wysłane na adres", exact=False)).to_be_visible()
    staff.close()


def test_a_clerk_closes_a_duty_hour_request_mailed_in_as_holding_no_comments(browser, live_system):
    system = live_system["system"]
    message = EmailMessage()
    message["From"] = "Jan Nowicki <jan.nowicki@example.org>"
    message["To"] = "konsultacje@um.torun.pl"
    message["Subject"] = "Zapis na dyżur"
    message["Message-ID"] = f"<{time.time_ns()}@example.org>"
    message.set_content("Dzień dobry,\n\nproszę o zapisanie mnie na dyżur 8 października o 10:00.\n\nJan Nowicki\n")
    imported = import_mail(system.contexts["intake"], message.as_bytes(), received_at=datetime.now(timezone.utc),
                           source="imap", consultation_id=demo_consultation_id(system))
    assert imported.status == NEEDS_REVIEW
    staff, page = staff_page(browser, live_system, "/intake/staff/mails")
    page.get_by_role("link", name="Zapis na dyżur").click()
    closing = page.locator("section.dismissal")
    expect(closing.get_by_role("heading", name="Wiadomość bez uwag do projektu?")).to_be_visible()
    closing.get_by_role("button", name="Zamknij bez uwag").click()  # nothing chosen: refused, said where
    expect(page.get_by_role("alert").get_by_role("link", name="Czym jest wiadomość: Proszę wybrać")).to_be_visible()
    check_accessibility(page, "staff: close an e-mail with no comments, nothing chosen")
    closing.get_by_label("Czym jest wiadomość").select_option("booking")
    closing.get_by_label("Notatka do akt").fill("Zapisany telefonicznie na 10:00.")
    closing.get_by_role("button", name="Zamknij bez uwag").click()
    expect(page.get_by_text(f"Zgłoszenie {imported.reference} nie zawiera uwag do projektu")).to_be_visible()
    closed = page.get_by_role("table", name="Zamknięte jako wiadomości bez uwag do projektu")
    assert imported.reference in closed.inner_text() and "Zapis na dyżur konsultacyjny" in closed.inner_text()
    check_accessibility(page, "staff: e-mails to transcribe and those closed with no comments")
    # closed by mistake: the clerk reopens it from its page, and it waits for a transcription again
    closed.get_by_role("link", name="Zapis na dyżur").click()
    expect(page.get_by_text("Zamknięta jako wiadomość bez uwag do projektu przez")).to_be_visible()
    check_accessibility(page, "staff: an e-mail closed with no comments, reopenable")
    page.get_by_role("button", name="Otwórz ponownie do przepisania").click()
    expect(page.get_by_text(f"Zgłoszenie {imported.reference} ponownie czeka na przepisanie.")).to_be_visible()
    expect(page.get_by_role("button", name="Zapisz przepisane uwagi")).to_be_visible()
    page.goto(f"{live_system['url']}/intake/staff/mails")
    expect(page.get_by_role("link", name="Zapis na dyżur")).to_be_visible()
    # the register tags it, and its submission's page sends the clerk to the transcription
    page.goto(f"{live_system['url']}/intake/staff/consultations/{demo_consultation_id(system)}/submissions"
              f"?q={imported.reference}")
    row = page.locator("tbody tr", has_text=imported.reference)
    expect(row.get_by_text("do przepisania")).to_be_visible()
    row.get_by_role("link", name=imported.reference).click()
    expect(page.get_by_text("Ten e-mail czeka na przepisanie uwag")).to_be_visible()
    check_accessibility(page, "staff: the submission of an e-mail that waits for transcription")
    page.get_by_role("link", name="Przepisz e-mail").click()
    expect(page.get_by_role("button", name="Zapisz przepisane uwagi")).to_be_visible()
    staff.close()
