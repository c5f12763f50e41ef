"""A resident fills in the comment form in a real browser, without JavaScript, and gets a reference number."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e_browser.axe import LEDGER, check_accessibility, page_html
from tests.unit.intake_pages.helpers import decide, open_consultation, set_sections

pytestmark = pytest.mark.browser


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("UWAGI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_resident_sends_two_comments_and_checks_their_status(browser, live_intake, tmp_path):
    base, app = live_intake
    consultation = open_consultation(app, title="Program współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w 2025 r.")
    set_sections(app, consultation.id, ["§ 1. Postanowienia ogólne", "§ 5. Formy współpracy", "§ 7. Priorytetowe zadania"])
    shots = _shots(tmp_path)
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1100, "height": 900})
    page = context.new_page()

    page.goto(f"{base}/intake/")
    check_accessibility(page, "public: consultation list")
    page.get_by_role("link", name=consultation.title, exact=True).click()
    check_accessibility(page, "public: consultation page with the comment form")
    assert page.get_by_role("heading", level=1).inner_text() == consultation.title
    page.screenshot(path=str(shots / "consultation.png"), full_page=True)

    page.get_by_label("Imię i nazwisko").fill("Anna Nowak")
    page.get_by_label("Organizacja").fill("Stowarzyszenie Przykładowe")
    page.get_by_label("Adres e-mail").fill("anna.nowak@example.pl")
    page.get_by_label("Zgadzam się na opublikowanie").check()
    page.locator("#c-0-section").fill("§ 5. Formy współpracy")
    page.locator("#c-0-proposal").fill("Dodać konsultacje w formie spotkań w dzielnicach.")
    page.get_by_role("button", name="Dodaj kolejną uwagę").click()
    assert page.locator("#c-0-proposal").input_value() == "Dodać konsultacje w formie spotkań w dzielnicach."
    expect(page.locator("#c-1-section")).to_be_focused()  # autofocus, no script needed
    page.locator("#c-1-section").fill("§ 7. Priorytetowe zadania")
    page.get_by_role("button", name="Wyślij uwagi").click()

    # The second row has no proposal: the error is shown next to the field and in the summary.
    expect(page.get_by_text("Uwaga nr 2: Prosimy wpisać proponowaną zmianę.")).to_be_visible()
    page.screenshot(path=str(shots / "errors.png"), full_page=True)
    check_accessibility(page, "public: comment form with errors")
    page.locator("#c-1-proposal").fill("Dopisać wsparcie wolontariatu seniorów.")
    page.get_by_role("button", name="Wyślij uwagi").click()

    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Dziękujemy za zgłoszenie uwag"
    reference = re.search(r"UW/\d{4}/\d{6}", page_html(page)).group(0)
    page.screenshot(path=str(shots / "thanks.png"), full_page=True)
    check_accessibility(page, "public: thank-you page")

    decide(app, reference, 1, "partially_accepted", "Spotkania w dzielnicach – raz w roku.")
    page.get_by_role("link", name=f"Stan zgłoszenia {reference}").click()
    expect(page.get_by_text("uwzględniona częściowo")).to_be_visible()
    check_accessibility(page, "public: status page")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_text("partially accepted")).to_be_visible()
    page.screenshot(path=str(shots / "status-en.png"), full_page=True)
    check_accessibility(page, "public: status page in English")
    # she withdraws her consent to publish her name, from the page her receipt links to
    page.get_by_role("button", name="Withdraw my consent to publish my name").click()
    expect(page.get_by_text("Saved: your consent to publish your name is withdrawn.")).to_be_visible()
    expect(page.get_by_role("button", name="I agree that my name may be published")).to_be_visible()
    check_accessibility(page, "public: status page, the consent withdrawn")
    page.goto(f"{base}/intake/status")
    check_accessibility(page, "public: status lookup")
    page.goto(f"{base}/intake/no-such-page")
    check_accessibility(page, "public: 404 page")
    context.close()


def test_the_form_is_usable_with_the_keyboard(browser, live_intake):
    base, app = live_intake
    consultation = open_consultation(app)
    page = browser.new_page(java_script_enabled=False)
    page.goto(f"{base}/intake/c/{consultation.id}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Przejdź do treści"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.close()


def test_the_accessibility_check_catches_a_serious_violation(browser, live_intake):
    """The axe gate itself can fail: an unlabeled field and a nameless button are serious/critical."""
    import pytest as _pytest

    base, _app = live_intake
    page = browser.new_page(java_script_enabled=False)
    page.route(f"{base}/intake/axe-probe", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8",
        body='<!doctype html><html lang="pl"><head><title>t</title></head><body><main>'
             '<input type="text"><button></button></main></body></html>'))
    page.goto(f"{base}/intake/axe-probe")
    with _pytest.raises(AssertionError, match="critical: button-name|critical: label"):
        check_accessibility(page, "probe with known violations")
    LEDGER.pages.pop()  # the probe's planted violations are not the product's
    page.close()
