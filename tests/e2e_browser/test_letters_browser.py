"""Staff enter a letter with its scan and the notes of a duty-hour conversation without JavaScript, as a clerk
would: every problem at once, then the reference to write on the paper, the receipt, the provenance; the
comments reach review with where they came from. axe-core checks every page state. The whole system runs as
`make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from playwright.sync_api import expect
from babel.dates import format_date
from sqlalchemy import select

from services.review.models import ReviewComment
from tests.e2e_browser.axe import check_accessibility, page_html
from tests.e2e_browser.test_booking_browser import demo_consultation_id
from tests.support.infra import require_tesseract, wait_until

pytestmark = pytest.mark.browser

SCAN = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REFERENCE = re.compile(r"UW/\d{4}/\d{6}")


def wait_for_review_comment(system, proposal: str, timeout: float = 60.0) -> ReviewComment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with system.contexts["review"].db.transaction() as session:
            found = session.scalar(select(ReviewComment).where(ReviewComment.proposal == proposal))
            if found is not None:
                return found
        time.sleep(0.5)
    raise AssertionError(f"review never received the comment {proposal!r}")


def facts(page) -> dict[str, str]:
    """The page's fact lists as {term: description}."""
    def plain(text: str) -> str:
        return text.replace("\xa0", " ").strip()
    page.wait_for_load_state("load")  # a click returns once the next page commits, before its body is parsed
    return dict(zip(map(plain, page.locator("dl.facts dt").all_inner_texts()),
                    map(plain, page.locator("dl.facts dd").all_inner_texts())))


def polish_date(iso: str) -> str:
    return format_date(date.fromisoformat(iso), "d MMMM y", locale="pl") + " r."


def staff_page(browser, live_system, next_path: str, who: str = "recenzent@example.org"):
    staff = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = staff.new_page()
    page.goto(f"{live_system['url']}/review/login?next={next_path}")
    page.get_by_label("Adres e-mail").fill(who)
    page.get_by_label("Hasło").fill(live_system["password"])
    page.get_by_role("button", name="Zaloguj się").click()
    return staff, page


def test_a_clerk_enters_a_letter_with_its_scan_and_two_comments_and_gets_its_reference(browser, live_system, tmp_path):
    base, system = live_system["url"], live_system["system"]
    consultation_id = demo_consultation_id(system)
    scan = tmp_path / "pismo-skan.pdf"
    scan.write_bytes(SCAN)
    stamped = time.strftime("%Y-%m-%d")
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}")

    page.get_by_role("link", name="Wprowadź pismo").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Wprowadź pismo"
    check_accessibility(page, "staff: enter a letter")

    # Nothing filled in: every problem at once, each named in the summary and tied to its field.
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()
    summary = page.get_by_role("alert")
    for text in ("Imię i nazwisko: To pole jest wymagane.",
                 "Data wpływu (pieczęć wpływu urzędu): To pole jest wymagane.",
                 "Adres do korespondencji: Należy wpisać adres pocztowy nadawcy albo jego adres e-mail, jeśli go podał.",
                 "Uwaga nr 1, Proponowana zmiana:"):
        expect(summary.get_by_role("link", name=text), text).to_be_visible()
    assert page.get_by_label("Imię i nazwisko").get_attribute("aria-invalid") == "true"
    assert "f-name-error" in page.get_by_label("Imię i nazwisko").get_attribute("aria-describedby")
    check_accessibility(page, "staff: enter a letter, every problem at once")

    page.get_by_label("Data wpływu (pieczęć wpływu urzędu)").fill(stamped)
    page.get_by_label("Skan (PDF albo obraz)").set_input_files(str(scan))
    page.get_by_label("Imię i nazwisko").fill("Anna Nowak")
    page.get_by_label("Organizacja (jeśli w jej imieniu)").fill("Stowarzyszenie Przykładowe")
    page.get_by_label("Adres do korespondencji").fill("ul. Szeroka 1\n87-100 Toruń")
    page.get_by_label("Adres e-mail").fill("anna.nowak@example.org")
    page.locator("#f-c-0-section").fill("§ 5 ust. 2")
    page.locator("#f-c-0-current_text").fill("Konkurs ogłasza się raz w roku.")
    page.locator("#f-c-0-proposal").fill("Konkursy ogłaszać dwa razy w roku (pismo).")
    page.locator("#f-c-0-justification").fill("Nowe organizacje nie czekałyby roku.")
    page.locator("#f-c-0-topic").select_option("Procedury konkursowe")
    page.locator("#f-c-1-section").fill("§ 7")
    page.locator("#f-c-1-proposal").fill("Dodać priorytet: wsparcie seniorów (pismo).")
    page.get_by_role("button", name="Dodaj wiersz uwagi").click()  # posts back: the text and the scan stay
    expect(page.locator("#f-c-3-proposal")).to_be_visible()
    assert "pismo-skan.pdf" in page_html(page)
    assert page.locator("#f-c-1-proposal").input_value() == "Dodać priorytet: wsparcie seniorów (pismo)."
    check_accessibility(page, "staff: enter a letter, a row added")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()

    # What was registered: the reference first, then the receipt, the provenance and both comments.
    assert page.get_by_role("heading", level=1).inner_text() == "Pismo zostało zarejestrowane"
    reference = page.locator(".confirmation .reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    receipt_promise = "Potwierdzenie z kopią uwag zostanie wysłane na adres anna.nowak@example.org"
    expect(page.get_by_text(receipt_promise)).to_be_visible()
    shown = facts(page)
    assert shown["Sposób złożenia"] == "pismo" and shown["Data wpływu"] == polish_date(stamped)
    assert shown["Data złożenia"] == polish_date(stamped)  # the stamp's day, without a meaningless hour
    assert shown["Wprowadził(a)"].startswith("recenzent@example.org, ")
    assert shown["Adres do korespondencji"] == "ul. Szeroka 1\n87-100 Toruń"
    assert shown["Organizacja"] == "Stowarzyszenie Przykładowe"
    expect(page.get_by_role("table", name="Uwagi (2)").locator("tbody tr")).to_have_count(2)
    scan_link = page.get_by_role("link", name="pismo-skan.pdf")
    downloaded = staff.request.get(base + scan_link.get_attribute("href"))
    assert downloaded.ok and downloaded.body() == SCAN and downloaded.headers["content-type"] == "application/pdf"
    check_accessibility(page, "staff: letter registered, its reference and provenance")

    # The receipt reaches the sender at the SMTP server, with the reference and both comments.
    receipt = wait_until(lambda: next((m for m in live_system["smtp"].to("anna.nowak@example.org")
                                       if reference in str(m["Subject"])), None), timeout=60, what="the receipt")
    text = receipt.get_body(("plain",)).get_content()
    assert "dwa razy w roku (pismo)" in text and "wsparcie seniorów (pismo)" in text

    letter = wait_for_review_comment(system, "Konkursy ogłaszać dwa razy w roku (pismo).")
    page.goto(f"{base}/review/comments/{letter.id}")
    provenance = page.locator("section.provenance").inner_text()
    assert "recenzent@example.org" in provenance and "Data wpływu" in provenance and "sha256" in provenance
    check_accessibility(page, "staff: a letter's comment in review with its provenance")

    # A typo found in review: the clerk corrects the comments as typed, in intake; review gets the new wording
    page.get_by_role("link", name="Popraw przepisane uwagi").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Popraw uwagi zgłoszenia {reference}"
    assert page.locator("#f-c-1-proposal").input_value() == "Dodać priorytet: wsparcie seniorów (pismo)."
    check_accessibility(page, "staff: correct the comments of a letter")
    page.locator("#f-c-1-proposal").fill("Dodać priorytet: wsparcie seniorów i osób z niepełnosprawnościami (pismo).")
    page.get_by_role("button", name="Zapisz poprawki").click()
    expect(page.get_by_text(f"Poprawiono uwagi zgłoszenia {reference}: zmienione – 1, dodane – 0, usunięte – 0.")
           ).to_be_visible()
    expect(page.get_by_text("osób z niepełnosprawnościami (pismo)")).to_be_visible()
    corrected = wait_for_review_comment(
        system, "Dodać priorytet: wsparcie seniorów i osób z niepełnosprawnościami (pismo).")
    page.goto(f"{base}/review/comments/{corrected.id}")
    history = page.locator("table.history").inner_text()
    assert "Poprawiono przepisaną treść" in history and "Dodać priorytet: wsparcie seniorów (pismo)." in history

    # Weeks later the letter is found in the register by the number written on the paper
    page.goto(f"{base}/intake/staff/consultations/{consultation_id}")
    page.get_by_role("link", name="Rejestr zgłoszeń", exact=True).click()
    page.get_by_label("Numer zgłoszenia, nadawca, organizacja lub e-mail").fill(reference)
    page.get_by_label("Sposób złożenia").select_option("letter")
    page.get_by_role("button", name="Szukaj").click()
    rows = page.get_by_role("table", name="1 zgłoszenie (po zawężeniu)").locator("tbody tr")
    expect(rows).to_have_count(1)
    assert "Stowarzyszenie Przykładowe" in rows.inner_text() and "recenzent@example.org" in rows.inner_text()
    check_accessibility(page, "staff: the register of submissions, searched")
    page.get_by_role("link", name=reference).click()
    # opened from the register later: the submission, not the green "just registered" box
    assert page.get_by_role("heading", level=1).inner_text() == f"Zgłoszenie {reference}"

    # The second comment turns out to be the first one typed again: removed, and the sender still sees what
    # became of the number they were given.
    page.get_by_role("link", name="Popraw uwagi").click()
    page.locator("#f-c-1-section").fill("")
    page.locator("#f-c-1-proposal").fill("")
    page.get_by_role("button", name="Zapisz poprawki").click()
    expect(page.get_by_text(f"Poprawiono uwagi zgłoszenia {reference}: zmienione – 0, dodane – 0, usunięte – 1.")
           ).to_be_visible()
    status_url = re.search(r"http://\S+/intake/status\?\S+", text).group(0)
    resident = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    resident.goto(status_url)
    expect(resident.get_by_role("heading", name="Usunięte z rejestru")).to_be_visible()
    assert "osób z niepełnosprawnościami (pismo)" in resident.locator("#removed-comments + p + ul").inner_text()
    check_accessibility(resident, "public: a submission's status with a comment removed by a correction")
    resident.context.close()

    # The sender writes about publishing their name: the clerk records it with its basis, and the sender is told
    page.locator("#consent button").click()
    expect(page.get_by_text("Podaj podstawę zmiany: pismo lub e-mail i jego datę.")).to_be_visible()
    expect(page.get_by_label("Podstawa (pismo lub e-mail i jego data)")).to_be_focused()
    check_accessibility(page, "staff: consent to publish the name, its basis missing")
    page.get_by_label("Podstawa (pismo lub e-mail i jego data)").fill("pismo z 12 listopada 2024 r.")
    page.locator("#consent button").click()
    expect(page.get_by_text(f"w zgłoszeniu {reference}")).to_be_visible()
    expect(page.locator("#consent ul.history li")).to_have_count(2)
    assert "recenzent@example.org: pismo z 12 listopada 2024 r." in page.locator("#consent ul.history").inner_text()
    check_accessibility(page, "staff: consent to publish the name, a change recorded")
    told = wait_until(lambda: next((m for m in live_system["smtp"].to("anna.nowak@example.org")
                                    if "publikację imienia i nazwiska" in str(m["Subject"])), None),
                      timeout=60, what="the confirmation of the consent's change")
    assert reference in str(told["Subject"]) and "zgodnie z Państwa prośbą" in told.get_body(("plain",)).get_content()
    staff.close()


def test_a_clerk_records_the_notes_of_a_duty_hour_conversation_linked_to_its_booking(browser, live_system):
    base, system = live_system["url"], live_system["system"]
    consultation_id = demo_consultation_id(system)
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}/bookings")
    page.get_by_label("Godzina").select_option(index=1)
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.get_by_label("Adres e-mail").fill("jan.kowalski@example.org")
    page.get_by_role("button", name="Zarezerwuj", exact=True).click()
    slot = page.locator("tr", has_text="Jan Kowalski").locator("th").first.inner_text()

    page.get_by_role("link", name="Zapisz uwagi z rozmowy").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Zapisz uwagi z rozmowy na dyżurze"
    # Opened from the schedule: the booking is chosen and the person filled in from it.
    assert "Jan Kowalski" in page.get_by_label("Rezerwacja").locator("option:checked").inner_text()
    assert page.get_by_label("Imię i nazwisko").input_value() == "Jan Kowalski"
    assert page.get_by_label("Adres e-mail").input_value() == "jan.kowalski@example.org"
    check_accessibility(page, "staff: notes from a duty-hour conversation")
    page.locator("#f-c-0-proposal").fill("Więcej dyżurów popołudniowych (rozmowa).")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Uwagi z rozmowy zostały zarejestrowane"
    reference = page.locator(".confirmation .reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    shown = facts(page)
    assert shown["Sposób złożenia"] == "dyżury konsultacyjne" and shown["Imię i nazwisko"] == "Jan Kowalski"
    assert shown["Rozmowa na dyżurze"].endswith(slot.split("–")[0])  # "… godz. 9:00"
    check_accessibility(page, "staff: duty-hour notes registered")
    page.get_by_role("link", name="Wróć do rezerwacji i planu dnia").click()
    page.get_by_role("link", name=reference).click()  # the schedule links the notes entered from the booking
    assert page.get_by_role("heading", level=1).inner_text() == f"Zgłoszenie {reference}"

    notes = wait_for_review_comment(system, "Więcej dyżurów popołudniowych (rozmowa).")
    page.goto(f"{base}/review/comments/{notes.id}")
    assert "Rozmowa na dyżurze" in page.locator("section.provenance").inner_text()
    staff.close()


def test_a_clerk_has_a_scanned_letter_read_and_registers_the_rows_it_filled(browser, live_system):
    """The Federation's letter as a copier scanned it (no text layer): the clerk chooses the scan, has it read,
    checks the two rows filled from the recognised text against it, and registers them."""
    require_tesseract()
    from tests.unit.intake_mail.conftest import CORPUS

    system = live_system["system"]
    consultation_id = demo_consultation_id(system)
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}/letters/new")
    page.get_by_label("Skan (PDF albo obraz)").set_input_files(str(CORPUS / "letter-federacja-torun-scan.pdf"))
    page.get_by_role("button", name="Odczytaj tekst skanu").click()
    heading = page.get_by_role("heading", name="Tekst odczytany ze skanu letter-federacja-torun-scan.pdf")
    expect(heading).to_be_visible()
    expect(page.get_by_text("2 wiersze uwag wypełniono na podstawie tekstu")).to_be_visible()
    recognised = page.get_by_role("region", name="Tekst odczytany ze skanu letter-federacja-torun-scan.pdf")
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza" in recognised.inner_text()
    assert page.locator("#f-c-0-section").input_value() == "Rozdział VI § 12 ust. 19"
    assert page.locator("#f-c-1-section").input_value() == "§ 5 ust. 2"
    assert page.get_by_label("Organizacja (jeśli w jej imieniu)").input_value() == \
        "Kujawsko-Pomorska Federacja Organizacji Pozarządowych"
    check_accessibility(page, "staff: enter a letter, its scan read by OCR")

    page.get_by_label("Data wpływu (pieczęć wpływu urzędu)").fill(time.strftime("%Y-%m-%d"))
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.get_by_label("Adres do korespondencji").fill("ul. Szeroka 1\n87-100 Toruń")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Pismo zostało zarejestrowane"
    expect(page.get_by_role("table", name="Uwagi (2)").locator("tbody tr")).to_have_count(2)
    assert "letter-federacja-torun-scan.pdf" in page_html(page)
    staff.close()
