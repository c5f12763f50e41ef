"""A reviewer works through a campaign's group in a real browser, without JavaScript; axe checks every page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services.common.auth import StaffIdentity
from tests.e2e_browser.axe import check_accessibility
from tests.unit.review_groups.support import LETTER, OTHER, publish_consultation, receive

pytestmark = pytest.mark.browser

COORDINATOR = StaffIdentity("u-coordinator", "koordynator@um.example.pl", "coordinator")


def test_a_campaign_is_split_merged_and_decided_as_one_group(browser, live_review, tmp_path):
    base, app = live_review
    ctx = app.extensions["uwagi"]
    consultation = publish_consultation(ctx, needs_approval=True)
    letters = receive(ctx, consultation, LETTER, "Szanowni Państwo, " + LETTER, LETTER.upper() + "!",
                      LETTER + " Z poważaniem, Anna Nowak")
    receive(ctx, consultation, OTHER, OTHER.replace("ą", "a"))
    token = ctx.signer.issue(COORDINATOR.user_id, COORDINATOR.email, COORDINATOR.role)
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900},
                                  extra_http_headers={"Authorization": f"Bearer {token}"})
    page = context.new_page()

    page.goto(f"{base}/review/groups?consultation={consultation}")
    check_accessibility(page, "console: groups")
    assert page.get_by_role("heading", level=1).inner_text() == "Grupy jednakowych uwag"
    assert page.get_by_role("status").first.inner_text() == "Znaleziono grup: 2"

    shots = Path(os.environ.get("UWAGI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "groups.png"), full_page=True)
    page.get_by_role("link", name="Grupa").first.click()
    check_accessibility(page, "console: a group with its forms")
    page.screenshot(path=str(shots / "group.png"), full_page=True)
    expect(page.locator("table.members tbody tr")).to_have_count(len(letters))
    page.locator(f"#sel-{letters[3]}").check()
    page.locator(f"#sel-{letters[2]}").check()
    page.get_by_role("button", name="Wydziel zaznaczone uwagi").click()
    assert "tworzą teraz osobną grupę" in page.locator(".flashes").inner_text()
    check_accessibility(page, "console: a group after a split")
    page.get_by_label("Grupa do dołączenia do tej grupy").select_option(index=0)
    page.get_by_role("button", name="Połącz", exact=True).click()
    assert "połączone" in page.locator(".flashes").inner_text()

    page.get_by_role("button", name="Zapisz decyzję").click()  # nothing chosen: the form comes back with errors
    check_accessibility(page, "console: a group decision with errors")
    expect(page.locator("#error-summary")).to_be_visible()
    page.get_by_label("Nieuwzględniona").check()
    page.get_by_label("Uzasadnienie", exact=True).fill("Uwaga wykracza poza zakres Programu.")
    page.get_by_label("Zatwierdź od razu").check()
    page.get_by_role("button", name="Zapisz decyzję").click()
    assert "Decyzję zastosowano do" in page.locator(".flashes").inner_text()
    check_accessibility(page, "console: a group after its decision")
    context.close()
