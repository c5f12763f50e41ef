"""Documents' JSON API: report builds (document versions arrive with the document-engine issue)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.common.auth import current_staff, requires_role
from services.documents import handlers

blp = Blueprint("documents", __name__, description="Programme documents, versions and consultation reports")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


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
    sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    media_type = fields.String()
    error = fields.String(allow_none=True)
    download_url = fields.Method("_download_url")

    def _download_url(self, build: Any) -> str | None:
        return handlers.download_url(_ctx(), build)


@blp.route("/consultations/<consultation_id>/report", methods=["POST"])
@requires_role("coordinator")
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
def download_report(build_id: str) -> Any:
    build, content = handlers.report_content(_ctx(), build_id)
    name = f"raport-konsultacji-{build.consultation_id[:8]}-{build.sha256[:8]}.docx"
    return Response(content, mimetype=build.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "ETag": build.sha256})
