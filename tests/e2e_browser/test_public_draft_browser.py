"""A resident reads the demo draft on the consultation page, comments on one provision from it without giving an
e-mail address, and downloads the draft and the comment form: the whole system (as `make run` starts it) on
PostgreSQL and RabbitMQ, in a browser without JavaScript, with axe-core on every page."""

from __future__ import annotations

import io
import re
from datetime import datetime

import docx
import pytest
from playwright.sync_api import expect

from services.demo import demo_title
from services.intake.mail.form import read_docx
from tests.e2e_browser.axe import check_accessibility, page_html
from tests.support.infra import wait_until

pytestmark = pytest.mark.browser


def test_a_resident_reads_the_draft_comments_on_a_provision_and_downloads_the_form(browser, live_system):
    base = live_system["url"]
    title = demo_title(datetime.now(live_system["system"].settings.timezone).date())
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1100, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()

    # The draft reaches intake through document.version_created on the bus.
    page.goto(f"{base}/intake/")
    page.get_by_role("link", name=title, exact=True).click()
    consultation_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    def draft_announced() -> dict | None:
        data = page.request.get(f"{base}/intake/api/v1/consultations/{consultation_id}").json()
        return data if data.get("document_url") else None

    announced = wait_until(draft_announced, timeout=30, what="the draft in intake")
    page.reload()
    check_accessibility(page, "public: consultation page with its draft")
    facts = page.locator("dl.key-facts").inner_text()
    assert "Uwagi przyjmujemy od" in facts and "Telefon" in facts

    # The clean DOCX of the draft downloads without a token.
    draft_file = page.request.get(announced["document_url"])
    assert draft_file.status == 200 and draft_file.body()[:2] == b"PK"
    assert "projekt-do-konsultacji.docx" in draft_file.headers["content-disposition"]

    page.get_by_role("link", name="Treść projektu na tej stronie").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Projekt dokumentu"
    check_accessibility(page, "public: the draft, unit by unit")
    unit = next(u for u in announced["document_sections"] if u["kind"] == "section" and u["text"])
    provision = page.locator(f"#j-{unit['id']}")
    assert unit["text"] in provision.inner_text()
    provision.get_by_role("link", name=re.compile("Zgłoś uwagę do tego zapisu")).click()

    # The form opens at that provision, with its current wording, and the cursor in the proposal.
    assert page.locator("#c-0-section").input_value() == unit["label"]
    assert page.locator("#c-0-current_text").input_value() == unit["text"]
    expect(page.locator("#c-0-proposal")).to_be_focused()  # autofocus lands as the page loads: wait for it
    check_accessibility(page, "public: comment form opened at a provision")
    page.get_by_label("Imię i nazwisko").fill("Jan Kowalski")
    page.locator("#c-0-proposal").fill("Dopisać konsultacje w dzielnicach.")
    page.get_by_role("button", name="Wyślij uwagi").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Dziękujemy za zgłoszenie uwag"
    assert re.search(r"UW/\d{4}/\d{6}", page_html(page))
    expect(page.get_by_text("Nie wyślemy potwierdzenia e-mailem, ponieważ nie podano adresu e-mail.")).to_be_visible()
    check_accessibility(page, "public: thank-you page without an e-mail address")

    # The comment form, generated for this consultation, lists the draft's provisions and reads back.
    page.goto(f"{base}/intake/c/{consultation_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Formularz zgłaszania uwag do pobrania (DOCX)").first.click()
    download = download_info.value
    assert download.suggested_filename == "formularz-uwag.docx"
    data = open(download.path(), "rb").read()
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs).replace("\u00a0", " ")
    assert title in text and unit["label"] in text
    filled = read_docx(data)
    assert filled is not None and filled.rows == ()
    context.close()
