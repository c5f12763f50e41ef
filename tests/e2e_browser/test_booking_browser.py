"""A resident books a duty hour without JavaScript, gets the confirmation with its .ics at the SMTP
server, and cancels by the link; a coordinator prints the day and books for a caller. axe-core checks
every page. The whole system runs as `make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from playwright.sync_api import expect

from services.demo import DEMO_ORGANISER, DEMO_POSTAL_ADDRESS
from services.intake.models import Consultation
from tests.e2e_browser.axe import check_accessibility, page_html
from tests.support.infra import wait_until

pytestmark = pytest.mark.browser


def demo_consultation_id(system) -> str:
    from datetime import datetime

    from sqlalchemy import select

    from services.demo import demo_title

    title = demo_title(datetime.now(system.settings.timezone).date())
    with system.contexts["intake"].db.transaction() as session:
        return session.scalar(select(Consultation.id).where(Consultation.title == title))


def wait_for_notification(system, recipient: str, template: str, timeout: float = 60.0) -> None:
    import time

    from sqlalchemy import select

    from services.notify.models import Notification

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with system.contexts["notify"].db.transaction() as session:
            if session.scalar(select(Notification.id).where(Notification.recipient == recipient,
                                                            Notification.template == template)):
                return
        time.sleep(0.5)
    raise AssertionError(f"notify staged no {template} for {recipient}")


def decoded(message, name: str) -> str:
    """A header as RFC 2047 reads it. The long Polish display name is folded into encoded words that split a
    word; mail clients join them, while the email package's address parser keeps a space between them."""
    raw = next(value for key, value in message.raw_items() if key.lower() == name.lower())
    return str(make_header(decode_header(raw)))


def booking_mail(smtp, recipient: str, method: str):
    """The booking e-mail whose calendar part has `method`, once the SMTP server has it."""
    def found():
        return next((m for m in smtp.to(recipient) for part in m.walk()
                     if part.get_content_type() == "text/calendar" and part.get_param("method") == method), None)
    return wait_until(found, timeout=60, what=f"the {method} e-mail to {recipient}")


def test_a_resident_books_and_cancels_a_duty_hour_and_staff_book_by_phone(browser, live_system):
    base, system = live_system["url"], live_system["system"]
    consultation_id = demo_consultation_id(system)
    resident = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1100, "height": 900})
    page = resident.new_page()
    page.goto(f"{base}/intake/c/{consultation_id}")
    page.get_by_role("link", name="Zarezerwuj termin dyżuru").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Zarezerwuj termin dyżuru"
    check_accessibility(page, "public: duty-hour booking")

    page.get_by_role("button", name="Rezerwuję ten termin").click()  # nothing chosen: errors, nothing booked
    expect(page.get_by_role("alert")).to_be_visible()
    check_accessibility(page, "public: duty-hour booking with errors")
    first_free = page.locator("input[name=slot_id]:not([disabled])").first
    chosen_label = page.locator(f"label[for='{first_free.get_attribute('id')}']").inner_text()
    first_free.check()
    page.get_by_label("Imię i nazwisko").fill("Anna Nowak")
    page.get_by_label("Adres e-mail").fill("anna.nowak@example.pl")
    page.get_by_label("Numer telefonu").fill("56 611 87 24")
    page.get_by_label("O czym chcieliby Państwo porozmawiać?").fill("Procedury konkursowe")
    page.get_by_role("button", name="Rezerwuję ten termin").click()
    expect(page.get_by_role("heading", name="Termin dyżuru zarezerwowany")).to_be_visible()
    assert chosen_label.split(" ")[0] in page_html(page)
    check_accessibility(page, "public: booking confirmed")
    manage_url = page.url

    # The event crossed RabbitMQ to notify, which sent the confirmation with its invitation to the SMTP server,
    # from the consultation's contact address and signed by its office, like the receipt.
    wait_for_notification(system, "anna.nowak@example.pl", "booking_confirmed")
    confirmation = booking_mail(live_system["smtp"], "anna.nowak@example.pl", "REQUEST")
    assert decoded(confirmation, "From") == f"{DEMO_ORGANISER} <konsultacje@um.torun.pl>"
    text = confirmation.get_body(("plain",)).get_content().replace("\r\n", "\n")
    # The demo's postal address names the office, so the signature gives it once, as that address.
    assert text.startswith("Szanowni Państwo,") and "Z poważaniem\n" + DEMO_POSTAL_ADDRESS in text
    assert "87-100 Toruń" in text and "tel. 56 611 87 24" in text

    page.goto(manage_url.replace("&new=1", ""))
    page.get_by_role("button", name="Odwołaj rezerwację").click()
    expect(page.get_by_role("heading", name="Rezerwacja odwołana")).to_be_visible()
    check_accessibility(page, "public: booking cancelled")
    wait_for_notification(system, "anna.nowak@example.pl", "booking_cancelled")
    cancellation = booking_mail(live_system["smtp"], "anna.nowak@example.pl", "CANCEL")
    assert cancellation["From"] == confirmation["From"]
    resident.close()

    staff = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = staff.new_page()
    page.goto(f"{base}/review/login?next=/intake/staff/consultations/{consultation_id}")
    page.get_by_label("Adres e-mail").fill("koordynator@example.org")
    page.get_by_label("Hasło").fill(live_system["password"])
    page.get_by_role("button", name="Zaloguj się").click()
    page.get_by_role("link", name="Rezerwacje i plan dnia do wydruku; rezerwacja dla osoby dzwoniącej").click()
    check_accessibility(page, "staff: duty day schedule")
    page.get_by_label("Godzina").select_option(index=1)
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.get_by_label("Numer telefonu").fill("+48 600 100 200")
    page.get_by_role("button", name="Zarezerwuj", exact=True).click()
    expect(page.get_by_text("Termin został zarezerwowany.")).to_be_visible()
    expect(page.get_by_role("cell", name="Jan Kowalski telefonicznie")).to_be_visible()
    check_accessibility(page, "staff: schedule after a phone booking")
    staff.close()
