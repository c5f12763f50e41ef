"""A coordinator prepares a consultation in the browser without JavaScript: creates it as a draft with its
duty days, uploads and checks the draft document, publishes it, opens the consultation, compares versions;
axe-core checks every page on the way (consultation list, form, detail, documents, upload, parts, versions,
diff). The whole system runs as `make run` does, on PostgreSQL and RabbitMQ."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from services.documents.engine.demo_draft import make_demo_draft
from tests.e2e_browser.axe import check_accessibility, page_html

pytestmark = pytest.mark.browser


def wait_for(predicate, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for an asynchronous effect")
        time.sleep(0.2)


def demo_consultation_id(system) -> str:
    from sqlalchemy import select

    from services.demo import demo_title
    from services.intake.models import Consultation

    with system.contexts["intake"].db.transaction() as session:
        return session.scalar(select(Consultation.id).where(
            Consultation.title == demo_title(datetime.now(system.settings.timezone).date())))


def test_create_open_and_publish_a_consultation_with_its_draft(browser, live_system, tmp_path):
    base = live_system["url"]
    tz = live_system["system"].settings.timezone
    today = datetime.now(tz).date()
    context = browser.new_context(java_script_enabled=False, locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = context.new_page()

    page.goto(f"{base}/review/login?next=/intake/staff/consultations")
    page.get_by_label("Adres e-mail").fill("koordynator@example.org")
    page.get_by_label("Hasło").fill(live_system["password"])
    page.get_by_role("button", name="Zaloguj się").click()
    assert page.url.endswith("/intake/staff/consultations")
    check_accessibility(page, "intake: consultations (list)")

    page.get_by_role("link", name="Nowa konsultacja").click()
    check_accessibility(page, "intake: new consultation form")
    page.get_by_role("button", name="Zapisz jako szkic").click()  # empty: the error summary
    expect(page.get_by_role("alert")).to_be_visible()
    check_accessibility(page, "intake: consultation form with errors")

    title = "Program współpracy z NGO na 2026 r. – II etap (test przeglądarki)"
    page.get_by_label("Tytuł").fill(title)
    page.get_by_label("Etap").fill("II etap")
    page.get_by_label("Organizator (wydział)").fill("Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia")
    page.get_by_label("Data rozpoczęcia").fill(today.isoformat())
    page.get_by_label("Ostatni dzień zgłaszania uwag").fill((today + timedelta(days=14)).isoformat())
    page.get_by_label("Tematy").fill("Procedury konkursowe\nToruńskie Forum Organizacji Pozarządowych")
    page.get_by_label("Adres e-mail do kontaktu").fill("konsultacje@um.torun.pl")
    page.get_by_label("Telefon do kontaktu").fill("56 611 87 24")
    page.get_by_label("Adres pocztowy do korespondencji").fill("ul. Wały gen. Sikorskiego 8\n87-100 Toruń")
    first_day = page.get_by_role("group", name="Dyżur 1")
    first_day.get_by_label("Data", exact=True).fill((today + timedelta(days=5)).isoformat())
    first_day.get_by_label("Miejsce").fill("Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8, II piętro")
    first_day.get_by_label("Sala").fill("sala nr 34")
    first_day.get_by_label("Termin zapisów: data").fill((today + timedelta(days=4)).isoformat())
    first_day.get_by_label("Termin zapisów: godzina").fill("15:30")
    page.get_by_role("button", name="Dodaj kolejny dyżur").click()
    expect(page.get_by_role("group", name="Dyżur 2")).to_be_visible()  # posted back with one more row
    page.get_by_role("button", name="Zapisz jako szkic").click()

    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("szkic", exact=True).first).to_be_visible()
    consultation_id = page.url.rsplit("/", 1)[-1]
    check_accessibility(page, "intake: consultation (draft) detail")

    page.get_by_role("link", name="Dodaj projekt dokumentu (DOCX)").click()
    check_accessibility(page, "documents: upload a draft")
    draft_file = tmp_path / "projekt-programu.docx"
    draft_file.write_bytes(make_demo_draft())
    page.get_by_label("Projekt dokumentu (DOCX)").set_input_files(str(draft_file))
    page.get_by_role("button", name="Dodaj i odczytaj projekt").click()
    expect(page.get_by_text("Projekt został dodany i odczytany")).to_be_visible()
    expect(page.get_by_role("rowheader", name="§ 5 ust. 2 pkt 2")).to_be_visible()
    check_accessibility(page, "documents: parsed parts of a draft")
    page.get_by_role("button", name="Opublikuj projekt").click()
    expect(page.get_by_text("Projekt został opublikowany jako wersja 1")).to_be_visible()
    check_accessibility(page, "documents: versions")
    document_id = page.url.rsplit("/", 1)[-1]
    page.goto(f"{base}/documents/versions/{document_id}/diff?old=1&new=1")
    check_accessibility(page, "documents: diff page")
    page.goto(f"{base}/documents/")
    check_accessibility(page, "documents: documents and drafts")

    page.goto(f"{base}/intake/staff/consultations/{consultation_id}")
    page.get_by_role("button", name="Otwórz konsultację").click()
    expect(page.get_by_text("Konsultacja została otwarta i ogłoszona.")).to_be_visible()
    check_accessibility(page, "intake: consultation (open) detail")
    page.get_by_role("link", name="Edytuj konsultację").click()
    check_accessibility(page, "intake: edit form of an open consultation")
    expect(page.get_by_text("Można go tylko przedłużyć")).to_be_visible()

    # The document's announcement reaches intake through the bus: the public form offers its parts.
    def public_page_knows_the_document() -> bool:
        page.goto(f"{base}/intake/c/{consultation_id}")
        return "§ 5 ust. 2 pkt 2" in page_html(page)

    wait_for(public_page_knows_the_document)
    body = page_html(page)
    assert "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia" in body and "sala nr 34" in body
    assert re.search(r"87-100 Toruń", body)

    # Next year's consultation starts from this one: the form comes filled in, 52 weeks on, for a check.
    page.goto(f"{base}/intake/staff/consultations/{consultation_id}")
    page.get_by_role("link", name="Nowa konsultacja na wzór tej").click()
    expect(page.get_by_text("przesunięto o 52 tyg.", exact=False)).to_be_visible()
    expect(page.get_by_label("Tytuł")).to_have_value(title.replace("2026", "2027"))
    check_accessibility(page, "intake: new consultation based on an earlier one")
    page.get_by_role("button", name="Zapisz jako szkic").click()
    expect(page.get_by_role("heading", name=title.replace("2026", "2027"))).to_be_visible()

    # The reviewers' standard justifications come along from the demo consultation, once review knows this one.
    demo_id = demo_consultation_id(live_system["system"])
    page.goto(f"{base}/review/consultations/{demo_id}/justifications")
    page.get_by_label("Tytuł").fill("Poza zakresem")
    page.get_by_label("Treść").fill("Uwaga wykracza poza zakres Programu.")
    page.get_by_role("button", name="Dodaj", exact=True).click()

    def review_knows_the_consultation() -> bool:
        return page.goto(f"{base}/review/consultations/{consultation_id}/justifications").status == 200

    wait_for(review_knows_the_consultation)
    expect(page.get_by_role("heading", name="Skopiuj z innej konsultacji")).to_be_visible()
    check_accessibility(page, "review: standard justifications with another consultation's to copy")
    page.get_by_role("button", name="Skopiuj", exact=True).click()
    expect(page.get_by_text("Skopiowano 1 standardowe uzasadnienie.")).to_be_visible()
    expect(page.get_by_label("Treść").first).to_have_value("Uwaga wykracza poza zakres Programu.")
    context.close()
