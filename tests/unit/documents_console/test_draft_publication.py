"""A draft kept back on upload: seen first, then published as the consultation's document."""

from __future__ import annotations

import io

from services.documents import drafts
from tests.unit.documents_service.support import outbox, publish_consultation, staff


def upload_draft(client, ctx, data, consultation_id, *, publish="false"):
    return client.post("/documents/api/v1/documents", headers=staff(ctx), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "projekt.docx"), "title": "Projekt programu",
                             "consultation_id": consultation_id, "publish": publish})


def test_a_kept_back_draft_announces_nothing_until_it_is_published(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    response = upload_draft(client, ctx, draft, consultation_id)
    assert response.status_code == 201 and response.json["published_at"] is None
    document_id = response.json["id"]
    assert isinstance(response.json["parse_warnings"], list)
    assert outbox(ctx, "document.version_created") == []
    with ctx.db.transaction() as session:
        assert drafts.consultation_document(session, consultation_id) is None  # not the consultation's yet
    assert client.post(f"/documents/api/v1/documents/{document_id}/versions", headers=staff(ctx),
                       json={}).status_code == 409
    response = client.post(f"/documents/api/v1/documents/{document_id}/publish", headers=staff(ctx))
    assert response.status_code == 200 and response.json["published_by"] == "coordinator@um.example.pl"
    [announced] = outbox(ctx, "document.version_created")
    assert announced["document_id"] == document_id and announced["version"] == 1 and len(announced["units"]) > 50
    again = client.post(f"/documents/api/v1/documents/{document_id}/publish", headers=staff(ctx))
    assert again.status_code == 200 and len(outbox(ctx, "document.version_created")) == 1
    with ctx.db.transaction() as session:
        assert drafts.consultation_document(session, consultation_id).id == document_id


def test_a_consultation_has_one_published_document(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    first = upload_draft(client, ctx, draft, consultation_id, publish="true")
    assert first.status_code == 201 and first.json["published_at"] is not None
    second = upload_draft(client, ctx, draft, consultation_id).json["id"]
    response = client.post(f"/documents/api/v1/documents/{second}/publish", headers=staff(ctx))
    assert response.status_code == 409 and "already has a published document" in response.json["message"]
    assert upload_draft(client, ctx, draft, consultation_id, publish="true").status_code == 409


def test_only_coordinators_publish_and_unknown_drafts_are_404(ctx, client, draft):
    document_id = upload_draft(client, ctx, draft, publish_consultation(ctx)).json["id"]
    assert client.post(f"/documents/api/v1/documents/{document_id}/publish",
                       headers=staff(ctx, "reviewer")).status_code == 403
    assert client.post("/documents/api/v1/documents/nope/publish", headers=staff(ctx)).status_code == 404


def test_parse_warnings_are_kept_with_the_draft(ctx, monkeypatch, draft):
    from services.documents.engine import parse_docx

    def parse_with_a_warning(data):
        version = parse_docx(data)
        object.__setattr__(version, "warnings", ("§ 7 follows § 5: the numbering jumps",))
        return version

    monkeypatch.setattr(drafts, "parse_docx", parse_with_a_warning)
    document = drafts.upload_document(ctx, draft, title="Projekt", filename="p.docx", consultation_id=None,
                                      actor="k", publish=False)
    assert drafts.get_document(ctx, document.id).parse_warnings == ["§ 7 follows § 5: the numbering jumps"]


def test_the_api_discards_a_draft_but_not_a_published_document(ctx, client, draft):
    consultation_id = publish_consultation(ctx)
    kept_back = upload_draft(client, ctx, draft, consultation_id).json["id"]
    assert client.delete(f"/documents/api/v1/documents/{kept_back}", headers=staff(ctx, "reviewer")).status_code == 403
    assert client.delete(f"/documents/api/v1/documents/{kept_back}", headers=staff(ctx)).status_code == 204
    assert client.get(f"/documents/api/v1/documents/{kept_back}", headers=staff(ctx)).status_code == 404
    published = upload_draft(client, ctx, draft, consultation_id, publish="true").json["id"]
    response = client.delete(f"/documents/api/v1/documents/{published}", headers=staff(ctx))
    assert response.status_code == 409
    assert client.delete("/documents/api/v1/documents/nope", headers=staff(ctx)).status_code == 404


def test_the_announced_draft_is_downloadable_without_a_token_and_a_kept_back_one_is_not(ctx, client, draft):
    """GIVEN a draft kept back WHEN it is published THEN its clean DOCX (only that file) is public at `clean_url`."""
    from services.documents.models import Artifact

    consultation_id = publish_consultation(ctx)
    document_id = upload_draft(client, ctx, draft, consultation_id).json["id"]
    anonymous = client.application.test_client()
    with ctx.db.transaction() as session:
        artifacts = {a.kind: a.id for a in session.query(Artifact).filter(Artifact.document_id == document_id)}
    assert anonymous.get(f"/documents/files/{artifacts['clean']}/x.docx").status_code == 404  # not announced yet
    client.post(f"/documents/api/v1/documents/{document_id}/publish", headers=staff(ctx))
    [announced] = outbox(ctx, "document.version_created")
    assert announced["clean_url"] == (f"{ctx.settings.public_url}/documents/files/{artifacts['clean']}/"
                                      "projekt-do-konsultacji.docx")
    response = anonymous.get(announced["clean_url"].removeprefix(ctx.settings.public_url))
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "projekt-do-konsultacji.docx" in response.headers["Content-Disposition"]
    assert response.headers["ETag"].strip('"') == announced["sha256"]
    # The uploaded source may carry its author's metadata and comments: it stays private.
    assert anonymous.get(f"/documents/files/{artifacts['source']}/x.docx").status_code == 404
