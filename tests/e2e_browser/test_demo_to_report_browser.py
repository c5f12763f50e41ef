"""The issue's "done when": a coordinator and a reviewer run the demo consultation to a published report in
the browser, with no command line and no token. Residents comment on the public form; the reviewer
searches, filters and proposes; the coordinator returns one proposal, approves, decides a campaign
group at once, closes the consultation, completes the review, builds the new version and the report,
publishes them; the public results page offers the files and notify has the outcome e-mails. The
system runs as `make run` starts it, with its demo data, on PostgreSQL, RabbitMQ and SMTP; pages are
used without JavaScript, and axe-core checks every page state on the way."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e_browser.axe import check_accessibility, page_html
from tests.e2e_browser.polling import reloaded

pytestmark = pytest.mark.browser

# A real unit of the demo draft (the annex's § 5 ust. 3 pkt 4), quoted as residents quote it.
SECTION = "§ 5 ust. 3 pkt 4"
CURRENT = "tworzenie wspólnych zespołów o charakterze doradczym i inicjatywnym."
CAMPAIGN = "Dopisać źródła finansowania wkładu własnego organizacji pozarządowych w projektach unijnych."
CAMPAIGN_COPY = "Dopisać źródła finansowania wkładu własnego organizacji pozarządowych w projektach unijnych!"
FINAL = ("tworzenie wspólnych zespołów o charakterze doradczym i inicjatywnym oraz wskazywanie źródeł "
         "finansowania wkładu własnego organizacji.")
OWN = "Dodać coroczne spotkania konsultacyjne w każdej dzielnicy Torunia."


def demo_consultation_id(system) -> str:
    from services.demo import demo_title
    from services.intake.models import Consultation

    title = demo_title(datetime.now(system.settings.timezone).date())
    with system.contexts["intake"].db.transaction() as session:
        return session.scalar(select(Consultation.id).where(Consultation.title == title))


def eventually(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def new_page(browser):
    return browser.new_context(java_script_enabled=False, locale="pl-PL",
                               viewport={"width": 1280, "height": 900}).new_page()


def log_in(page, base, email, password, next_path):
    page.goto(f"{base}/review/login?next={next_path}")
    page.get_by_label("Adres e-mail").fill(email)
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj się").click()


def send_comment(page, base, consultation_id, name, email, section, proposal, current=""):
    page.goto(f"{base}/intake/c/{consultation_id}")
    page.get_by_label("Imię i nazwisko").fill(name)
    page.get_by_label("Adres e-mail").fill(email)
    page.locator("#c-0-section").fill(section)
    page.locator("#c-0-current_text").fill(current)
    page.locator("#c-0-proposal").fill(proposal)
    page.get_by_role("button", name="Wyślij uwagi").click()
    expect(page.get_by_role("heading", name="Dziękujemy za zgłoszenie uwag")).to_be_visible()


def test_the_demo_consultation_runs_to_a_published_report_in_the_browser(browser, live_system):
    base, system, password = live_system["url"], live_system["system"], live_system["password"]
    consultation_id = demo_consultation_id(system)

    resident = new_page(browser)
    send_comment(resident, base, consultation_id, "Anna Nowak", "anna.nowak@example.pl", SECTION, CAMPAIGN, CURRENT)
    send_comment(resident, base, consultation_id, "Jan Kowalski", "jan.kowalski@example.pl", SECTION, CAMPAIGN_COPY,
                 CURRENT)
    send_comment(resident, base, consultation_id, "Ewa Wiśniewska", "ewa@example.pl", "§ 2", OWN)

    # The reviewer finds the comments by an unaccented search and proposes a decision on one.
    reviewer = new_page(browser)
    log_in(reviewer, base, "recenzent@example.org", password, "/review/queue")
    reviewer.get_by_label("Szukaj w treści").fill("zrodla finansowania")
    reviewer.get_by_label("Konsultacje").select_option(consultation_id)
    reviewer.get_by_role("button", name="Pokaż uwagi").click()
    eventually(lambda: reloaded(reviewer) and reviewer.locator("a[href^='/review/comments/']").count() == 2,
               "both campaign comments in the review queue")
    check_accessibility(reviewer, "console: queue searched and filtered")
    reviewer.get_by_label("Szukaj w treści").fill("dzielnicy")
    reviewer.get_by_role("button", name="Pokaż uwagi").click()
    reviewer.locator("a[href^='/review/comments/']").first.click()
    check_accessibility(reviewer, "console: a comment with its unit and decision form")
    reviewer.get_by_label("Nieuwzględniona").check()
    reviewer.get_by_label("Uzasadnienie").first.fill("Uwaga wykracza poza zakres Programu.")
    reviewer.get_by_role("button", name="Zapisz decyzję").click()
    own_comment = reviewer.url.split("?")[0]

    # The coordinator returns the proposal with a note; the reviewer corrects it; the coordinator approves.
    coordinator = new_page(browser)
    log_in(coordinator, base, "koordynator@example.org", password, "/review/approvals?state=proposed")
    check_accessibility(coordinator, "console: approvals")
    coordinator.goto(own_comment)
    coordinator.get_by_label("Uwagi dla recenzenta").fill("Proszę wskazać, którego zapisu dotyczy ta odmowa.")
    coordinator.get_by_role("button", name="Zwróć do poprawy").click()
    reviewer.goto(own_comment)
    expect(reviewer.get_by_text("Proszę wskazać, którego zapisu dotyczy ta odmowa.").first).to_be_visible()
    reviewer.get_by_label("Nieuwzględniona").check()
    reviewer.get_by_label("Uzasadnienie").first.fill("Spotkania w dzielnicach przewiduje § 2 ust. 3; nie dopisujemy ich.")
    reviewer.get_by_role("button", name="Zapisz decyzję").click()
    coordinator.goto(own_comment)
    coordinator.get_by_role("button", name="Zatwierdź", exact=True).click()

    # One decision for the whole campaign group, approved at once by the coordinator.
    coordinator.goto(f"{base}/review/groups?consultation={consultation_id}")
    check_accessibility(coordinator, "console: groups")
    coordinator.locator("a[href^='/review/groups/']").filter(has_text="Grupa").first.click()
    expect(coordinator.locator("a[href^='/review/comments/']")).to_have_count(2)
    coordinator.get_by_label("Uwzględniona częściowo").check()
    coordinator.get_by_label("Uzasadnienie").first.fill("Zwiększamy pulę na wkład własny w ramach budżetu Programu.")
    coordinator.get_by_label("Ostateczne brzmienie").fill(FINAL)
    coordinator.get_by_role("button", name="Zapisz decyzję").click()
    check_accessibility(coordinator, "console: group decided")

    # Close the consultation early (with a reason), complete the review.
    coordinator.goto(f"{base}/intake/staff/consultations/{consultation_id}")
    coordinator.get_by_label("Powód zamknięcia przed terminem").fill("Test: wszystkie uwagi zebrane.")
    coordinator.get_by_role("button", name="Zamknij konsultację").click()
    coordinator.goto(f"{base}/review/")
    eventually(lambda: reloaded(coordinator) and coordinator.get_by_text("0 jeszcze bez decyzji").count() > 0,
               "every comment decided on the dashboard")
    check_accessibility(coordinator, "console: dashboard, all decided")

    # Review learns of the early close from intake's event; until then the button says why it cannot be pressed.
    def completed() -> bool:
        coordinator.goto(f"{base}/review/?consultation={consultation_id}")
        if coordinator.get_by_role("button", name="Wznów rozpatrywanie uwag").count():
            return True
        button = coordinator.get_by_role("button", name="Zakończ rozpatrywanie uwag")
        if button.is_disabled():  # review has not heard of the early close yet: the page says so
            return False
        button.click()
        return "Rozpatrywanie uwag zostało zakończone" in page_html(coordinator)

    eventually(completed, "the review's completion once review knows the consultation closed", 120)

    # Build the new version and the report, then publish (reloading instead of the progress script).
    # Documents learns of the approved decisions and the completion from events: wait until it has.
    def version_build_started() -> bool:
        coordinator.goto(f"{base}/documents/consultations/{consultation_id}")
        coordinator.get_by_role("button", name="Zbuduj nową wersję dokumentu z zatwierdzonych rozstrzygnięć").click()
        return "/documents/builds/versions/" in coordinator.url

    eventually(version_build_started, "documents to know the completed review and its approved decisions", 120)
    eventually(lambda: reloaded(coordinator) and coordinator.locator("[data-build-state]").first.inner_text()
               == "gotowe", "the version build")
    assert FINAL[:40] in page_html(coordinator) or "zastosowano" in page_html(coordinator).lower()
    check_accessibility(coordinator, "console: version built")
    coordinator.goto(f"{base}/documents/consultations/{consultation_id}")
    coordinator.get_by_role("button", name="Zbuduj raport").click()
    eventually(lambda: reloaded(coordinator) and coordinator.locator("[data-build-state]").first.inner_text()
               == "gotowe", "the report build")
    coordinator.goto(f"{base}/documents/consultations/{consultation_id}")
    coordinator.get_by_role("button", name="Opublikuj raport i nową wersję dokumentu").click()
    assert "Opublikowano." in page_html(coordinator)
    check_accessibility(coordinator, "console: published")

    # The public results page offers the report and the new version without a token.
    eventually(lambda: resident.goto(f"{base}/intake/c/{consultation_id}/results").status == 200, "the results page")
    check_accessibility(resident, "public: results")
    links = resident.locator("a[href*='/documents/files/']")
    assert links.count() >= 5
    href = links.first.get_attribute("href")
    download = resident.request.get(href if href.startswith("http") else base + href)
    assert download.status == 200 and len(download.body()) > 1000

    # Notify has one outcome e-mail per submission (the delivery log shows them to the coordinator).
    from services.notify.models import Notification

    def outcomes() -> set[str]:
        with system.contexts["notify"].db.transaction() as session:
            return set(session.scalars(select(Notification.recipient).where(Notification.template == "outcome_summary")))

    eventually(lambda: {"anna.nowak@example.pl", "jan.kowalski@example.pl", "ewa@example.pl"} <= outcomes(),
               "the outcome e-mails")
    coordinator.goto(f"{base}/notify/")
    expect(coordinator.get_by_text("anna.nowak@example.pl").first).to_be_visible()
    check_accessibility(coordinator, "console: delivery log after publication")
