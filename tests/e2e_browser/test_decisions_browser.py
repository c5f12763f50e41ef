"""A reviewer proposes, a coordinator returns and approves, in a real browser without JavaScript;
axe-core checks every page of decisions on the way (dashboard, approvals, decision form, audit log,
standard justifications)."""

from __future__ import annotations


import pytest
from playwright.sync_api import expect  # waits for the page a click navigates to

from services.review import decisions
from tests.e2e_browser.axe import check_accessibility
from tests.unit.review_decisions.support import COORDINATOR, REVIEWER, bearer, publish_consultation, submit

pytestmark = pytest.mark.browser


def staff_page(browser, ctx, who):
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900},
                                  extra_http_headers=bearer(ctx, who))
    return context, context.new_page()


def test_propose_return_and_approve_in_the_browser(browser, live_review):
    base, app = live_review
    ctx = app.extensions["uwagi"]
    consultation = publish_consultation(ctx, title="Program współpracy z organizacjami pozarządowymi na 2025 r.")
    first, second = submit(ctx, consultation, ["§ 5 ust. 2 pkt 2", "§ 7"])
    decisions.create_standard_justification(ctx, consultation, "Poza zakresem",
                                            "Uwaga wykracza poza zakres Programu.", COORDINATOR)

    reviewer_context, reviewer = staff_page(browser, ctx, REVIEWER)
    reviewer.goto(f"{base}/review/comments/{first}/decision")
    check_accessibility(reviewer, "review: decision form (reviewer)")
    reviewer.get_by_label("Uwzględniona częściowo").check()
    reviewer.get_by_label("Uzasadnienie", exact=True).fill("Drugi nabór tylko w lipcu.")
    reviewer.get_by_label("Ostateczne brzmienie").fill("wspieranie zadań publicznych, także wkładu własnego;")
    reviewer.get_by_role("button", name="Zapisz decyzję").click()
    expect(reviewer.get_by_text("Decyzja została zapisana jako propozycja")).to_be_visible()
    check_accessibility(reviewer, "review: decision saved as a proposal")

    reviewer.goto(f"{base}/review/comments/{second}/decision")
    reviewer.get_by_label("Nieuwzględniona").check()
    reviewer.get_by_role("button", name="Zapisz decyzję").click()
    expect(reviewer.get_by_text("Proszę podać uzasadnienie").first).to_be_visible()
    check_accessibility(reviewer, "review: decision form with an error")
    reviewer.get_by_label("Standardowe uzasadnienie").select_option(label="Poza zakresem")
    reviewer.get_by_role("button", name="Zapisz decyzję").click()
    expect(reviewer.get_by_text("Decyzja została zapisana jako propozycja")).to_be_visible()

    coordinator_context, coordinator = staff_page(browser, ctx, COORDINATOR)
    coordinator.goto(f"{base}/review/comments/{second}/decision")
    check_accessibility(coordinator, "review: decision form with approval (coordinator)")
    coordinator.get_by_label("Uwagi dla recenzenta").fill("Proszę wskazać, którego paragrafu dotyczy zakres.")
    coordinator.get_by_role("button", name="Zwróć do poprawy").click()
    expect(coordinator.get_by_text("Decyzja została zwrócona recenzentowi")).to_be_visible()

    coordinator.goto(f"{base}/review/approvals")
    check_accessibility(coordinator, "review: approvals")
    coordinator.get_by_label("Zaznacz", exact=False).first.check()
    coordinator.get_by_role("button", name="Zatwierdź zaznaczone decyzje").click()
    expect(coordinator.get_by_text("Zatwierdzono: 1.")).to_be_visible()

    coordinator.goto(f"{base}/review/")
    check_accessibility(coordinator, "review: progress dashboard")
    assert coordinator.get_by_role("heading", level=1).inner_text() == "Postęp rozpatrywania uwag"
    coordinator.goto(f"{base}/review/?lang=en")
    check_accessibility(coordinator, "review: progress dashboard in English")
    coordinator.goto(f"{base}/review/audit?lang=pl")
    check_accessibility(coordinator, "review: audit log")
    expect(coordinator.get_by_role("rowheader", name="Decyzja zwrócona")).to_be_visible()
    coordinator.get_by_label("Czynność").select_option(label="Decyzja zatwierdzona")
    coordinator.get_by_role("button", name="Filtruj").click()
    expect(coordinator.get_by_text("Znaleziono wpisów: 1")).to_be_visible()
    check_accessibility(coordinator, "review: audit log filtered")
    coordinator.goto(f"{base}/review/consultations/{consultation}/justifications")
    check_accessibility(coordinator, "review: standard justifications")

    reviewer.goto(f"{base}/review/comments/{second}/decision")
    expect(reviewer.get_by_text("Proszę wskazać, którego paragrafu dotyczy zakres.", exact=True)).to_be_visible()
    check_accessibility(reviewer, "review: returned decision (reviewer)")
    reviewer_context.close()
    coordinator_context.close()
