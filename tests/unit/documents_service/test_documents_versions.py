"""The next version from approved decisions: anchored, checked for conflicts, rendered and announced."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document as WordDocument

from services.common.db import utcnow
from services.documents.drafts import VERSION_CACHE, run_version_build
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, outbox, publish_consultation, staff,
                                                   submit, upload)


@pytest.fixture
def consultation(ctx, client, draft):
    """A consultation with its document uploaded; returns (consultation id, document id)."""
    consultation_id = publish_consultation(ctx)
    return consultation_id, upload(client, ctx, draft, consultation_id=consultation_id).json["id"]


def api(path: str) -> str:
    return f"/documents/api/v1{path}"


def test_accepted_decisions_become_replacements_and_unplaceable_ones_are_reported_not_applied(ctx, client, consultation):
    """GIVEN an accepted comment quoting § 5 ust. 2 pkt 2, a partially accepted one naming no findable part,
    and a rejected one WHEN the coordinator asks for the next version THEN only the first becomes a change
    and the second is reported as unanchored."""
    consultation_id, document_id = consultation
    reference, (placed, lost, rejected) = submit(ctx, consultation_id, [
        {"section": "par. 5 ust 2 pkt 2", "current_text": QUOTE},
        {"section": "ogólnie cały program", "current_text": ""},
        {"section": "§ 4", "current_text": ""},
    ])
    decide(ctx, consultation_id, placed, reference, "accepted", FINAL_TEXT)
    decide(ctx, consultation_id, lost, reference, "partially_accepted", "Nowe brzmienie czegoś.")
    decide(ctx, consultation_id, rejected, reference, "rejected", justification="Nie.")

    response = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    assert response.status_code == 202, response.json
    build = response.json
    assert build["state"] == "pending" and build["parent_number"] == 1 and build["number"] == 2
    assert build["changes"] == [{"unit": "u0026", "op": "replace", "text": FINAL_TEXT,
                                 "comment_refs": [f"{reference}#1"]}]
    [unanchored] = build["unanchored"]
    assert unanchored["ref"] == f"{reference}#2" and unanchored["reason"] == "not_anchored"

    run_version_build(ctx, build["id"])
    done = client.get(api(f"/documents/{document_id}/builds/{build['id']}"), headers=staff(ctx, "reviewer")).json
    assert done["state"] == "done" and done["progress"] == 100 and done["error"] is None

    versions = client.get(api(f"/documents/{document_id}/versions"), headers=staff(ctx, "reviewer")).json
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["comment_refs"] == [f"{reference}#1"] and versions[1]["approved_by"] == "Prezydent Miasta"
    assert {f["kind"] for f in versions[1]["files"]} == {"clean", "tracked"}

    clean = client.get(api(f"/documents/{document_id}/versions/2/clean.docx"), headers=staff(ctx, "reviewer"))
    assert any(FINAL_TEXT in p.text for p in WordDocument(io.BytesIO(clean.data)).paragraphs)
    tracked = client.get(api(f"/documents/{document_id}/versions/2/tracked.docx"), headers=staff(ctx, "reviewer"))
    with zipfile.ZipFile(io.BytesIO(tracked.data)) as package:
        xml = package.read("word/document.xml").decode()
        assert "<w:ins " in xml and "<w:del " in xml
        assert f"{reference}#1" in package.read("word/comments.xml").decode()

    [_, announced] = outbox(ctx, "document.version_created")
    assert announced["version"] == 2 and announced["parent_version"] == 1
    assert announced["comment_refs"] == [f"{reference}#1"] and announced["consultation_id"] == consultation_id

    # The applied decision is not applied twice; what is left cannot be placed.
    again = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    assert again.status_code == 422 and again.json["error"] == "no_changes"
    assert [u["ref"] for u in again.json["errors"]["unanchored"]] == [f"{reference}#2"]


def test_two_decisions_on_one_unit_are_a_409_naming_both_comments_until_the_coordinator_settles_it(ctx, client, consultation):
    consultation_id, document_id = consultation
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 4", "current_text": ""},
                                                   {"section": "paragraf 4", "current_text": ""}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", "Współpraca odbywa się na zasadach partnerstwa.")
    decide(ctx, consultation_id, ids[1], reference, "partially_accepted", "Współpraca odbywa się jawnie.")

    conflict = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    assert conflict.status_code == 409 and conflict.json["error"] == "conflict"
    assert f"{reference}#1" in conflict.json["message"] and f"{reference}#2" in conflict.json["message"]
    assert len(conflict.json["errors"]["changes"]) == 2
    assert client.get(api(f"/documents/{document_id}/builds"), headers=staff(ctx)).json == []

    # An explicit change naming both comments replaces the two derived ones.
    settled = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx), json={"changes": [
        {"unit": "§ 4", "op": "replace", "text": "Współpraca odbywa się jawnie, na zasadach partnerstwa.",
         "comment_refs": [f"{reference}#1", f"{reference}#2"]}]})
    assert settled.status_code == 202, settled.json
    assert [c["unit"] for c in settled.json["changes"]] == ["§ 4"]
    # One build at a time.
    assert client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx), json={"changes": [
        {"unit": "§ 1", "op": "delete", "comment_refs": ["K-9"]}]}).status_code == 409


def test_explicit_changes_build_a_version_and_the_diff_shows_inserted_deleted_and_renumbered_units(ctx, client, draft):
    document_id = upload(client, ctx, draft).json["id"]
    response = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx), json={
        "approved_by": "Prezydent Miasta Wzorowo", "approved_at": "2024-11-04T12:00:00+00:00", "changes": [
            {"unit": "§ 3 ust. 2 pkt 2 lit. a", "op": "insert_after", "text": "w zakresie zdrowia psychicznego,",
             "comment_refs": ["K-1"]},
            {"unit": "§ 5 ust. 3 pkt 1", "op": "delete", "comment_refs": ["K-2"]}]})
    assert response.status_code == 202, response.json
    run_version_build(ctx, response.json["id"])

    diff = client.get(api(f"/documents/{document_id}/versions/1/diff/2"), headers=staff(ctx, "reviewer")).json
    by_status = {}
    for entry in diff:
        by_status.setdefault(entry["status"], []).append(entry)
    [inserted] = by_status["inserted"]
    assert inserted["new"]["label"] == "§ 3 ust. 2 pkt 2 lit. b" and inserted["comment_refs"] == ["K-1"]
    assert by_status["deleted"][0]["old"]["label"] == "§ 5 ust. 3 pkt 1"
    renumbered = {(e["old"]["label"], e["new"]["label"]) for e in by_status["renumbered"]}
    assert ("§ 3 ust. 2 pkt 2 lit. b", "§ 3 ust. 2 pkt 2 lit. c") in renumbered
    assert ("§ 5 ust. 3 pkt 2", "§ 5 ust. 3 pkt 1") in renumbered

    # Versions are rebuilt from the stored source and changes: the same units after the cache is gone.
    before = client.get(api(f"/documents/{document_id}/versions/2/units"), headers=staff(ctx, "reviewer")).json
    ctx.extras.pop(VERSION_CACHE)
    assert client.get(api(f"/documents/{document_id}/versions/2/units"), headers=staff(ctx, "reviewer")).json == before


@pytest.mark.parametrize("changes, status, code", [
    ([{"unit": "§ 99", "op": "replace", "text": "x", "comment_refs": ["K-1"]}], 422, "unknown_unit"),
    ([{"unit": "§ 4", "op": "rename", "text": "x", "comment_refs": ["K-1"]}], 422, "bad_change"),
    ([{"unit": "§ 4", "op": "replace", "text": "a", "comment_refs": ["K-1"]},
      {"unit": "§ 4", "op": "delete", "comment_refs": ["K-2"]}], 409, "conflict"),
])
def test_bad_explicit_changes_are_refused_with_the_engines_code(ctx, client, draft, changes, status, code):
    document_id = upload(client, ctx, draft).json["id"]
    response = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx), json={"changes": changes})
    assert response.status_code == status and response.json["error"] == code
    assert response.json["errors"]["changes"]


def test_unknown_documents_versions_and_files_are_404_and_a_reversed_diff_is_422(ctx, client, draft):
    document_id = upload(client, ctx, draft).json["id"]
    reviewer = staff(ctx, "reviewer")
    assert client.get(api("/documents/nope/versions"), headers=reviewer).status_code == 404
    assert client.get(api(f"/documents/{document_id}/versions/7/units"), headers=reviewer).status_code == 404
    assert client.get(api(f"/documents/{document_id}/versions/x/units"), headers=reviewer).status_code == 404
    assert client.get(api(f"/documents/{document_id}/versions/1/tracked.docx"), headers=reviewer).status_code == 404
    assert client.get(api(f"/documents/{document_id}/versions/1/other.docx"), headers=reviewer).status_code == 404
    assert client.get(api(f"/documents/{document_id}/versions/2/diff/1"), headers=reviewer).status_code == 422
    assert client.post(api("/documents/nope/versions"), headers=staff(ctx)).status_code == 404
    assert client.post(api(f"/documents/{document_id}/versions"), headers=reviewer).status_code == 403


def test_a_build_whose_version_number_was_taken_meanwhile_fails_with_a_reason(ctx, client, draft):
    document_id = upload(client, ctx, draft).json["id"]
    body = {"changes": [{"unit": "§ 1", "op": "replace", "text": "Program określa zasady.", "comment_refs": ["K-1"]}]}
    first = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx), json=body).json
    run_version_build(ctx, first["id"])
    run_version_build(ctx, first["id"])  # a redelivered task changes nothing
    with ctx.db.transaction() as session:
        from services.documents.models import VersionBuild

        stale = VersionBuild(id="stale-build", document_id=document_id, state="pending", parent_number=1, number=2,
                             changes=first["changes"], unanchored=[], approved_by="Prezydent Miasta",
                             approved_at=utcnow().replace(microsecond=0))
        session.add(stale)
    run_version_build(ctx, "stale-build")
    builds = {b["id"]: b for b in client.get(api(f"/documents/{document_id}/builds"), headers=staff(ctx)).json}
    assert builds[first["id"]]["state"] == "done"
    assert builds["stale-build"]["state"] == "failed" and "Wersja 2 już istnieje" in builds["stale-build"]["error"]
    assert len(outbox(ctx, "document.version_created")) == 2
