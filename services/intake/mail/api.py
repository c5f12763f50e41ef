"""Staff JSON API of e-mail intake: the mails looked at, and the stored mail and attachments to transcribe from."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from services.common.auth import requires_role
from services.common.web import ApiBlueprint as Blueprint
from services.common.web import file_response
from services.intake.mail import staff
from services.intake.mail.importer import CREATED, IGNORED, NEEDS_REVIEW, REJECTED
from services.intake.mail.transcribe import NO_COMMENTS, TRANSCRIBED

blp = Blueprint("intake_mail", __name__, description="E-mail intake: mails received, kept and refused")


class MailQuery(Schema):
    consultation = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(
        [CREATED, NEEDS_REVIEW, TRANSCRIBED, NO_COMMENTS, IGNORED, REJECTED]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class AttachmentOut(Schema):
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    role = fields.String(metadata={"description": "form (comments read from it), annotated_draft (the draft returned "
                                                  "with Word comments or tracked changes), letter (its text read "
                                                  "for the transcription page), scan (PDF or image), other"})
    forwarded = fields.Boolean(metadata={"description": "came inside a forwarded message"})
    inside = fields.String(metadata={"description": "the file it was taken out of (Outlook's winmail.dat), if any"})
    signed_by = fields.List(fields.String(), metadata={
        "description": "who signed the electronic signature it is or came out of, as the certificates name them; "
                       "the signature is not verified"})


class MailOut(Schema):
    id = fields.String()
    message_id = fields.String()
    status = fields.String()
    reason = fields.String()
    source = fields.String()
    consultation_id = fields.String(allow_none=True)
    submission_id = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    sender = fields.String()
    subject = fields.String()
    received_at = fields.AwareDateTime(metadata={"description": "when the mail server took it (the deadline's time)"})
    date_header = fields.String(metadata={"description": "the sender's Date: header, for the record only"})
    size = fields.Integer()
    eml_sha256 = fields.String()
    body_text = fields.String(metadata={"description": "what the sender wrote, without quoted history or signature"})
    attachments = fields.List(fields.Nested(AttachmentOut))
    closing = fields.Dict(allow_none=True, metadata={
        "description": "{reason, note, by, at} when staff closed it as holding no comments (status no_comments): "
                       "reason is question, booking, reply or other"})


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/staff/mails", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(MailQuery, location="query")
@blp.response(200, MailOut(many=True))
def list_mails(query: dict) -> Any:
    """Mails intake has looked at, newest first; `status=needs_review` lists what staff must transcribe."""
    return staff.list_mails(_ctx(), consultation_id=query["consultation"], status=query["status"],
                            limit=query["limit"], offset=query["offset"])


@blp.route("/staff/mails/<mail_id>/eml", methods=["GET"])
@requires_role("reviewer")
def download_eml(mail_id: str) -> Any:
    """The whole mail as received."""
    stored = staff.stored_eml(_ctx(), mail_id)
    return file_response(stored.content, stored.media_type, stored.filename, stored.sha256)


@blp.route("/staff/mails/<mail_id>/attachments/<sha256>", methods=["GET"])
@requires_role("reviewer")
def download_attachment(mail_id: str, sha256: str) -> Any:
    """One attachment of the mail, by its sha256."""
    stored = staff.stored_attachment(_ctx(), mail_id, sha256)
    return file_response(stored.content, stored.media_type, stored.filename, stored.sha256)


@blp.route("/staff/mails/<mail_id>/attachments/<sha256>/text", methods=["GET"])
@requires_role("reviewer")
@blp.alt_response(404, description="no such mail, no such attachment, or no text was read from it")
def attachment_text(mail_id: str, sha256: str) -> Any:
    """The text intake read from an attached letter (role `letter`: a DOCX, ODT, Word 97, RTF, plain-text or PDF
    letter), as the transcription page shows it, UTF-8 plain text."""
    stored = staff.stored_letter_text(_ctx(), mail_id, sha256)
    return file_response(stored.content, "text/plain; charset=utf-8", stored.filename, stored.sha256)
