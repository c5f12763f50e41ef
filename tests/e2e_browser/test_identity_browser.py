"""Staff identity in the browser, on the whole system: log in, invite a user, set a password from the e-mail, log out.

JavaScript is off (the no-JS promise), and axe-core checks every page state on the way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.e2e_browser.axe import check_accessibility, page_html
from tests.support.infra import free_port, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.smtp]

DEMO_PASSWORD = "demo-haslo-do-testow"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, smtp_sink) -> Iterator[dict]:
    """`make run` as it is (embedded broker, SQLite, demo data), with mail going to a real SMTP sink."""
    from services.common.settings import load_settings
    from services.demo import load_demo
    from services.embedded import start_system

    port = free_port()
    settings = load_settings({
        "UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("demo")), "UWAGI_PORT": str(port),
        "UWAGI_SMTP_HOST": "127.0.0.1", "UWAGI_SMTP_PORT": str(smtp_sink.port), "UWAGI_RELAY_INTERVAL": "0.2",
        "UWAGI_DEMO_PASSWORD": DEMO_PASSWORD})
    system = start_system(settings)
    try:
        load_demo(system)
        server = make_server("127.0.0.1", port, system.wsgi, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield {"url": f"http://127.0.0.1:{port}", "password": DEMO_PASSWORD, "smtp": smtp_sink}
        server.shutdown()
        thread.join(5)
    finally:
        system.stop()


def log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/review/login")
    page.get_by_label("Adres e-mail").fill(email)
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj się").click()


def test_an_admin_invites_a_reviewer_who_sets_a_password_and_logs_in(browser, demo):
    base, password, smtp = demo["url"], demo["password"], demo["smtp"]
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = context.new_page()

    page.goto(f"{base}/review/admin/users")  # no session: the login form, remembering where to go
    assert page.url.startswith(f"{base}/review/login?next=")
    check_accessibility(page, "staff: login")
    page.get_by_label("Adres e-mail").fill("administrator@example.org")
    page.get_by_label("Hasło").fill("nie to hasło")
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check_accessibility(page, "staff: login with an error")

    log_in(page, base, "administrator@example.org", password)
    page.goto(f"{base}/review/admin/users")
    assert page.get_by_role("heading", level=1).inner_text() == "Użytkownicy"
    expect(page.get_by_role("cell", name="recenzent@example.org", exact=True)).to_be_visible()
    check_accessibility(page, "staff: users")
    page.get_by_role("link", name="Zaproś użytkownika").click()
    check_accessibility(page, "staff: invite a user")
    page.get_by_role("button", name="Wyślij zaproszenie").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check_accessibility(page, "staff: invite a user with errors")
    page.get_by_label("Adres e-mail").fill("nowa.recenzentka@example.org")
    page.get_by_label("Imię i nazwisko").fill("Nowa Recenzentka")
    page.get_by_label("Rola").select_option("reviewer")
    page.get_by_role("button", name="Wyślij zaproszenie").click()
    expect(page.get_by_text("Wysłano zaproszenie do nowa.recenzentka@example.org")).to_be_visible()

    wait_until(lambda: smtp.to("nowa.recenzentka@example.org"), timeout=30, what="the invitation e-mail")
    body = smtp.to("nowa.recenzentka@example.org")[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://\S+/review/password/\S+", body).group(0)
    invited = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    invited.goto(link)
    check_accessibility(invited, "staff: set a password")
    invited.locator("#f-password").fill("hasło nowej recenzentki")
    invited.get_by_label("Powtórz nowe hasło").fill("hasło nowej recenzentki")
    invited.get_by_role("button", name="Ustaw hasło").click()
    expect(invited.get_by_text("Hasło zostało ustawione")).to_be_visible()
    log_in(invited, base, "nowa.recenzentka@example.org", "hasło nowej recenzentki")
    expect(invited.get_by_role("button", name="Wyloguj się")).to_be_visible()
    invited.goto(link)
    assert "Ten link już nie działa" in page_html(invited)
    check_accessibility(invited, "staff: a used link")
    invited.goto(f"{base}/review/")
    # "Moje konto" in the header opens her own account, where she turns the morning summary off.
    invited.get_by_role("link", name="Moje konto").click()
    expect(invited.get_by_role("heading", level=1)).to_have_text("Moje konto")
    check_accessibility(invited, "staff: my account")
    invited.get_by_label("Wysyłaj mi e-mail w dni robocze, gdy czeka na mnie praca").uncheck()
    invited.get_by_role("button", name="Zapisz").click()
    expect(invited.get_by_text("Poranne podsumowanie nie będzie wysyłane.")).to_be_visible()
    expect(invited.get_by_label("Wysyłaj mi e-mail w dni robocze, gdy czeka na mnie praca")).not_to_be_checked()
    invited.get_by_role("button", name="Wyloguj się").click()
    expect(invited.get_by_text("Wylogowali się Państwo.")).to_be_visible()

    page.goto(f"{base}/review/password/forgot")
    check_accessibility(page, "staff: forgotten password")
    context.close()
    invited.context.close()


def test_the_accessibility_statement_is_linked_from_every_public_page_and_kept_by_the_admin(browser, demo):
    base = demo["url"]
    resident = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    resident.goto(f"{base}/intake/")
    resident.get_by_role("contentinfo").get_by_role("link", name="Deklaracja dostępności").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("Deklaracja dostępności")
    expect(resident.locator("#a11y-status")).to_have_text("częściowo zgodna")  # as the demo's admin filled it
    check_accessibility(resident, "public: accessibility statement")

    page = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    log_in(page, base, "administrator@example.org", demo["password"])
    page.get_by_role("navigation", name="Panel pracowników").get_by_role("link", name="Deklaracja dostępności").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deklaracja dostępności")
    check_accessibility(page, "staff: the accessibility statement's form")
    page.get_by_label("Adres e-mail").fill("dostepnosc(at)example.org")
    page.get_by_role("button", name="Zapisz i opublikuj deklarację").click()
    expect(page.get_by_role("alert")).to_contain_text("w poprawnym formacie")
    check_accessibility(page, "staff: the accessibility statement's form, an address refused")
    page.get_by_label("Adres e-mail").fill("dostepnosc@example.org")
    page.get_by_label("Osoba kontaktowa").fill("Jan Dostępny")
    page.get_by_role("button", name="Zapisz i opublikuj deklarację").click()
    expect(page.get_by_text("Deklaracja dostępności została zapisana i opublikowana.")).to_be_visible()
    resident.reload()
    expect(resident.locator("#a11y-osoba")).to_have_text("Jan Dostępny")

    # the information on personal data, beside it in every footer and in the staff menu
    resident.get_by_role("contentinfo").get_by_role("link", name="Dane osobowe").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("Jak przetwarzamy dane osobowe")
    expect(resident.get_by_role("link", name="iod@example.org")).to_be_visible()  # as the demo's admin filled it
    check_accessibility(resident, "public: the information on personal data")
    page.get_by_role("navigation", name="Panel pracowników").get_by_role("link", name="Dane osobowe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Informacja o przetwarzaniu danych osobowych")
    check_accessibility(page, "staff: the information on personal data's form")
    resident.context.close()
    page.context.close()
