"""A resident books a duty hour without JavaScript, gets the confirmation with its .ics at the SMTP
server, and cancels by the link; a coordinator prints the day and books for a caller. axe-core checks
every page. The whole system runs as `make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import pytest

from services.intake.models import Consultation
from tests.e2e_browser.axe import check_accessibility

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
    assert page.get_by_role("alert").is_visible()
    check_accessibility(page, "public: duty-hour booking with errors")
    first_free = page.locator("input[name=slot_id]:not([disabled])").first
    chosen_label = page.locator(f"label[for='{first_free.get_attribute('id')}']").inner_text()
    first_free.check()
    page.get_by_label("Imię i nazwisko").fill("Anna Nowak")
    page.get_by_label("Adres e-mail").fill("anna.nowak@example.pl")
    page.get_by_label("Numer telefonu").fill("56 611 87 24")
    page.get_by_label("O czym chcieliby Państwo porozmawiać?").fill("Procedury konkursowe")
    page.get_by_role("button", name="Rezerwuję ten termin").click()
    assert page.get_by_role("heading", name="Termin dyżuru zarezerwowany").is_visible()
    assert chosen_label.split(" ")[0] in page.content()
    check_accessibility(page, "public: booking confirmed")
    manage_url = page.url

    # The event crossed RabbitMQ to notify, which staged the confirmation with its invitation (the .ics
    # itself is proven at a real SMTP server in tests/unit/notify and tests/e2e).
    wait_for_notification(system, "anna.nowak@example.pl", "booking_confirmed")

    page.goto(manage_url.replace("&new=1", ""))
    page.get_by_role("button", name="Odwołaj rezerwację").click()
    assert page.get_by_role("heading", name="Rezerwacja odwołana").is_visible()
    check_accessibility(page, "public: booking cancelled")
    wait_for_notification(system, "anna.nowak@example.pl", "booking_cancelled")
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
    assert page.get_by_text("Termin został zarezerwowany.").is_visible()
    assert page.get_by_role("cell", name="Jan Kowalski telefonicznie").is_visible()
    check_accessibility(page, "staff: schedule after a phone booking")
    staff.close()
