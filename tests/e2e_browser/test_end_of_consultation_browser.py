"""The end of a consultation in a real browser: build, watch progress, publish; the public results page; the
delivery log and the dead-letter page. axe-core checks every page state."""

from __future__ import annotations

import threading
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from services.common.bus import InboxDispatcher
from services.common.db import upgrade
from services.common.runtime import ServiceWorker
from services.common.settings import load_settings
from services.documents import app as documents_app
from services.documents.engine.demo_draft import make_demo_draft
from services.documents.worker import worker_spec
from services.intake import app as intake_app
from services.notify import app as notify_app
from services.notify.handlers import EVENT_HANDLERS as NOTIFY_HANDLERS
from services.notify.models import Inbox as NotifyInbox
from tests.e2e_browser.axe import check_accessibility, page_html
from tests.e2e_browser.polling import reloaded
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, deliver, publish_consultation, submit,
                                                   upload)
from tests.support.infra import wait_until
from tests.unit.intake_pages.helpers import open_consultation
from tests.unit.intake_pages.test_results_page import publish, record_handover
from tests.unit.notify.notify_factories import received_event

pytestmark = pytest.mark.browser


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var")), "UWAGI_RELAY_INTERVAL": "0.2"})
    built, servers = {}, []
    for name, module in (("documents", documents_app), ("notify", notify_app), ("intake", intake_app)):
        upgrade(name, settings.database_url(name))
        built[name] = module.create_app(ctx=module.build(settings))
    worker = ServiceWorker(built["documents"].extensions["uwagi"], worker_spec()).start_background()
    worker.start_celery_thread()
    urls = {}
    for name, app in built.items():
        urls[name], server = serve(app)
        servers.append(server)
    yield {"apps": built, "urls": urls}
    for server in servers:
        server.shutdown()
    worker.stop()
    for name in ("notify", "intake"):
        built[name].extensions["uwagi"].close()


def context_for(browser, app, role: str, *, javascript: bool = False):
    token = app.extensions["uwagi"].signer.issue(f"u-{role}", f"{role}@um.example.pl", role)
    return browser.new_context(java_script_enabled=javascript, locale="pl-PL", viewport={"width": 1280, "height": 900},
                               extra_http_headers={"Authorization": f"Bearer {token}"})


def test_the_coordinator_builds_and_publishes_and_every_page_is_accessible(browser, apps):
    documents, base = apps["apps"]["documents"], apps["urls"]["documents"]
    ctx = documents.extensions["uwagi"]
    consultation_id = publish_consultation(ctx)
    upload(documents.test_client(), ctx, make_demo_draft("auto"), consultation_id=consultation_id)
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2", "current_text": QUOTE},
                                                   {"section": "w całym dokumencie", "current_text": ""}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)
    decide(ctx, consultation_id, ids[1], reference, "partially_accepted", "Nowy rozdział.")
    deliver(ctx, "consultation.review_completed", {"consultation_id": consultation_id,
                                                   "completed_at": datetime.now(timezone.utc),
                                                   "completed_by": "koordynator@um.example.pl"}, "review")

    page = context_for(browser, documents, "coordinator").new_page()
    page.goto(f"{base}/documents/consultations")
    check_accessibility(page, "console: consultations to close")
    # The module's other test opens a consultation of the same title: take this one by its address.
    page.locator(f'a[href*="{consultation_id}"]', has_text="Program współpracy z NGO na 2025 r.").first.click()
    check_accessibility(page, "console: end of a consultation, nothing built")

    # With JavaScript the build page follows the build live and shows the result when it is done.
    live = context_for(browser, documents, "coordinator", javascript=True).new_page()
    live.goto(page.url)
    live.get_by_role("button", name="Zbuduj nową wersję dokumentu z zatwierdzonych rozstrzygnięć").click()
    live.wait_for_selector('[data-build-finished="true"]', timeout=30_000)
    assert live.locator("[data-build-state]").inner_text() == "gotowe"
    assert f"{reference}#2" in page_html(live)  # not placed, and said so
    check_accessibility(live, "console: version build, done")

    page.reload()
    page.get_by_role("button", name="Zbuduj raport").click()
    check_accessibility(page, "console: report build, just queued (no JavaScript)")
    wait_until(lambda: reloaded(page) and "gotowe" == page.locator("[data-build-state]").inner_text(),
               timeout=30, what="the report build, by reloading")
    page.get_by_role("link", name="Zakończenie konsultacji").click()
    page.get_by_role("button", name="Opublikuj raport i nową wersję dokumentu").click()
    assert "Opublikowano." in page_html(page)
    check_accessibility(page, "console: end of a consultation, published")
    # Anyone reads the published comments on a page, and finds one by its reference.
    public = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    public.goto(f"{base}/documents/c/{consultation_id}/comments")
    expect(public.get_by_role("heading", level=1)).to_have_text("Uwagi i stanowisko Miasta")
    check_accessibility(public, "public: the published comments and positions")
    public.get_by_label("Szukaj w uwagach").fill(f"{reference}#2")
    public.get_by_role("button", name="Szukaj").click()
    expect(public.get_by_role("status")).to_have_text("Znaleziono 1 uwagę z 2")
    expect(public.get_by_role("heading", level=2)).to_have_text(f"Lp. 2 – {reference}#2")
    check_accessibility(public, "public: the published comments, searched")
    public.context.close()
    # and what goes to the City Council: the text to paste, and the package to download
    expect(page.get_by_role("heading", name="5. Przekazanie Radzie Miasta")).to_be_visible()
    expect(page.get_by_label("Tekst do uzasadnienia projektu uchwały")).to_contain_text("Liczba zgłoszeń:")
    with page.expect_download() as download:
        page.get_by_role("link", name="Pobierz pakiet dla Rady Miasta (ZIP)").click()
    assert download.value.suggested_filename.startswith("pakiet-dla-rady-miasta-")
    with zipfile.ZipFile(download.value.path()) as package:
        assert package.namelist()[0] == "1-informacja-o-konsultacjach.docx"

    # The hand-over, recorded once it happened: today's date is offered, and refused while the consultation is open.
    page.get_by_label("Znak pisma przewodniego").fill("WRS-II.524.3.2024")
    page.get_by_role("button", name="Zapisz dane przekazania").click()
    expect(page.get_by_role("alert")).to_contain_text("wcześniejsza niż zakończenie konsultacji")
    expect(page.get_by_label("Znak pisma przewodniego")).to_have_value("WRS-II.524.3.2024")
    check_accessibility(page, "console: the hand-over to the City Council, refused")
    now = datetime.now(timezone.utc)
    deliver(ctx, "consultation.published", {  # the coordinator closed it early
        "consultation_id": consultation_id, "title": "Program współpracy z NGO na 2025 r.", "stage": "II etap",
        "opens_at": now - timedelta(days=7), "closes_at": now - timedelta(hours=1), "channels": ["web", "email"],
        "topics": ["finansowanie"], "duty_days": []}, "intake")
    page.get_by_role("button", name="Zapisz dane przekazania").click()
    expect(page.locator("[data-handover]")).to_contain_text("Znak pisma: WRS-II.524.3.2024.")
    assert page.get_by_text("Popraw zapis przekazania").is_visible()
    check_accessibility(page, "console: the hand-over to the City Council, recorded")
    # The council adopts the document: its resolution's number without its date is refused, then added
    page.get_by_text("Popraw zapis przekazania").click()
    page.get_by_label("Numer uchwały").fill("XII/123/24")
    page.get_by_role("button", name="Zapisz dane przekazania").click()
    expect(page.get_by_role("alert")).to_contain_text("Wpisz datę podjęcia uchwały przez Radę.")
    check_accessibility(page, "console: the council's resolution, its date missing")
    page.get_by_label("Data uchwały Rady").fill(datetime.now(ZoneInfo("Europe/Warsaw")).date().isoformat())
    page.get_by_role("button", name="Zapisz dane przekazania").click()
    expect(page.locator("[data-handover]")).to_contain_text("Rada przyjęła go uchwałą nr XII/123/24 z dnia")


def test_the_results_page_delivery_log_and_event_pages_are_accessible(browser, apps):
    intake, notify = apps["apps"]["intake"], apps["apps"]["notify"]
    consultation = open_consultation(intake)
    publish(intake, consultation.id)
    record_handover(intake, consultation.id, 1, "2024-12-04", print_number="412", adopted_on="2024-12-12",
                    resolution_number="XII/123/24")
    public = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
    public.goto(f"{apps['urls']['intake']}/intake/c/{consultation.id}/results")
    assert public.get_by_role("heading", level=1).inner_text() == "Wyniki konsultacji"
    expect(public.get_by_role("heading", name="Przekazanie Radzie Miasta")).to_be_visible()
    check_accessibility(public, "public: results of a consultation")
    last_year = open_consultation(intake, opens_at=datetime(2024, 10, 1, tzinfo=timezone.utc),
                                  closes_at=datetime(2024, 10, 21, 21, 59, tzinfo=timezone.utc))
    publish(intake, last_year.id)
    public.goto(f"{apps['urls']['intake']}/intake/")
    expect(public.get_by_role("heading", name="Zakończone konsultacje")).to_be_visible()
    public.get_by_role("link", name=f"Wyniki: raport i dokument po konsultacjach – {last_year.title}").click()
    assert public.get_by_role("heading", level=1).inner_text() == "Wyniki konsultacji"
    public.goto(f"{apps['urls']['intake']}/intake/")
    check_accessibility(public, "public: open and past consultations")

    InboxDispatcher(notify.extensions["uwagi"].db, NotifyInbox, NOTIFY_HANDLERS).dispatch(
        received_event(email=f"anna-{uuid.uuid4().hex[:6]}@example.org"))
    log = context_for(browser, notify, "admin").new_page()
    log.goto(f"{apps['urls']['notify']}/notify/")
    assert log.get_by_role("heading", level=1).inner_text() == "Dziennik wysyłek"
    check_accessibility(log, "console: delivery log")
    log.get_by_label("Stan").select_option("failed")
    log.get_by_role("button", name="Pokaż").click()
    check_accessibility(log, "console: delivery log, filtered")
    log.goto(f"{apps['urls']['notify']}/notify/admin/events/")
    check_accessibility(log, "console: dead letters and parked events")
