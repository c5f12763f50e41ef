"""A reviewer triages in a real browser: search and filters, the keyboard, a comment's page; axe checks every page."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e_browser.axe import check_accessibility, page_html
from tests.unit.review_triage.support import NOW, bearer, publish_consultation, publish_draft, staff, submit

pytestmark = pytest.mark.browser


def test_a_reviewer_searches_filters_and_works_through_comments_by_keyboard(browser, live_review, tmp_path):
    base, app = live_review
    ctx = app.extensions["uwagi"]
    consultation = publish_consultation(ctx)
    publish_draft(ctx, consultation)
    reviewer = staff(ctx, "recenzentka@um.example.pl", "reviewer")
    funding, general = submit(ctx, consultation, [
        {"section": "§ 5 ust. 2 pkt 2", "proposal": "Wskazać źródła finansowania dotacji.", "topic": "finansowanie"},
        {"section": "Uwaga ogólna", "proposal": "Program jest zbyt ogólny."}])
    letter, = submit(ctx, consultation, [{"section": "§ 10", "proposal": "Dodać wkład własny."}], channel="letter",
                     late=True, received_at=NOW + timedelta(hours=1))
    context = browser.new_context(locale="pl-PL", viewport={"width": 1280, "height": 900},
                                  extra_http_headers=bearer(ctx, reviewer))
    page = context.new_page()
    shots = Path(os.environ.get("UWAGI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/review/queue?consultation={consultation}")
    check_accessibility(page, "console: triage queue")
    assert page.get_by_role("heading", level=1).inner_text() == "Uwagi do rozpatrzenia"
    expect(page.locator("table.queue tbody tr")).to_have_count(3)

    page.keyboard.press("/")  # the search field takes the focus
    page.keyboard.type("ZRODLA finansowania")
    page.get_by_role("button", name="Pokaż uwagi").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    assert "Wskazać źródła finansowania dotacji." in page.locator("table.queue").inner_text()
    page.screenshot(path=str(shots / "triage-queue.png"), full_page=True)
    check_accessibility(page, "console: triage queue, searched")

    page.get_by_role("link", name="Wyczyść filtry").click()
    page.get_by_label("Sposób złożenia").select_option("letter")
    page.get_by_label("Wpłynęła").select_option("1")
    page.get_by_role("button", name="Pokaż uwagi").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    assert "Dodać wkład własny." in page_html(page)
    page.get_by_role("link", name="Wyczyść filtry").click()
    page.get_by_label("Konsultacje").select_option(consultation)
    page.get_by_role("button", name="Pokaż uwagi").click()  # the draft's parts are offered once it is chosen
    page.get_by_label("Rozdział lub jednostka redakcyjna").select_option("u3")
    page.get_by_role("button", name="Pokaż uwagi").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(2)  # § 5 ust. 2 pkt 2 and § 10 are in chapter II

    page.get_by_role("link", name="Wyczyść filtry").click()
    page.get_by_label("Konsultacje").select_option(consultation)
    page.get_by_role("button", name="Pokaż uwagi").click()
    page.wait_for_load_state()
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/comments/{funding}?pos=0")
    check_accessibility(page, "console: a comment beside its unit")
    assert "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji;" in page.locator(".unit-text").inner_text()
    page.screenshot(path=str(shots / "triage-comment.png"), full_page=True)

    page.keyboard.press("n")
    page.wait_for_url(f"**/review/comments/{general}?pos=1")
    page.wait_for_load_state()
    page.keyboard.press("a")  # the unit choice takes the focus
    page.get_by_label("Przypisz do jednostki redakcyjnej projektu").select_option("u2")
    page.get_by_role("button", name="Przypisz", exact=True).click()
    page.wait_for_load_state()
    assert "Uwagę przypisano do wybranej jednostki redakcyjnej." in page.locator(".flashes").inner_text()
    assert "Program określa cele współpracy." in page.locator(".unit-text").inner_text()
    page.keyboard.press("m")
    page.keyboard.type("Zapytać Wydział Finansów.")
    page.get_by_role("button", name="Dodaj notatkę").click()
    page.wait_for_load_state()
    assert "Zapytać Wydział Finansów." in page.locator("#notes").inner_text()
    check_accessibility(page, "console: a comment after re-anchoring and a note")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_hidden()
    page.keyboard.press("p")
    page.wait_for_url(f"**/review/comments/{funding}?pos=0")
    page.wait_for_load_state()
    page.keyboard.press("u")
    page.wait_for_url("**/review/queue?**")
    assert letter in page_html(page)
    context.close()
