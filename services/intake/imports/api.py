"""`POST /intake/api/v1/consultations/<id>/imports`: a CSV or XLSX file of comments, all or nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import Schema, fields

from services.common.auth import current_staff, requires_role
from services.common.idempotency import idempotent
from services.common.web import ApiBlueprint, Invalid
from services.intake.imports import handlers

blp = ApiBlueprint("intake_imports", __name__, description="Bulk import of comments from CSV or XLSX")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOut(Schema):
    import_id = fields.String()
    rows = fields.Integer()
    submissions = fields.Integer()
    comments = fields.Integer()
    references = fields.List(fields.String(), metadata={"description": "first and last reference of each year"})
    survey_left_out = fields.List(fields.String(), allow_none=True, metadata={
        "description": "the file was an online survey's answers (Google or Microsoft Forms): its questions that "
                       "no column took; null for a file in the import's own columns"})


def uploaded_file() -> tuple[str, bytes]:
    """The file from a multipart form (field `file`), or the raw body (text/csv or XLSX, `?filename=`)."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.filename, upload.read()
    if request.mimetype in ("text/csv", XLSX):
        return request.args.get("filename") or ("import.xlsx" if request.mimetype == XLSX else "import.csv"), \
            request.get_data(cache=True)
    raise Invalid("send the file as multipart/form-data field 'file', or as a text/csv or XLSX body",
                  details={"file": ["required"]})


@blp.route("/consultations/<consultation_id>/imports", methods=["POST"])
@requires_role("coordinator")
@idempotent
@blp.response(201, ImportOut)
@blp.alt_response(422, description="the file's problems by row and column (`errors.rows`); nothing imported")
def import_comments(consultation_id: str) -> Any:
    """Import comments from CSV or XLSX (see the README's file format): every row is checked first, then all
    are written in one transaction with one `submission.received` per submission."""
    filename, content = uploaded_file()
    return handlers.import_comments(current_app.extensions["uwagi"], consultation_id, filename, content,
                                    actor=current_staff().email).__dict__
