"""`make run`'s demo with its sample comments, as a newcomer opens it: every staff screen has work on it, and each
passes axe-core with that content (a dashboard with its tables, a full queue, a proposal to approve, a mail to
transcribe, the sent receipts)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.e2e_browser.axe import check_accessibility
from tests.e2e_browser.test_identity_browser import log_in
from tests.support.infra import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_with_samples(live_system) -> dict:
    from services.demo import demo_title, programme_year
    from services.demo_submissions import load_demo_submissions
    from services.intake.models import Consultation
    from services.review.models import ReviewComment

    system = live_system["system"]
    intake, review = system.contexts["intake"], system.contexts["review"]
    today = datetime.now(system.settings.timezone).date()
    with intake.db.transaction() as session:
        consultation = session.scalar(select(Consultation.id).where(Consultation.title == demo_title(today)))
    assert load_demo_submissions(system, consultation, programme_year(today)) is not None

    def decided_and_grouped() -> bool:
        with review.db.transaction() as session:
            states = sorted(state for state in session.scalars(select(ReviewComment.approval_state)) if state)
            grouped = session.scalar(select(func.count()).select_from(ReviewComment)
                                     .where(ReviewComment.group_id.is_not(None)))
        return states == ["approved", "proposed"] and grouped == 2

    wait_until(decided_and_grouped, timeout=60, what="the demo's two decisions and its group")
    return {**live_system, "consultation": consultation}


def test_every_staff_screen_shows_the_samples_and_passes_axe(browser, demo_with_samples):
    base, consultation = demo_with_samples["url"], demo_with_samples["consultation"]
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base, "koordynator@example.org", demo_with_samples["password"])
    screens = [
        ("/review/", "demo: dashboard with the samples", "czeka na zatwierdzenie"),
        ("/review/queue", "demo: queue of the samples", "lokali gminnych na preferencyjnych warunkach"),
        ("/review/approvals", "demo: a proposal to approve", "Wysokość środków na realizację programu"),
        ("/review/groups", "demo: a group of repeated comments", "9 500 000 zł"),
        (f"/intake/staff/consultations/{consultation}", "demo: the consultation's console", "Wspólnie o programie"),
        (f"/intake/staff/mails?consultation={consultation}", "demo: a mail to transcribe", "Piotr Zieliński"),
        ("/notify/", "demo: the receipts sent", "m.kowalczyk@example.org"),
        ("/intake/staff/privacy/person?q=m.kowalczyk%40example.org", "demo: what the city holds about a person",
         "Fundacja Aktywności Lokalnej"),
    ]
    for path, label, shown in screens:
        page.goto(base + path)
        expect(page.get_by_text(shown).first, f"{path}: {shown}").to_be_visible()
        check_accessibility(page, label)

    page.goto(f"{base}/intake/staff/mails?consultation={consultation}")
    page.get_by_role("link", name="Uwaga do programu współpracy").click()
    expect(page.get_by_text("W § 7 proponuję dopisać").first).to_be_visible()
    check_accessibility(page, "demo: transcribing the mailed comment")
    # A mail can be a request to book a duty hour: the schedule opens beside it, the sender filled in.
    page.get_by_role("link", name="Zapisz nadawcę na dyżur").click()
    expect(page.get_by_role("heading", name="Zapis nadawcy wiadomości na dyżur")).to_be_visible()
    expect(page.get_by_label("Imię i nazwisko")).to_have_value("Piotr Zieliński")
    expect(page.get_by_label("Zamknij wiadomość jako prośbę o zapis na dyżur", exact=False)).to_be_checked()
    check_accessibility(page, "demo: booking the sender of a mail")
    context.close()
