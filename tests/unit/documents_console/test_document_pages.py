"""The documents pages of the staff console: upload a draft, see its parts, publish it; versions and their diff."""

from __future__ import annotations

import io
import re

from services.documents.drafts import run_version_build
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, outbox, publish_consultation, staff,
                                                   submit)


def text(response) -> str:
    return response.get_data(as_text=True)


def upload_form(data: bytes, consultation_id: str = "", title: str = "") -> dict:
    return {"file": (io.BytesIO(data), "projekt-programu.docx"), "title": title, "consultation_id": consultation_id}


def upload_and_publish(client, ctx, draft, consultation_id) -> str:
    response = client.post("/documents/drafts", data=upload_form(draft, consultation_id), headers=staff(ctx),
                           content_type="multipart/form-data")
    document_id = response.headers["Location"].rsplit("/", 1)[-1]
    client.post(f"/documents/drafts/{document_id}/publish", headers=staff(ctx))
    return document_id


def test_the_upload_form_is_labelled_and_offers_the_consultation(ctx, client):
    consultation_id = publish_consultation(ctx)
    page = text(client.get(f"/documents/drafts/new?consultation={consultation_id}", headers=staff(ctx)))
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    assert f'<option value="{consultation_id}" selected>Program współpracy z NGO na 2025 r.</option>' in page
    for control_id in re.findall(r'<(?:input|select|textarea) [^>]*id="([^"]+)"', page):
        assert f'for="{control_id}"' in page
    draft_only = text(client.get("/documents/drafts/new?consultation=draft-consultation-1", headers=staff(ctx)))
    assert '<option value="draft-consultation-1" selected>' in draft_only  # not announced yet, still offered


def test_a_coordinator_uploads_sees_the_parts_and_publishes(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    response = client.post("/documents/drafts", data=upload_form(draft, consultation_id), headers=staff(ctx),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    draft_url = response.headers["Location"]
    assert outbox(ctx, "document.version_created") == []  # a draft is not announced
    page = text(client.get(draft_url, headers=staff(ctx)))
    assert "projekt-programu" in page and "szkic, nieopublikowany" in page and "Brak ostrzeżeń." in page
    assert "§ 5 ust. 2 pkt 2" in page and "punkt (pkt)" in page and QUOTE in page
    assert "Opublikuj projekt" in page
    document_id = draft_url.rsplit("/", 1)[-1]
    response = client.post(f"/documents/drafts/{document_id}/publish", headers=staff(ctx))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/documents/versions/{document_id}")
    [announced] = outbox(ctx, "document.version_created")
    assert announced["consultation_id"] == consultation_id
    listing = text(client.get(f"/documents/drafts?consultation={consultation_id}", headers=staff(ctx, "reviewer")))
    assert "opublikowano" in listing and f"/documents/versions/{document_id}" in listing


def test_a_file_that_is_not_a_docx_is_refused_with_the_reason_on_the_form(ctx, client):
    response = client.post("/documents/drafts", data=upload_form(b"%PDF-1.7 not a docx"), headers=staff(ctx),
                           content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 422 and 'class="error-summary"' in page and 'href="#f-file"' in page
    assert "Dokument nie został przyjęty" in page
    response = client.post("/documents/drafts", data={"title": "Bez pliku"}, headers=staff(ctx),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Proszę wybrać projekt dokumentu" in text(response)
    assert 'value="Bez pliku"' in text(response)


def test_warnings_from_reading_the_file_are_shown(ctx, client, draft):
    from services.documents import drafts
    from services.documents.models import Document

    document = drafts.upload_document(ctx, draft, title="Projekt", filename="p.docx", consultation_id=None,
                                      actor="k", publish=False)
    with ctx.db.transaction() as session:
        row = session.get(Document, document.id)
        row.parse_warnings = ["§ 7 follows § 5: the numbering jumps"]
        row.parse_warnings_pl = ["§ 7 następuje po § 5: numeracja przeskakuje"]
    page = text(client.get(f"/documents/drafts/{document.id}", headers=staff(ctx, "reviewer")))
    assert '<li lang="pl">§ 7 następuje po § 5: numeracja przeskakuje</li>' in page
    assert "Opublikuj projekt" not in page  # reviewers do not publish
    page = text(client.get(f"/documents/drafts/{document.id}?lang=en", headers=staff(ctx, "reviewer")))
    assert '<li lang="en">§ 7 follows § 5: the numbering jumps</li>' in page
    with ctx.db.transaction() as session:  # a draft read before warnings were kept in Polish
        session.get(Document, document.id).parse_warnings_pl = None
    page = text(client.get(f"/documents/drafts/{document.id}?lang=pl", headers=staff(ctx, "reviewer")))
    assert '<li lang="en">§ 7 follows § 5: the numbering jumps</li>' in page


def test_the_warning_about_a_reviewed_drafts_marks_is_polish_on_a_polish_page(ctx, client):
    """A draft uploaded with its review's tracked changes and comments (Word's own file, from Apache Tika)."""
    from pathlib import Path

    from services.documents import drafts

    features = Path(__file__).resolve().parents[2] / "corpus" / "drafting" / "word" / "testWORD_features.docx"
    document = drafts.upload_document(ctx, features.read_bytes(), title="Projekt", filename="features.docx",
                                      consultation_id=None, actor="k", publish=False)
    page = text(client.get(f"/documents/drafts/{document.id}?lang=pl", headers=staff(ctx, "coordinator")))
    assert "2 komentarze z wewnętrznych uzgodnień projektu" in page and "niezaakceptowanych zmian" in page


def test_versions_list_downloads_and_the_diff_side_by_side_and_inline(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    document_id = upload_and_publish(client, ctx, draft, consultation_id)
    reference, (comment_id,) = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2 pkt 2", "current_text": QUOTE}])
    decide(ctx, consultation_id, comment_id, reference, "accepted", FINAL_TEXT)
    build = client.post(f"/documents/api/v1/documents/{document_id}/versions", headers=staff(ctx)).json
    run_version_build(ctx, build["id"])

    page = text(client.get(f"/documents/versions/{document_id}", headers=staff(ctx, "reviewer")))
    assert f'href="/documents/api/v1/documents/{document_id}/versions/2/tracked.docx"' in page
    assert f'href="/documents/api/v1/documents/{document_id}/versions/1/source.docx"' in page
    assert "Porównaj dwie wersje" in page and "Prezydent Miasta" in page
    download = client.get(f"/documents/api/v1/documents/{document_id}/versions/2/clean.docx", headers=staff(ctx))
    assert download.status_code == 200 and download.data[:2] == b"PK"

    side = text(client.get(f"/documents/versions/{document_id}/diff?old=1&new=2", headers=staff(ctx, "reviewer")))
    assert "Różnice między wersjami 1 i 2" in side and "§ 5 ust. 2 pkt 2" in side
    assert ('<del><span class="visually-hidden">[usunięto: </span>ich dofinansowanie<span class="visually-hidden">]'
            '</span></del>') in side
    assert '<ins><span class="visually-hidden">[wstawiono: </span>wkład własny' in side
    assert f"{reference}#1" in side and '<span class="number">1</span> zmienione' in side
    inline = text(client.get(f"/documents/versions/{document_id}/diff?old=2&new=1&layout=inline",
                             headers=staff(ctx, "reviewer")))
    assert '<ol class="diff-inline">' in inline and "<ins>" in inline and "Różnice między wersjami 1 i 2" in inline
    same = text(client.get(f"/documents/versions/{document_id}/diff?old=2&new=2", headers=staff(ctx)))
    assert "Obie wersje są takie same." in same
    # "³" is a digit to str.isdigit() but not to int(): a version like it is the default, never a 500
    assert client.get(f"/documents/versions/{document_id}/diff?old=%C2%B3&new=2", headers=staff(ctx)).status_code == 200
    units = text(client.get(f"/documents/versions/{document_id}/2", headers=staff(ctx)))
    assert FINAL_TEXT in units


def test_unknown_documents_and_versions_are_404_pages(ctx, client, draft):
    assert client.get("/documents/drafts/nope", headers=staff(ctx)).status_code == 404
    document_id = upload_and_publish(client, ctx, draft, publish_consultation(ctx))
    response = client.get(f"/documents/versions/{document_id}/diff?old=1&new=9", headers=staff(ctx))
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert client.get(f"/documents/versions/{document_id}/7", headers=staff(ctx)).status_code == 404


def test_reviewers_read_but_do_not_upload_or_publish(ctx, client, draft):
    reviewer = staff(ctx, "reviewer")
    assert client.get("/documents/", headers=reviewer).status_code == 200
    assert client.get("/documents/drafts/new", headers=reviewer).status_code == 403
    assert client.post("/documents/drafts", headers=reviewer).status_code == 403
    assert client.post("/documents/drafts/x/publish", headers=reviewer).status_code == 403
    assert client.get("/documents/").status_code in (302, 401)


def test_with_the_session_cookie_upload_and_publish_need_the_csrf_token(ctx, client, draft):
    from services.common.auth import SESSION_KEY, StaffIdentity, session_claims

    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", "koordynator@um.torun.pl", "coordinator"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get("/documents/drafts/new"))).group(1)
    refused = client.post("/documents/drafts", data=upload_form(draft), content_type="multipart/form-data")
    assert refused.status_code == 400
    accepted = client.post("/documents/drafts", data={**upload_form(draft), "csrf_token": token},
                           content_type="multipart/form-data")
    assert accepted.status_code == 303
    draft_page = text(client.get(accepted.headers["Location"]))
    assert draft_page.count('name="csrf_token"') == draft_page.count("<form")
    document_id = accepted.headers["Location"].rsplit("/", 1)[-1]
    assert client.post(f"/documents/drafts/{document_id}/publish").status_code == 400
    assert client.post(f"/documents/drafts/{document_id}/publish", data={"csrf_token": token}).status_code == 303


def test_a_wrong_draft_is_discarded_but_a_published_one_stays(ctx, client, draft):
    from services.documents import drafts

    consultation_id = publish_consultation(ctx)
    response = client.post("/documents/drafts", data=upload_form(draft, consultation_id), headers=staff(ctx),
                           content_type="multipart/form-data")
    document_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert "Usuń projekt" in text(client.get(f"/documents/drafts/{document_id}", headers=staff(ctx)))
    assert client.post(f"/documents/drafts/{document_id}/discard", headers=staff(ctx, "reviewer")).status_code == 403
    response = client.post(f"/documents/drafts/{document_id}/discard", headers=staff(ctx))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"?consultation={consultation_id}")
    assert drafts.list_documents(ctx, consultation_id) == []
    assert client.get(f"/documents/drafts/{document_id}", headers=staff(ctx)).status_code == 404

    published = upload_and_publish(client, ctx, draft, consultation_id)
    assert "Usuń projekt" not in text(client.get(f"/documents/drafts/{published}", headers=staff(ctx)))
    client.post(f"/documents/drafts/{published}/discard", headers=staff(ctx))
    assert [d.id for d in drafts.list_documents(ctx, consultation_id)] == [published]
