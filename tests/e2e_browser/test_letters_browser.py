"""Staff enter a letter with its scan and the notes of a duty-hour conversation without JavaScript; the
comments reach review with their provenance. axe-core checks every page. The whole system runs as
`make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from services.review.models import ReviewComment
from tests.e2e_browser.axe import check_accessibility
from tests.e2e_browser.test_booking_browser import demo_consultation_id

pytestmark = pytest.mark.browser

SCAN = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def wait_for_review_comment(system, proposal: str, timeout: float = 60.0) -> ReviewComment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with system.contexts["review"].db.transaction() as session:
            found = session.scalar(select(ReviewComment).where(ReviewComment.proposal == proposal))
            if found is not None:
                return found
        time.sleep(0.5)
    raise AssertionError(f"review never received the comment {proposal!r}")


def test_staff_enter_a_letter_and_duty_hour_notes_and_review_shows_where_they_came_from(browser, live_system, tmp_path):
    base, system = live_system["url"], live_system["system"]
    consultation_id = demo_consultation_id(system)
    scan = tmp_path / "pismo-skan.pdf"
    scan.write_bytes(SCAN)
    staff = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = staff.new_page()
    page.goto(f"{base}/review/login?next=/intake/staff/consultations/{consultation_id}")
    page.get_by_label("Adres e-mail").fill("recenzent@example.org")
    page.get_by_label("Hasło").fill(live_system["password"])
    page.get_by_role("button", name="Zaloguj się").click()

    page.get_by_role("link", name="Wprowadź pismo").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Wprowadź pismo"
    check_accessibility(page, "staff: enter a letter")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()  # nothing filled in: errors, nothing saved
    assert page.get_by_role("alert").first.is_visible()
    check_accessibility(page, "staff: enter a letter with errors")

    page.get_by_label("Data stempla pocztowego").fill(time.strftime("%Y-%m-%d"))
    page.get_by_label("Skan (PDF albo obraz)").set_input_files(str(scan))
    page.get_by_label("Imię i nazwisko").fill("Anna Nowak")
    page.get_by_label("Adres do korespondencji").fill("ul. Szeroka 1, 87-100 Toruń")
    page.locator("#f-c-0-section").fill("§ 5 ust. 2")
    page.locator("#f-c-0-proposal").fill("Konkursy ogłaszać dwa razy w roku (pismo).")
    page.get_by_role("button", name="Dodaj wiersz uwagi").click()
    assert page.locator("#f-c-3-proposal").is_visible() and "pismo-skan.pdf" in page.content()
    check_accessibility(page, "staff: enter a letter, a row added")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()
    assert page.get_by_text("Nie wysyłamy potwierdzenia").is_visible()
    check_accessibility(page, "staff: letter registered")

    page.goto(f"{base}/intake/staff/consultations/{consultation_id}/bookings")
    page.get_by_label("Godzina").select_option(index=1)
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.get_by_role("button", name="Zarezerwuj", exact=True).click()
    page.get_by_role("link", name="Zapisz uwagi z rozmowy").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Zapisz uwagi z rozmowy na dyżurze"
    check_accessibility(page, "staff: notes from a duty-hour conversation")
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.locator("#f-c-0-proposal").fill("Więcej dyżurów popołudniowych (rozmowa).")
    page.get_by_role("button", name="Zarejestruj zgłoszenie").click()
    assert page.get_by_text("Zarejestrowano jako").is_visible()

    letter = wait_for_review_comment(system, "Konkursy ogłaszać dwa razy w roku (pismo).")
    notes = wait_for_review_comment(system, "Więcej dyżurów popołudniowych (rozmowa).")
    page.goto(f"{base}/review/comments/{letter.id}")
    assert page.get_by_role("heading", name="Pochodzenie").is_visible() and "recenzent@example.org" in page.content()
    assert "Data stempla pocztowego" in page.content()
    check_accessibility(page, "staff: a letter's comment with its provenance")
    page.goto(f"{base}/review/comments/{notes.id}")
    assert "Rozmowa na dyżurze" in page.content()
    staff.close()
