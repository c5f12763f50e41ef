"""Uploading a draft: checked, parsed, stored and announced as version 1; hostile files are a 422, never a 500."""

from __future__ import annotations

import hashlib
import io

import pytest
from docx import Document as WordDocument

from services.documents.engine.ooxml import read_package
from tests.unit.documents_engine.docx_fixtures import raw_zip, repack
from tests.unit.documents_service.support import outbox, staff, upload


def test_an_upload_creates_version_1_with_its_source_and_clean_docx_and_announces_the_units(ctx, client, draft):
    response = upload(client, ctx, draft, consultation_id="c-123", title="Projekt programu współpracy")
    assert response.status_code == 201, response.json
    document = response.json
    assert document["current_version"] == 1 and document["consultation_id"] == "c-123"
    assert document["filename"] == "projekt.docx" and document["created_by"] == "coordinator@um.example.pl"

    [version] = client.get(f"/documents/api/v1/documents/{document['id']}/versions", headers=staff(ctx, "reviewer")).json
    files = {f["kind"]: f for f in version["files"]}
    assert version["number"] == 1 and version["parent_number"] is None and version["unit_count"] > 50
    assert set(files) == {"source", "clean"}
    assert files["source"]["sha256"] == hashlib.sha256(draft).hexdigest() and files["source"]["size"] == len(draft)

    source = client.get(files["source"]["download_url"].split("127.0.0.1:8000")[1], headers=staff(ctx, "reviewer"))
    assert source.status_code == 200 and source.data == draft
    clean = client.get(f"/documents/api/v1/documents/{document['id']}/versions/1/clean.docx", headers=staff(ctx, "reviewer"))
    assert clean.status_code == 200 and hashlib.sha256(clean.data).hexdigest() == files["clean"]["sha256"]
    assert "Formy współpracy" in "\n".join(p.text for p in WordDocument(io.BytesIO(clean.data)).paragraphs)

    [announced] = outbox(ctx, "document.version_created")
    assert announced["document_id"] == document["id"] and announced["version"] == 1
    assert announced["consultation_id"] == "c-123" and announced["sha256"] == files["clean"]["sha256"]
    point = {"id": "u0026", "label": "§ 5 ust. 2 pkt 2", "kind": "point", "parent": "u0024",
             "text": "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji na ich dofinansowanie;"}
    assert point in announced["units"]  # with parent and text, for review's comment pages


def test_units_of_a_version_are_listed_with_label_kind_parent_and_text(ctx, client, draft):
    document_id = upload(client, ctx, draft).json["id"]
    units = client.get(f"/documents/api/v1/documents/{document_id}/versions/1/units", headers=staff(ctx, "reviewer")).json
    by_label = {unit["label"]: unit for unit in units}
    assert by_label["Rozdział III"]["kind"] == "chapter"
    point = by_label["§ 5 ust. 2 pkt 2"]
    assert point["kind"] == "point" and point["text"].startswith("wspieranie wykonywania zadań publicznych")
    assert point["parent"] == by_label["§ 5 ust. 2"]["id"]


def test_documents_are_listed_by_consultation_and_read_one_by_one(ctx, client, draft):
    first = upload(client, ctx, draft, consultation_id="c-1").json
    upload(client, ctx, draft, consultation_id="c-2")
    listed = client.get("/documents/api/v1/documents?consultation=c-1", headers=staff(ctx, "reviewer")).json
    assert [d["id"] for d in listed] == [first["id"]]
    assert len(client.get("/documents/api/v1/documents", headers=staff(ctx, "reviewer")).json) == 2
    assert client.get(f"/documents/api/v1/documents/{first['id']}", headers=staff(ctx, "reviewer")).json["title"] == "Projekt programu"
    assert client.get("/documents/api/v1/documents/nope", headers=staff(ctx, "reviewer")).status_code == 404


def _dtd(draft: bytes) -> bytes:
    xml = read_package(draft)["word/document.xml"]
    return repack(draft, replace={"word/document.xml": xml.replace(
        b"?>", b'?><!DOCTYPE w:document [<!ENTITY lol "lol">]>', 1)})


HOSTILE = {
    "not_zip": lambda draft: b"To nie jest plik DOCX, tylko tekst.",
    "encrypted": lambda draft: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096,
    "macros": lambda draft: repack(draft, add={"word/vbaProject.bin": b"\x00" * 64}),
    "dtd": _dtd,
    "zip_bomb": lambda draft: raw_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\x00" * (40 * 2**20)}),
    "not_docx": lambda draft: raw_zip({"hello.txt": b"hello"}),
}


@pytest.mark.parametrize("code", sorted(HOSTILE))
def test_a_hostile_or_broken_file_is_refused_with_the_engines_code_and_a_polish_message(ctx, client, draft, code):
    response = upload(client, ctx, HOSTILE[code](draft))
    assert response.status_code == 422, response.json
    body = response.json
    assert body["error"] == code and body["errors"]["code"] == code
    assert body["message"] == body["errors"]["message_pl"] and body["errors"]["message"]
    assert client.get("/documents/api/v1/documents", headers=staff(ctx)).json == []
    assert outbox(ctx, "document.version_created") == []


def test_an_upload_over_the_size_limit_is_a_413(ctx, client):
    response = upload(client, ctx, b"PK" + b"\x00" * (3 * 2**20))
    assert response.status_code == 413 and "too large" in response.json["message"]


def test_an_upload_without_a_file_is_a_422_naming_the_field_and_reviewers_may_not_upload(ctx, client, draft):
    response = client.post("/documents/api/v1/documents", data={"title": "x"}, headers=staff(ctx),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["errors"]["files"]
    assert upload(client, ctx, draft, role="reviewer").status_code == 403
