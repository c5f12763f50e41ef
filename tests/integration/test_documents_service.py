"""The documents service on the S3 adapter (weed mini): an upload and a version build, stored and read back."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from services.common.db import upgrade
from services.common.settings import load_settings
from services.common.storage import S3ObjectStore
from services.documents.app import build, create_app
from services.documents.drafts import VERSION_CACHE, run_version_build
from services.documents.engine.demo_draft import make_demo_draft
from services.documents.models import Artifact

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_documents(tmp_path, s3_settings):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var")})
    upgrade("documents", settings.database_url("documents"))
    ctx = build(settings)
    ctx.store = S3ObjectStore(s3_settings)
    yield ctx, create_app(ctx=ctx).test_client()
    ctx.close()


def test_an_uploaded_draft_and_its_next_version_are_stored_in_s3_and_rebuilt_from_there(s3_documents):
    ctx, client = s3_documents
    headers = {"Authorization": f"Bearer {ctx.signer.issue('u-1', 'k@um.example.pl', 'coordinator')}"}
    draft = make_demo_draft("auto")
    uploaded = client.post("/documents/api/v1/documents", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(draft), "projekt.docx"), "title": "Projekt"})
    assert uploaded.status_code == 201, uploaded.json
    document_id = uploaded.json["id"]

    started = client.post(f"/documents/api/v1/documents/{document_id}/versions", headers=headers, json={"changes": [
        {"unit": "§ 4", "op": "replace", "old_text": "jawności", "text": "jawności i dostępności",
         "comment_refs": ["UW/2024/000001#1"]}]})
    assert started.status_code == 202, started.json
    ctx.extras.pop(VERSION_CACHE)  # the task replays version 1 from the source stored in S3
    run_version_build(ctx, started.json["id"])

    with ctx.db.transaction() as session:
        source = session.query(Artifact).filter_by(document_id=document_id, kind="source").one()
    assert ctx.store.get(source.key, source.version_id) == draft and source.version_id not in ("", "null")
    [version] = [v for v in client.get(f"/documents/api/v1/documents/{document_id}/versions", headers=headers).json
                 if v["number"] == 2]
    tracked_meta = next(f for f in version["files"] if f["kind"] == "tracked")
    stored = [o for o in ctx.store.list_versions(f"documents/{document_id}/v2/{tracked_meta['sha256'][:16]}-tracked.docx")]
    assert [o.sha256 for o in stored] == [tracked_meta["sha256"]]

    tracked = client.get(f"/documents/api/v1/documents/{document_id}/versions/2/tracked.docx", headers=headers)
    assert hashlib.sha256(tracked.data).hexdigest() == tracked_meta["sha256"]
    with zipfile.ZipFile(io.BytesIO(tracked.data)) as package:
        assert "dostępności" in package.read("word/document.xml").decode()
    units = client.get(f"/documents/api/v1/documents/{document_id}/versions/2/units", headers=headers).json
    assert "jawności i dostępności" in next(u["text"] for u in units if u["label"] == "§ 4")
