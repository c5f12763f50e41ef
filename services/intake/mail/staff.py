"""What staff read of the mails intake has looked at: the list, and the stored mail and attachments to transcribe."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import or_, select

from services.common.runtime import ServiceContext
from services.common.web import NotFound
from services.intake.models import InboundMail, Submission

log = logging.getLogger("uwagi.intake.mail")

# Served with their own type; anything else is a download of bytes (a browser must not render a mailed file).
_SHOWN_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff", "message/rfc822",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.oasis.opendocument.text"}


@dataclass(frozen=True)
class StoredFile:
    content: bytes
    media_type: str
    filename: str
    sha256: str


def list_mails(ctx: ServiceContext, *, consultation_id: str | None = None, status: str | None = None,
               limit: int = 100, offset: int = 0, or_unassigned: bool = False) -> list[dict]:
    """Newest first, each with its submission's reference when it made one; `or_unassigned`: with a consultation,
    also the mails no consultation was found for (most refused mails are refused before one is)."""
    query = (select(InboundMail, Submission.reference).outerjoin(Submission, Submission.id == InboundMail.submission_id)
             .order_by(InboundMail.received_at.desc(), InboundMail.id).limit(limit).offset(offset))
    if consultation_id:
        query = query.where(or_(InboundMail.consultation_id == consultation_id, InboundMail.consultation_id.is_(None))
                            if or_unassigned else InboundMail.consultation_id == consultation_id)
    if status:
        query = query.where(InboundMail.status == status)
    with ctx.db.transaction() as session:
        return [{**{c.name: getattr(mail, c.name) for c in InboundMail.__table__.columns if c.name != "body_text"},
                 "body_text": mail.body_text, "reference": reference} for mail, reference in session.execute(query)]


# What a refused mail's recorded reason (services.intake.mail.importer) means for the clerk who writes back
_REFUSALS = (("hostile attachment", "hostile"), ("attachment ", "unreadable_attachment"),
             ("no open consultation", "no_consultation"), ("refused by the consultation", "refused_by_consultation"),
             ("the mail has no text", "empty"), ("too_large", "too_large"), ("too_many_parts", "broken"),
             ("broken_mime", "broken"), ("no_sender", "no_sender"))


def refusal_kind(reason: str) -> str:
    """Pure: the kind of a refused mail's reason, as a stable key ("other" for one not foreseen)."""
    return next((kind for prefix, kind in _REFUSALS if reason.startswith(prefix)), "other")


def _mail(ctx: ServiceContext, mail_id: str) -> InboundMail:
    with ctx.db.transaction() as session:
        mail = session.get(InboundMail, mail_id)
        if mail is None:
            raise NotFound("no such mail")
        return mail


def stored_eml(ctx: ServiceContext, mail_id: str) -> StoredFile:
    mail = _mail(ctx, mail_id)
    if not mail.eml_key:
        raise NotFound("this mail was refused and not kept")
    return StoredFile(ctx.store.get(mail.eml_key), "message/rfc822", f"{mail_id}.eml", mail.eml_sha256)


def _attachment(mail: InboundMail, sha256: str) -> dict:
    attachment = next((a for a in mail.attachments if a["sha256"] == sha256), None)
    if attachment is None:
        raise NotFound("this mail has no such attachment")
    return attachment


def stored_attachment(ctx: ServiceContext, mail_id: str, sha256: str) -> StoredFile:
    attachment = _attachment(_mail(ctx, mail_id), sha256)
    media_type = attachment["media_type"] if attachment["media_type"] in _SHOWN_TYPES else "application/octet-stream"
    return StoredFile(ctx.store.get(attachment["key"]), media_type, attachment["filename"] or sha256, sha256)


def stored_letter_text(ctx: ServiceContext, mail_id: str, sha256: str) -> StoredFile:
    attachment = _attachment(_mail(ctx, mail_id), sha256)
    if not attachment.get("text_key"):
        raise NotFound("no text was read from this attachment")
    name = (attachment["filename"] or sha256[:12]).rsplit(".", 1)[0] + ".txt"
    return StoredFile(ctx.store.get(attachment["text_key"]), "text/plain; charset=utf-8", name, sha256)


@dataclass(frozen=True)
class LetterText:
    filename: str
    sha256: str
    text: str | None  # None: kept, but the object store could not give it now
    ocr: bool = False  # read by OCR from a scan: letters may be misread


def letter_texts(ctx: ServiceContext, mail: InboundMail) -> list[LetterText]:
    """The text intake read from each letter attached to `mail` (role "letter") or by OCR from each scan (role
    "scan"), in the mail's order."""
    letters = []
    for attachment in mail.attachments:
        if attachment.get("role") not in ("letter", "scan") or not attachment.get("text_key"):
            continue
        try:
            text = ctx.store.get(attachment["text_key"]).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the page still shows the mail and the file's link; the text is a help
            log.warning("letter text %s of mail %s not read from the object store", attachment["sha256"], mail.id,
                        exc_info=True)
            text = None
        letters.append(LetterText(attachment["filename"] or attachment["sha256"][:12], attachment["sha256"], text,
                                  ocr=bool(attachment.get("ocr"))))
    return letters


@dataclass(frozen=True)
class ScannedForm:
    filename: str
    rows: tuple  # rows.FormRow, as OCR read them from the printed form's table
    organization: str


def scanned_form(mail: InboundMail) -> ScannedForm | None:
    """The first printed comment form OCR read rows from among the mail's scans, or None."""
    from services.intake.mail.rows import FormRow

    for attachment in mail.attachments:
        found = attachment.get("ocr_form") if attachment.get("role") == "scan" else None
        if isinstance(found, dict) and found.get("rows"):
            rows = tuple(FormRow(*(str(value) for value in row[:4])) for row in found["rows"]
                         if isinstance(row, list) and len(row) >= 4)
            if rows:
                return ScannedForm(attachment["filename"] or attachment["sha256"][:12], rows,
                                   str(found.get("organization") or ""))
    return None


def text_to_transcribe(mail: InboundMail, letters: list[LetterText]) -> str:
    """The mail's own words, then each attached letter's: what the suggested rows are read from."""
    return "\n\n".join([mail.body_text or ""] + [letter.text or "" for letter in letters])
