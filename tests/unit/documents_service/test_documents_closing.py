"""The end of a consultation in the documents console: build the next version and the report, see progress and what was applied, publish."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta, timezone
from html import unescape

from docx import Document

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.documents import handlers
from services.documents.engine.report import polish_date
from tests.support.infra import wait_until
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, deliver, outbox, publish_consultation,
                                                   staff, submit, upload)


def page(client, ctx, path: str, role: str = "coordinator") -> str:
    response = client.get(path, headers=staff(ctx, role))
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_reviewers_see_the_console_and_only_coordinators_build_or_publish(ctx, client):
    consultation_id = publish_consultation(ctx)
    assert client.get("/documents/consultations").status_code == 302  # to the login page
    listing = page(client, ctx, "/documents/consultations", "reviewer")
    assert "Dokumenty i raporty" in listing and f'href="/documents/consultations/{consultation_id}"' in listing
    details = page(client, ctx, f"/documents/consultations/{consultation_id}", "reviewer")
    assert "wersja robocza" in details and "<form" not in details.split("<main")[1].replace('class="logout"', "")
    for path in ("versions", "reports", "publications"):
        assert client.post(f"/documents/consultations/{consultation_id}/{path}",
                           headers=staff(ctx, "reviewer")).status_code == 403
    assert client.get("/documents/consultations/nope", headers=staff(ctx)).status_code == 404


def test_the_coordinator_builds_the_version_and_the_report_watches_progress_and_publishes(ctx, client, draft, worker):
    consultation_id = publish_consultation(ctx)
    document_id = upload(client, ctx, draft, consultation_id=consultation_id).json["id"]
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2", "current_text": QUOTE},
                                                   {"section": "w całym dokumencie", "current_text": ""}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)
    decide(ctx, consultation_id, ids[1], reference, "partially_accepted", "Nowy rozdział o wolontariacie.")

    started = client.post(f"/documents/consultations/{consultation_id}/versions", headers=staff(ctx))
    assert started.status_code == 303 and started.headers["Location"].startswith("/documents/builds/versions/")
    build_page = started.headers["Location"]
    first = page(client, ctx, build_page)
    assert "data-build-status=\"/documents/api/v1/documents/" in first and "build-progress.js" in first
    assert '<progress id="build-progress" max="100"' in first
    wait_until(lambda: 'data-build-finished="true"' in page(client, ctx, build_page), timeout=30, what="version build done")
    done = page(client, ctx, build_page)
    assert "§ 5 ust. 2 pkt 2" in done and FINAL_TEXT in done and f"{reference}#1" in done  # applied
    assert f"{reference}#2" in done and "w całym dokumencie" in done  # could not be placed
    assert "Stan: <strong role=\"status\" data-build-state>gotowe</strong>" in done
    overview = page(client, ctx, f"/documents/consultations/{consultation_id}")
    assert f"/documents/api/v1/documents/{document_id}/versions/2/tracked.docx" in overview
    assert f'href="/documents/versions/{document_id}"' in overview
    # The files are named in Polish, never by their internal kind.
    assert "Wersja 2: ze śledzeniem zmian (DOCX)" in overview and ">tracked" not in overview

    report = client.post(f"/documents/consultations/{consultation_id}/reports", data={"language": "pl"},
                         headers=staff(ctx))
    report_page = report.headers["Location"]
    wait_until(lambda: 'data-build-finished="true"' in page(client, ctx, report_page), timeout=30, what="report build done")
    assert "wersja robocza" in page(client, ctx, report_page)
    draft_id = report_page.rsplit("/", 1)[-1]
    refused = client.post(f"/documents/consultations/{consultation_id}/publications",
                          data={"report_build_id": draft_id}, headers=staff(ctx), follow_redirects=True)
    assert "Rozpatrywanie uwag nie zostało jeszcze zakończone." in refused.get_data(as_text=True)

    deliver(ctx, "consultation.review_completed", {"consultation_id": consultation_id,
                                                   "completed_at": datetime.now(timezone.utc),
                                                   "completed_by": "koordynator@um.example.pl"}, "review")
    final = client.post(f"/documents/consultations/{consultation_id}/reports", data={"language": "pl"},
                        headers=staff(ctx)).headers["Location"].rsplit("/", 1)[-1]
    wait_until(lambda: handlers.get_report(ctx, final).state == "done", timeout=30, what="final report")
    overview = page(client, ctx, f"/documents/consultations/{consultation_id}")
    assert f'<option value="{final}">' in overview and f'<option value="{draft_id}">' not in overview
    published = client.post(f"/documents/consultations/{consultation_id}/publications",
                            data={"report_build_id": final}, headers=staff(ctx), follow_redirects=True)
    html = published.get_data(as_text=True)
    assert "Opublikowano." in html and f'href="/intake/c/{consultation_id}/results"' in html
    assert html.count('href="http://127.0.0.1:8000/documents/files/') == 5
    assert "Raport (XLSX)</a>" in html and "Dokument po konsultacjach (DOCX)</a>" in html
    assert ">report_docx<" not in html and ">version_clean<" not in html

    # Anyone reads the published table of comments on a page, searched and filtered, as it was published.
    table = client.get(f"/documents/c/{consultation_id}/comments?lang=pl")
    shown = table.get_data(as_text=True)
    assert table.status_code == 200 and "<h1>Uwagi i stanowisko Miasta</h1>" in shown and "2 uwagi" in shown
    assert f"Lp. 1 – {reference}#1" in shown and FINAL_TEXT in shown and "<strong>Uwzględniona</strong>" in shown
    assert shown.index(f"{reference}#1") < shown.index(f"{reference}#2")
    assert 'href="http://127.0.0.1:8000/documents/files/' in shown and "raport-z-konsultacji.csv" in shown
    narrowed = client.get(f"/documents/c/{consultation_id}/comments?decision=Uwzględniona+częściowo").get_data(
        as_text=True)
    assert "Znaleziono 1 uwagę z 2" in narrowed and f"{reference}#2" in narrowed and f"{reference}#1<" not in narrowed
    assert "Znaleziono 0 uwag z 2" in client.get(f"/documents/c/{consultation_id}/comments?q=nie+ma+takiej+uwagi"
                                                  "&page=99999999999").get_data(as_text=True)
    assert client.get("/documents/c/nope/comments").status_code == 404

    # What goes to the City Council: the text for the resolution's justification and the package.
    assert "5. Przekazanie Radzie Miasta" in html
    text = html.split('id="f-council-text"')[1].split("</textarea>")[0]
    today = datetime.now(ctx.settings.timezone).date().isoformat()
    assert "Konsultacje „Program współpracy z NGO na 2025 r.” (II etap) przeprowadzono od " in unescape(text)
    assert "Uwagi można było zgłaszać: przez formularz internetowy oraz pocztą elektroniczną." in text
    assert ("Liczba zgłoszeń: 1; liczba uwag: 2, w tym: uwzględnione – 1; uwzględnione częściowo – 1; "
            "nieuwzględnione – 0; nierozpatrzone – 0.") in text
    assert "zmiany w projekcie: w załączeniu dokument po konsultacjach (wersja 2)" in text
    assert f"opublikowano {polish_date(today)} pod adresem: http://127.0.0.1:8000/documents/files/" in text
    download = client.get(f"/documents/consultations/{consultation_id}/council-package.zip",
                          headers=staff(ctx, "reviewer"))
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "filename=pakiet-dla-rady-miasta-program-wspolpracy-z-ngo-na-2025-r.zip" in \
        download.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(download.data)) as package:
        names = package.namelist()
        assert names == ["1-informacja-o-konsultacjach.docx", "2-dokument-po-konsultacjach.docx",
                         "3-dokument-po-konsultacjach-z-zaznaczonymi-zmianami.docx",
                         "4-sprawozdanie-z-konsultacji.docx", "5-zestawienie-uwag.xlsx"]
        sheet = Document(io.BytesIO(package.read(names[0])))
        report = package.read(names[3])
    lines = [p.text for p in sheet.paragraphs]
    assert lines[0] == "Informacja o przebiegu i wynikach konsultacji" and lines[-5] == "Załączniki:"
    assert lines[-4:] == ["1. Dokument po konsultacjach (DOCX)",
                          "2. Dokument po konsultacjach z zaznaczonymi zmianami (DOCX)",
                          "3. Sprawozdanie z konsultacji (DOCX)", "4. Zestawienie uwag (XLSX)"]
    assert report == client.get(re.search(r'href="http://127.0.0.1:8000(/documents/files/[^"]+\.docx)"[^>]*>Raport '
                                          r'\(DOCX\)', html).group(1)).data  # the report as published
    assert client.get("/documents/consultations/nope/council-package.zip", headers=staff(ctx)).status_code == 404

    # The hand-over is recorded on the same page; the form keeps what was typed when it is refused.
    assert "Zapisz przekazanie</summary>" in html and 'name="handed_over_on"' in html
    handover = f"/documents/consultations/{consultation_id}/council-handover"
    typo = client.post(handover, data={"handed_over_on": "12.11.2024", "letter_reference": "WRS-II.524.3.2024"},
                       headers=staff(ctx))
    refused = typo.get_data(as_text=True)
    assert typo.status_code == 422 and "Podaj datę: dzień, miesiąc i rok." in refused
    assert 'aria-invalid="true"' in refused and 'value="WRS-II.524.3.2024"' in refused
    early = client.post(handover, data={"handed_over_on": today}, headers=staff(ctx))  # it closes in a week
    assert early.status_code == 422 and "wcześniejsza niż zakończenie konsultacji" in early.get_data(as_text=True)
    now = datetime.now(timezone.utc)
    deliver(ctx, "consultation.published", {  # closed early by the coordinator
        "consultation_id": consultation_id, "title": "Program współpracy z NGO na 2025 r.", "stage": "II etap",
        "opens_at": now - timedelta(days=7), "closes_at": now - timedelta(hours=1), "channels": ["web", "email"],
        "topics": ["finansowanie"], "duty_days": []}, "intake")
    recorded = client.post(handover, data={"handed_over_on": today, "letter_reference": "WRS-II.524.3.2024",
                                           "print_number": "", "note": "Wysłano przez EZD."},
                           headers=staff(ctx), follow_redirects=True)
    shown = recorded.get_data(as_text=True)
    assert "Przekazanie Radzie Miasta zostało zapisane" in shown
    assert f"Przekazano Radzie Miasta {polish_date(today)}" in shown and "Znak pisma: WRS-II.524.3.2024." in shown
    assert "Notatka dla pracowników: Wysłano przez EZD." in shown and "Popraw zapis przekazania</summary>" in shown
    assert outbox(ctx, "council.handover_recorded")[-1]["letter_reference"] == "WRS-II.524.3.2024"
    listing = page(client, ctx, "/documents/consultations")
    row = listing.split(f'href="/documents/consultations/{consultation_id}"')[1].split("</tr>")[0]
    assert f"opublikowano {polish_date(today)}" in row and f"przekazano Radzie Miasta {polish_date(today)}" in row


def test_the_council_package_waits_for_the_publication(ctx, client):
    consultation_id = publish_consultation(ctx)
    assert client.get(f"/documents/c/{consultation_id}/comments").status_code == 404  # nor is the public table
    overview = page(client, ctx, f"/documents/consultations/{consultation_id}")
    assert "Przekazanie Radzie Miasta" not in overview
    response = client.get(f"/documents/consultations/{consultation_id}/council-package.zip", headers=staff(ctx))
    assert response.status_code == 404 and "nie zostały jeszcze opublikowane" in response.get_data(as_text=True)


def test_a_console_form_sent_with_the_session_cookie_needs_its_csrf_token(ctx, client):
    consultation_id = publish_consultation(ctx)
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-k", "k@um.example.pl", "coordinator", "K"))
    assert client.post(f"/documents/consultations/{consultation_id}/reports").status_code == 400
    html = client.get(f"/documents/consultations/{consultation_id}").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 2
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(f"/documents/consultations/{consultation_id}/reports",
                           data={"csrf_token": token, "language": "en", "internal": "1"})
    assert response.status_code == 303
    build = handlers.get_report(ctx, response.headers["Location"].rsplit("/", 1)[-1])
    assert build.language == "en" and build.internal is True
