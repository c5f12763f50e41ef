"""A letter's receipt bounces, and the clerk finds out where they work: the register lists the submissions whose
e-mails came back, the submission's page says who was not told and what the mail server said; the clerk records
the address the sender gives on the phone, the receipt goes there, and the delivery log keeps the returned one. The mail server's report is a real Postfix report
from the public corpus, addressed to the receipt the SMTP server received. axe-core checks every page state; the
system runs as `make run` does, on PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

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
from tests.e2e_browser.test_booking_browser import demo_consultation_id
from tests.e2e_browser.test_letters_browser import staff_page
from tests.support.infra import wait_until

pytestmark = pytest.mark.browser

POSTFIX_REPORT = Path(__file__).resolve().parents[1] / "corpus" / "mail" / "bounces" / "lhost-postfix-05.eml"
ADDRESS = "jan.literowka@example.org"
CORRECTED = "jan.literowka@example.net"


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

    report = POSTFIX_REPORT.read_bytes().replace(b"<FFFFFFFF.0000000@example.co.jp>", receipt["Message-ID"].encode())
    report = report.replace(b"kijitora@example.org", ADDRESS.encode())
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
