"""A letter's receipt bounces, and the clerk finds out where they work: the register lists the submissions whose
e-mails came back, the submission's page says who was not told and what the mail server said; the clerk records
the address the sender gives on the phone, the receipt goes there, and the delivery log keeps the returned one. The mail server's report is a real Postfix report
from the public corpus, addressed to the receipt the SMTP server received. axe-core checks every page state; the
system runs as `make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from services.intake import domain
from services.intake.mail.importer import import_mail
from services.intake.paper import handlers as paper
from services.intake.paper.handlers import EnterPaperSubmission
from services.notify.models import Notification
from tests.e2e_browser.axe import check_accessibility
from tests.e2e_browser.test_booking_browser import booking_mail, demo_consultation_id
from tests.e2e_browser.test_letters_browser import staff_page
from tests.support.infra import wait_until

pytestmark = pytest.mark.browser

POSTFIX_REPORT = Path(__file__).resolve().parents[1] / "corpus" / "mail" / "bounces" / "lhost-postfix-05.eml"
ADDRESS = "jan.literowka@example.org"
CORRECTED = "jan.literowka@example.net"
MISHEARD = "ewa.pomylka@exampel.org"
HEARD_AGAIN = "ewa.pomylka@example.org"


def postfix_report(original_message_id: str, recipient: str) -> bytes:
    """The real Postfix report, about one of our messages, under a Message-ID of its own (each test's report is
    another mail, not the same one imported twice)."""
    report = POSTFIX_REPORT.read_bytes().replace(b"<FFFFFFFF.0000000@example.co.jp>", original_message_id.encode())
    return report.replace(b"kijitora@example.org", recipient.encode()).replace(
        b"<00000000000000.FFFFFFFFFFF@v1.example.com>", f"<{uuid.uuid4().hex}@v1.example.com>".encode())


def test_a_clerk_learns_that_a_letters_receipt_bounced_and_the_coordinator_sends_it_again(browser, live_system):
    system = live_system["system"]
    consultation_id = demo_consultation_id(system)
    intake = system.contexts["intake"]
    entered = paper.enter_paper_submission(intake, EnterPaperSubmission(
        consultation_id=consultation_id, channel="letter", received_on=datetime.now(system.settings.timezone).date(),
        submitter=domain.Submitter(name="Jan Literówka", email=ADDRESS, publish_consent=False),
        postal_address="ul. Mostowa 5\n87-100 Toruń",
        comments=(domain.CommentDraft(section="§ 3", proposal="Dodać cel: wolontariat seniorów (zwrot)."),)),
        actor="recenzent@example.org")
    receipt = wait_until(lambda: next(iter(live_system["smtp"].to(ADDRESS)), None), timeout=60, what="the receipt")

    report = postfix_report(receipt["Message-ID"], ADDRESS)
    assert import_mail(intake, report, received_at=datetime.now(timezone.utc), source="test").status == "ignored"

    def marked() -> bool:
        with system.contexts["notify"].db.transaction() as session:
            return session.scalar(select(Notification.status).where(Notification.recipient == ADDRESS)) == "bounced"

    wait_until(marked, timeout=60, what="notify to mark the receipt returned")

    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}/submissions",
                             who="koordynator@example.org")
    page.get_by_label("Tylko te, w których e-mail wrócił niedoręczony").check()
    page.get_by_role("button", name="Szukaj").click()

    def listed() -> bool:
        page.reload()
        return entered.reference in page.content()

    wait_until(listed, timeout=60, what="intake to learn of the returned receipt")
    row = page.get_by_role("row").filter(has_text=entered.reference)
    expect(row.get_by_text("e-mail niedoręczony")).to_be_visible()
    check_accessibility(page, "staff: register, only those whose e-mails came back")

    row.get_by_role("link", name=entered.reference).click()
    notice = page.get_by_role("region", name="E-mail wrócił niedoręczony")
    expect(notice).to_contain_text("nadawca nie otrzymał informacji")
    expect(notice).to_contain_text(f"potwierdzenie złożenia uwag do {ADDRESS}")
    expect(notice).to_contain_text("4.1.1")
    expect(notice).to_contain_text("Podany przez niego adres pocztowy jest poniżej.")
    check_accessibility(page, "staff: a letter whose receipt came back")

    log_link = notice.get_by_role("link", name="Zwrócone wiadomości w dzienniku wysyłek").get_attribute("href")

    # The clerk phones Mr Literówka and records the address he spells out; a missing basis is refused first
    page.get_by_label("Nowy adres e-mail").fill(CORRECTED)
    page.get_by_role("button", name="Zapisz adres").click()
    expect(page.get_by_text("Napisz, na jakiej podstawie poprawiasz adres")).to_be_visible()
    assert page.get_by_label("Na jakiej podstawie (rozmowa telefoniczna lub pismo i jego data)") \
        .get_attribute("aria-invalid") == "true"
    check_accessibility(page, "staff: correcting an address, the basis missing")
    page.get_by_label("Na jakiej podstawie (rozmowa telefoniczna lub pismo i jego data)").fill("Telefon, dziś")
    page.get_by_role("button", name="Zapisz adres").click()
    expect(page.get_by_text(f"będą odtąd wysyłane na adres {CORRECTED}")).to_be_visible()
    expect(page.get_by_text(f"{ADDRESS} → {CORRECTED}")).to_be_visible()
    check_accessibility(page, "staff: an address corrected")

    again = wait_until(lambda: next(iter(live_system["smtp"].to(CORRECTED)), None), timeout=60,
                       what="the receipt at the corrected address")
    assert entered.reference in str(again["Subject"]) and again["Message-ID"] != receipt["Message-ID"]

    page.goto(live_system["url"] + log_link)
    returned = page.get_by_role("row").filter(has_text=ADDRESS)
    expect(returned).to_contain_text("zwrócona jako niedoręczona")
    expect(returned).to_contain_text("Zwrócona przez serwer poczty")
    expect(returned.get_by_role("button", name="Wyślij ponownie")).to_be_visible()
    check_accessibility(page, "staff: delivery log, a returned receipt")
    page.goto(f"{live_system['url']}/intake/staff/consultations/{consultation_id}/submissions?undelivered=1")
    expect(page.get_by_role("row").filter(has_text=entered.reference)).to_have_count(0)
    staff.close()


def test_a_phone_bookings_confirmation_bounces_and_the_clerk_sends_it_to_the_address_given_on_the_phone(
        browser, live_system):
    system = live_system["system"]
    consultation_id = demo_consultation_id(system)
    staff, page = staff_page(browser, live_system, f"/intake/staff/consultations/{consultation_id}/bookings",
                             who="koordynator@example.org")
    page.get_by_label("Godzina").select_option(index=1)
    page.get_by_label("Imię i nazwisko").fill("Ewa Pomyłka")
    page.get_by_label("Adres e-mail").fill(MISHEARD)
    page.get_by_label("Numer telefonu").fill("+48 600 200 300")
    page.get_by_role("button", name="Zarezerwuj", exact=True).click()
    expect(page.get_by_text("Termin został zarezerwowany.")).to_be_visible()
    day = page.url
    confirmation = booking_mail(live_system["smtp"], MISHEARD, "REQUEST")

    report = postfix_report(confirmation["Message-ID"], MISHEARD)
    assert import_mail(system.contexts["intake"], report, received_at=datetime.now(timezone.utc),
                       source="test").status == "ignored"

    def tagged() -> bool:
        page.goto(day)
        return page.get_by_role("row").filter(has_text="Ewa Pomyłka").get_by_text("e-mail niedoręczony").count() == 1

    wait_until(tagged, timeout=60, what="the schedule to tag the returned confirmation")
    row = page.get_by_role("row").filter(has_text="Ewa Pomyłka")
    expect(row).to_contain_text("zadzwoń do tej osoby")
    check_accessibility(page, "staff: schedule, a booking's confirmation came back")

    field = row.get_by_label("Adres podany przez telefon")
    field.fill("ewa.pomylka@")
    row.get_by_role("button", name="Wyślij tam potwierdzenie").click()
    row = page.get_by_role("row").filter(has_text="Ewa Pomyłka")
    expect(row.get_by_text("Wpisz adres e-mail w postaci nazwa@example.pl albo zostaw pole puste.")).to_be_visible()
    check_accessibility(page, "staff: schedule, a mistyped address refused")
    row.get_by_label("Adres podany przez telefon").fill(HEARD_AGAIN)
    row.get_by_role("button", name="Wyślij tam potwierdzenie").click()
    expect(page.get_by_text(f"Potwierdzenie z zaproszeniem zostanie wysłane na adres {HEARD_AGAIN}")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Ewa Pomyłka").get_by_text("e-mail niedoręczony")).to_have_count(0)
    resent = booking_mail(live_system["smtp"], HEARD_AGAIN, "REQUEST")
    assert "/cancel?token=" in resent.get_body(("plain",)).get_content()
    staff.close()
