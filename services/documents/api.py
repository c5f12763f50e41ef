"""Documents' JSON API: drafts, their versions and version builds, and consultation report builds."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import Response, current_app
from services.common.web import ApiBlueprint as Blueprint
from services.common.web import NotFound, file_response
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from services.common.auth import current_staff, requires_role
from services.common.idempotency import idempotent
from services.documents import council, drafts, handlers, publishing

blp = Blueprint("documents", __name__, description="Programme documents, versions and consultation reports")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _api_url(path: str) -> str:
    return f"{_ctx().settings.public_url}/documents/api/v1{path}"


# --- schemas ----------------------------------------------------------------------------------


class UploadForm(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.String(load_default=None, validate=validate.Length(min=1, max=300),
                          metadata={"description": "Defaults to the file name."})
    consultation_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    publish = fields.Boolean(load_default=True, metadata={
        "description": "Announce version 1 at once (default). With false the draft stays private until "
                       "POST /documents/<id>/publish, so its parsed units and warnings can be checked first."})


class UploadFiles(Schema):
    class Meta:
        unknown = EXCLUDE

    file = Upload(required=True, metadata={"description": "The draft as DOCX."})


class DocumentQuery(Schema):
    consultation = fields.String(load_default=None)


class DocumentOut(Schema):
    id = fields.String()
    consultation_id = fields.String(allow_none=True)
    title = fields.String()
    filename = fields.String()
    current_version = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True, metadata={"description": "Null while it is a draft."})
    published_by = fields.String(allow_none=True)
    parse_warnings = fields.List(fields.String(), metadata={"description": "What the parser noticed in the source."})
    parse_warnings_pl = fields.List(fields.String(), allow_none=True, metadata={
        "description": "The same warnings in Polish; null for a draft read before they were kept in Polish."})


class ArtifactOut(Schema):
    kind = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    download_url = fields.String()


class VersionOut(Schema):
    number = fields.Integer()
    parent_number = fields.Integer(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    comment_refs = fields.List(fields.String())
    changes = fields.List(fields.Dict())
    unit_count = fields.Integer()
    created_at = fields.DateTime()
    files = fields.Method("_files")

    def _files(self, row: Any) -> list[dict]:
        return ArtifactOut(many=True).dump([
            {"kind": a.kind, "sha256": a.sha256, "size": a.size, "media_type": a.media_type,
             "download_url": _api_url(f"/documents/{row.document_id}/versions/{row.number}/{a.kind}.docx")}
            for a in row.artifacts])


class UnitOut(Schema):
    id = fields.String()
    label = fields.String()
    kind = fields.String()
    parent = fields.String(allow_none=True)
    text = fields.String()


class UnitBrief(Schema):
    id = fields.String()
    label = fields.String()
    text = fields.String()


class DiffEntryOut(Schema):
    status = fields.String(metadata={"description": "inserted, deleted, changed or renumbered"})
    old = fields.Nested(UnitBrief, allow_none=True)
    new = fields.Nested(UnitBrief, allow_none=True)
    comment_refs = fields.List(fields.String())


class VersionRequest(Schema):
    changes = fields.List(fields.Dict(), load_default=None, metadata={
        "description": "Explicit changes in the CHANGES.json format; a change naming a comment replaces the "
                       "change derived from that comment's decision."})
    approved_by = fields.String(load_default=None, validate=validate.Length(min=1, max=200),
                                metadata={"description": "The deciding body, author of the tracked changes."})
    approved_at = fields.AwareDateTime(load_default=None)


class VersionBuildOut(Schema):
    id = fields.String()
    document_id = fields.String()
    state = fields.String(metadata={"description": "pending, running, done or failed"})
    progress = fields.Integer()
    parent_number = fields.Integer()
    number = fields.Integer()
    changes = fields.List(fields.Dict())
    unanchored = fields.List(fields.Dict(), metadata={
        "description": "Approved comments that could not be placed in the document; not applied."})
    approved_by = fields.String()
    approved_at = fields.DateTime()
    requested_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)


class ReportRequest(Schema):
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))
    internal = fields.Boolean(load_default=False, metadata={
        "description": "Internal edition: keeps contact data that the published report masks."})


class ReportBuildOut(Schema):
    id = fields.String()
    consultation_id = fields.String()
    state = fields.String(metadata={"description": "pending, running, done or failed"})
    progress = fields.Integer()
    language = fields.String()
    internal = fields.Boolean()
    requested_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    comment_count = fields.Integer()
    undecided_count = fields.Integer(metadata={"description": "Comments left out because they have no decision yet."})
    working_draft = fields.Boolean(metadata={"description": "Built before the review was completed; never published."})
    sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    media_type = fields.String()
    error = fields.String(allow_none=True)
    download_url = fields.Method("_download_url")
    exports = fields.Method("_exports", metadata={"description": "DOCX, XLSX and CSV of a finished build."})

    def _download_url(self, build: Any) -> str | None:
        return handlers.download_url(_ctx(), build)

    def _exports(self, build: Any) -> list[dict]:
        return handlers.exports(_ctx(), build)


class PublishRequest(Schema):
    class Meta:
        unknown = EXCLUDE

    report_build_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class PublishedFileOut(Schema):
    artifact_id = fields.String()
    kind = fields.String()
    public_url = fields.Method("_url")

    def _url(self, row: Any) -> str:
        return publishing.public_url(_ctx(), row.artifact_id, row.kind)


class PublicationOut(Schema):
    id = fields.String()
    consultation_id = fields.String()
    report_build_id = fields.String()
    document_id = fields.String(allow_none=True)
    document_version = fields.Integer(allow_none=True)
    published_by = fields.String()
    published_at = fields.DateTime()
    files = fields.List(fields.Nested(PublishedFileOut))


class CouncilHandoverIn(Schema):
    class Meta:
        unknown = EXCLUDE

    handed_over_on = fields.Date(required=True, metadata={
        "description": "when the draft went to the City Council: between the consultation's end and today"})
    letter_reference = fields.String(load_default="", validate=validate.Length(max=council.HANDOVER_LIMITS[
        "letter_reference"]), metadata={"description": "the covering letter's sign"})
    print_number = fields.String(load_default="", validate=validate.Length(max=council.HANDOVER_LIMITS["print_number"]),
                                 metadata={"description": "the council's print number (\"druk nr\"), once known"})
    note = fields.String(load_default="", validate=validate.Length(max=council.HANDOVER_LIMITS["note"]),
                         metadata={"description": "for staff only; never published"})
    adopted_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "when the council passed the resolution adopting the document, once it has; with "
                       "resolution_number, no earlier than the hand-over"})
    resolution_number = fields.String(load_default="", validate=validate.Length(max=council.HANDOVER_LIMITS[
        "resolution_number"]), metadata={"description": "the resolution's number, \"XII/123/24\""})


class CouncilHandoverOut(Schema):
    consultation_id = fields.String()
    handed_over_on = fields.Date()
    letter_reference = fields.String()
    print_number = fields.String()
    note = fields.String()
    adopted_on = fields.Date(allow_none=True)
    resolution_number = fields.String()
    revision = fields.Integer()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class DownloadQuery(Schema):
    format = fields.String(load_default="docx", validate=validate.OneOf(list(handlers.REPORT_FORMATS)))


def _attachment(content: bytes, media_type: str, name: str, sha256: str) -> Response:
    return file_response(content, media_type, name, sha256)


# --- documents and versions -------------------------------------------------------------------


@blp.route("/documents", methods=["POST"])
@requires_role("coordinator")
@idempotent  # a new document each time: a retried upload must not leave a twin draft
@blp.arguments(UploadForm, location="form")
@blp.arguments(UploadFiles, location="files")
@blp.response(201, DocumentOut)
def upload_document(form: dict, files: dict) -> Any:
    upload = files["file"]
    return drafts.upload_document(_ctx(), upload.read(), filename=upload.filename,
                                  title=form["title"] or PurePath(upload.filename or "dokument").stem,
                                  consultation_id=form["consultation_id"], actor=current_staff().email,
                                  publish=form["publish"])


@blp.route("/documents/<document_id>", methods=["DELETE"])
@requires_role("coordinator")
@blp.response(204)
def discard_draft(document_id: str) -> Any:
    """Discard a draft that was never published; 409 for a published document."""
    drafts.discard_draft(_ctx(), document_id, actor=current_staff().email)


@blp.route("/documents/<document_id>/publish", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key: a step of an existing document, not a creation; publishing twice changes nothing.
@blp.response(200, DocumentOut)
def publish_document(document_id: str) -> Any:
    """Announce a draft's version 1 as the consultation's document (document.version_created); 409 when the
    consultation already has a published one."""
    return drafts.publish_document(_ctx(), document_id, actor=current_staff().email)


@blp.route("/documents", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(DocumentQuery, location="query")
@blp.response(200, DocumentOut(many=True))
def list_documents(query: dict) -> Any:
    return drafts.list_documents(_ctx(), query["consultation"])


@blp.route("/documents/<document_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, DocumentOut)
def read_document(document_id: str) -> Any:
    return drafts.get_document(_ctx(), document_id)


@blp.route("/documents/<document_id>/versions", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, VersionOut(many=True))
def list_versions(document_id: str) -> Any:
    return drafts.list_versions(_ctx(), document_id)


@blp.route("/documents/<document_id>/versions", methods=["POST"])
@requires_role("coordinator")
@idempotent  # a new version build; once it is done, a retry would build yet another version
@blp.arguments(VersionRequest, required=False)
@blp.response(202, VersionBuildOut)
def request_version(data: dict | None, document_id: str) -> Any:
    data = data or {}
    return drafts.request_version(_ctx(), document_id, explicit=data.get("changes"), actor=current_staff().email,
                                  approved_by=data.get("approved_by"), approved_at=data.get("approved_at"))


@blp.route("/documents/<document_id>/versions/<number>/units", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, UnitOut(many=True))
def version_units(document_id: str, number: str) -> Any:
    return drafts.version_units(_ctx(), document_id, number)


@blp.route("/documents/<document_id>/versions/<old>/diff/<new>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, DiffEntryOut(many=True))
def version_diff(document_id: str, old: str, new: str) -> Any:
    return drafts.version_diff(_ctx(), document_id, old, new)


@blp.route("/documents/<document_id>/versions/<number>/<kind>.docx", methods=["GET"])
@requires_role("reviewer")
def download_version_file(document_id: str, number: str, kind: str) -> Any:
    artifact, content = drafts.version_file(_ctx(), document_id, number, kind)
    return _attachment(content, artifact.media_type, f"dokument-{document_id[:8]}-v{number}-{kind}.docx",
                       artifact.sha256)


@blp.route("/documents/<document_id>/builds", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, VersionBuildOut(many=True))
def list_version_builds(document_id: str) -> Any:
    return drafts.list_version_builds(_ctx(), document_id)


@blp.route("/documents/<document_id>/builds/<build_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, VersionBuildOut)
def read_version_build(document_id: str, build_id: str) -> Any:
    return drafts.get_version_build(_ctx(), document_id, build_id)


# --- reports -------------------------------------------------------------------------------


@blp.route("/consultations/<consultation_id>/report", methods=["POST"])
@requires_role("coordinator")
@idempotent  # a new report build each time
@blp.arguments(ReportRequest, required=False)
@blp.response(202, ReportBuildOut)
def request_report(data: dict | None, consultation_id: str) -> Any:
    data = data or {}
    return handlers.request_report(_ctx(), consultation_id, language=data.get("language", "pl"),
                                   internal=data.get("internal", False), actor=current_staff().email)


@blp.route("/consultations/<consultation_id>/reports", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, ReportBuildOut(many=True))
def list_reports(consultation_id: str) -> Any:
    return handlers.list_reports(_ctx(), consultation_id)


@blp.route("/reports/<build_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, ReportBuildOut)
def read_report(build_id: str) -> Any:
    return handlers.get_report(_ctx(), build_id)


@blp.route("/reports/<build_id>/download", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(DownloadQuery, location="query")
def download_report(query: dict, build_id: str) -> Any:
    build, artifact, content = handlers.report_content(_ctx(), build_id, query["format"])
    name = handlers.report_download_name(_ctx(), build, query["format"])
    return _attachment(content, artifact.media_type, name, artifact.sha256)


@blp.route("/consultations/<consultation_id>/publications", methods=["POST"])
@requires_role("coordinator")
@idempotent  # a new publication, and report.published goes out with it
@blp.arguments(PublishRequest)
@blp.response(201, PublicationOut)
def publish(data: dict, consultation_id: str) -> Any:
    return publishing.publish(_ctx(), consultation_id, data["report_build_id"], actor=current_staff().email)


@blp.route("/consultations/<consultation_id>/publications", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, PublicationOut(many=True))
def list_publications(consultation_id: str) -> Any:
    return publishing.list_publications(_ctx(), consultation_id)


@blp.route("/consultations/<consultation_id>/council-handover", methods=["PUT"])
@requires_role("coordinator")
@blp.arguments(CouncilHandoverIn)
@blp.response(200, CouncilHandoverOut)
def record_council_handover(data: dict, consultation_id: str) -> Any:
    """Record (or correct) when the draft went to the City Council; emits `council.handover_recorded` when anything
    changed. The same body sent again changes nothing. 409 before the results are published, 422 for a date before
    the consultation's end or in the future, or for a resolution without its number or date."""
    entry = council.HandoverEntry(data["handed_over_on"], data["letter_reference"].strip(),
                                  data["print_number"].strip(), data["note"].strip(), data["adopted_on"],
                                  data["resolution_number"].strip())
    handover, _changed = council.record_handover(_ctx(), consultation_id, entry, actor=current_staff().email)
    return handover


@blp.route("/consultations/<consultation_id>/council-handover", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, CouncilHandoverOut)
def read_council_handover(consultation_id: str) -> Any:
    handover = council.recorded_handover(_ctx(), consultation_id)
    if handover is None:
        raise NotFound("przekazania Radzie Miasta nie zapisano (the hand-over to the City Council is not recorded)")
    return handover
