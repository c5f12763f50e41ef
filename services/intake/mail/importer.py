"""One e-mail to one submission: the use case behind the IMAP poll, the drop folder and `uwagi intake import-eml`.

Every mail leaves one `inbound_mails` row, whatever becomes of it, and the unique Message-ID makes a
second import of the same mail a `duplicate`. Accepted mails (`created`, `needs_review`) are stored
whole in the object store with their attachments and go through the web form's own path
(`handlers.record_submission`), in the same transaction as their row, so the receipt e-mail comes
from `submission.received` as for any submission. Auto-replies and bounces are `ignored` (never
answered: that is how two robots loop); hostile, oversized or broken mails are `rejected`, and the
reason is logged and kept.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from services.common.docx_safety import compound_file_kind
from services.common.events import is_contract_email
from services.common.runtime import ServiceContext
from services.common.storage import ObjectNotFound, ObjectStore, StoredObject
from services.common.web import DomainError
from services.intake import domain
from services.intake.handlers import record_submission
from services.intake.mail import storable
from services.intake.mail.form import FilledForm, FormUnreadable, assemble, form_kind, read_form, workbook_grid
from services.intake.mail.bounce import DeliveryReport, delivery_summary
from services.intake.mail.letter import ScannedLetter, letter_text, scanned_letter
from services.intake.mail.links import shared_files
from services.intake.mail.ocr import ocr_ready
from services.intake.mail.pdf_form import is_pdf
from services.intake.mail.parse import Attachment, MailRefused, ParsedMail, parse_mail
from services.intake.mail.signed import everyone_named, is_signature_envelope, signed_content
from services.intake.mail.outlook_msg import read_msg
from services.intake.mail.tnef import tnef_files
from services.intake.mail.word97 import read_word97
from services.intake.models import Consultation, InboundMail

log = logging.getLogger("uwagi.intake.mail")

CREATED, DUPLICATE, IGNORED, NEEDS_REVIEW, REJECTED = "created", "duplicate", "ignored", "needs_review", "rejected"

# Files no comment needs and mail filters refuse: programs and scripts, whatever they are called.
_HOSTILE_EXTENSIONS = {"exe", "com", "scr", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "msi", "msp",
                       "jar", "ps1", "hta", "cpl", "lnk", "reg", "dll", "iso", "img", "vhd", "docm", "dotm", "xlsm",
                       "pptm", "apk", "app", "sh"}
_HOSTILE_MAGIC = (b"MZ", b"\x7fELF", b"#!")
_SCAN_TYPES = ("application/pdf", "image/")
MAX_PDF_FORMS = 5  # PDFs of one mail read as forms, each in a child process; the rest are files for staff
MAX_SCANNED_ROWS = 100  # rows of a scanned form kept for the transcription page
MAX_CELL_CHARS = 10_000  # of each of its cells: what a comment's field holds
MAX_SCANS_READ = 3  # scans of one mail read by OCR (seconds a page), the largest first; the rest are pictures


@dataclass(frozen=True)
class ImportResult:
    message_id: str
    status: str
    reference: str | None = None
    comments: int = 0
    reason: str = ""

    def as_json(self, file: str) -> dict:
        return {"file": file, "message_id": self.message_id, "status": self.status, "reference": self.reference,
                "comments": self.comments, **({"reason": self.reason} if self.reason else {})}


class MailTransientError(RuntimeError):
    """The mail could not be imported now (database or object store down); leave it to be polled again."""


def import_mail(ctx: ServiceContext, raw: bytes, *, received_at: datetime, source: str,
                consultation_id: str | None = None) -> ImportResult:
    """Import one raw mail received by the server at `received_at` (never the Date: header)."""
    try:
        parsed = parse_mail(raw, max_bytes=ctx.settings.max_mail_bytes, banners=ctx.settings.mail_banners)
    except MailRefused as refused:
        return refuse_mail(ctx, raw, refused.code, refused.reason, received_at=received_at, source=source)
    if _already_seen(ctx, parsed.message_id):
        log.info("mail %s from %s: duplicate (%s)", parsed.message_id, parsed.sender_address, source)
        return ImportResult(parsed.message_id, DUPLICATE)
    automatic = parsed.automatic or _sent_by_us(ctx, parsed.sender_address)
    if automatic:
        log.info("mail %s from %s ignored: automatic (%s)", parsed.message_id, parsed.sender_address, automatic)
        report = parsed.delivery_report
        reason = f"automatic: {automatic}" + (f"; {delivery_summary(report)}" if report is not None else "")
        return _record(ctx, parsed, raw, IGNORED, reason, received_at=received_at, source=source,
                       failed_delivery=report if report is not None and report.permanent else None)
    hostile = next((a for a in parsed.attachments if _is_hostile(a)), None)
    if hostile is not None:
        return _record(ctx, parsed, raw, REJECTED, f"hostile attachment {hostile.filename!r} ({hostile.media_type})",
                       received_at=received_at, source=source)
    forms: list[tuple[Attachment, FilledForm]] = []
    unformed: list[Attachment] = []  # no form read from them: perhaps a letter with the comments
    pdfs = 0
    for attachment in parsed.attachments:
        # Each PDF is read in a child process of its own: a mail of a hundred PDFs must not cost a hundred
        pdf = is_pdf(attachment.data)
        pdfs += pdf
        if pdf and pdfs > MAX_PDF_FORMS:
            unformed.append(attachment)
            continue
        try:
            form = read_form(attachment.filename, attachment.media_type, attachment.data)
        except FormUnreadable as unreadable:
            reason = f"attachment {attachment.filename!r} refused: {unreadable.code} ({unreadable.reason})"
            return _record(ctx, parsed, raw, REJECTED, reason, received_at=received_at, source=source)
        # The same file twice (attached again, or also inside the forwarded mail) is one form, not twice the comments
        if form is not None and form.rows and attachment.sha256 not in {a.sha256 for a, _form in forms}:
            forms.append((attachment, form))
        elif form is None or not form.rows:  # an empty form's comments may be written under its table: a letter
            unformed.append(attachment)
    target = consultation_id or _consultation_for(ctx, parsed, received_at)
    if target is None:
        return _record(ctx, parsed, raw, REJECTED, "no open consultation takes comments at the addresses "
                       f"{', '.join(parsed.recipients) or '(none)'}", received_at=received_at, source=source)
    # So is the same form in two formats (the DOCX and the PDF made of it, attached together): both are forms
    distinct: list[FilledForm] = []
    for _attachment, form in forms:
        if not any(_same_rows(form, earlier) for earlier in distinct):
            distinct.append(form)
    rows = [row for form in distinct for row in form.rows]
    in_text = None if rows else _form_in_text(parsed)  # the form's table pasted into the mail itself
    if in_text is not None:
        rows = list(in_text.rows)
    if rows:
        status = CREATED
        drafts = tuple(domain.CommentDraft(section=r.section, current_text=r.current_text, proposal=r.proposal,
                                           justification=r.justification) for r in rows)
    elif parsed.body_text.strip() or parsed.attachments:
        status = NEEDS_REVIEW
        drafts = (_placeholder(parsed),)
    else:
        return _record(ctx, parsed, raw, REJECTED, "the mail has no text, no form and no attachment",
                       received_at=received_at, source=source, consultation_id=target)
    submitter = _submitter(parsed, forms[0][1] if forms else in_text)
    command = domain.SubmitComments(consultation_id=target, submitter=submitter, comments=drafts, channel="email")
    letters: dict[str, str] = {}
    unread: dict[str, str] = {}  # sha256 -> why staff must open the file themselves (decided once: it reads it)
    scanned: dict[str, ScannedLetter] = {}  # sha256 -> what OCR read from a scan
    if status == NEEDS_REVIEW:
        letters = {a.sha256: text for a in unformed if (text := _letter(a))}
        unread = {a.sha256: kind for a in unformed if a.sha256 not in letters and (kind := unread_kind(a))}
        scanned = _scanned(ctx, [a for a in unformed if a.sha256 not in letters and a.sha256 not in unread])
    stored = _store(ctx, raw, parsed, forms, letters, unread, scanned)
    try:
        with ctx.transaction() as session:
            receipt = record_submission(ctx, session, command, received_at=received_at,
                                        needs_review=status == NEEDS_REVIEW,
                                        signed_by=everyone_named(a.signed_by for a in parsed.attachments))
            session.flush()  # the submission's row first: the mail's row points at it
            note = "; ".join(filter(None, (
                _unread_note(parsed.attachments, unread) if status == NEEDS_REVIEW else (
                    IN_TEXT_NOTE if in_text is not None else ""),
                _shared_note(parsed.body_text) if status == NEEDS_REVIEW else "",
                _signed_note(parsed.attachments))))
            session.add(_row(parsed, raw, status, note, received_at=received_at, source=source, consultation_id=target,
                             submission_id=receipt.submission_id, stored=stored))
    except IntegrityError:
        if _already_seen(ctx, parsed.message_id):
            return ImportResult(parsed.message_id, DUPLICATE)  # the same mail, imported meanwhile by another poller
        raise
    except DomainError as refused:  # the consultation does not take e-mail, the deadline passed, not yet open …
        return _record(ctx, parsed, raw, REJECTED, f"refused by the consultation: {refused}", received_at=received_at,
                       source=source, consultation_id=target)
    log.info("mail %s from %s: %s %s with %d comment(s)%s", parsed.message_id, parsed.sender_address, status,
             receipt.reference, len(rows), " (late)" if receipt.late else "")
    return ImportResult(parsed.message_id, status, receipt.reference, len(rows))


def _same_rows(form: FilledForm, other: FilledForm) -> bool:
    """The same comments, however each format wrapped their lines (a PDF's cell may lose a paragraph break)."""
    def words(rows) -> list[tuple[str, ...]]:
        return [tuple(" ".join(value.split()) for value in (r.section, r.current_text, r.proposal, r.justification))
                for r in rows]

    return words(form.rows) == words(other.rows)


def _already_seen(ctx: ServiceContext, message_id: str) -> bool:
    with ctx.db.transaction() as session:
        return session.scalar(select(InboundMail.id).where(InboundMail.message_id == message_id)) is not None


def _sent_by_us(ctx: ServiceContext, address: str) -> str | None:
    """Our own mail coming back with its headers stripped (a forwarding rule, a gateway) is never answered again.

    Notify marks what it sends `Auto-Submitted: auto-generated`, which `parse_mail` already recognises; the
    consultation's contact address is not ours alone (staff forward residents' mail from it), so only the
    system's sender counts here."""
    return f"sent from this system's own address {address}" if address and address == ctx.settings.mail_from.lower() \
        else None


def _is_hostile(attachment: Attachment) -> bool:
    return attachment.extension in _HOSTILE_EXTENSIONS or attachment.data.startswith(_HOSTILE_MAGIC) or \
        attachment.media_type in {"application/x-msdownload", "application/x-msdos-program", "application/x-sh",
                                  "application/javascript", "application/x-dosexec"}


def _consultation_for(ctx: ServiceContext, parsed: ParsedMail, received_at: datetime) -> str | None:
    """The consultation whose contact address the mail was sent to; else the only one taking e-mail now."""
    with ctx.db.transaction() as session:
        candidates = list(session.scalars(select(Consultation).where(
            Consultation.state.in_([domain.State.OPEN.value, domain.State.CLOSED.value]),
            Consultation.opens_at <= received_at,
            or_(Consultation.closes_at >= received_at, Consultation.late_policy == domain.LatePolicy.FLAG.value))))
    accepting = [c for c in candidates if "email" in (c.channels or [])]
    addressed = [c for c in accepting if c.contact_email and c.contact_email.lower() in parsed.recipients]
    if len(addressed) == 1:
        return addressed[0].id
    open_now = [c for c in accepting if c.closes_at >= received_at]
    if len(addressed) > 1:
        open_now = [c for c in addressed if c.closes_at >= received_at]
    return open_now[0].id if len(open_now) == 1 else None


def _submitter(parsed: ParsedMail, form: FilledForm | None) -> domain.Submitter:
    """Who the submission is from: the form's details, else the mail's sender. An address the event contract would
    refuse (a broken From: "<-oo:bar.de<") is no address: the comments are kept, no receipt can be sent."""
    details = form.submitter if form is not None else None
    name = (details.name if details and details.name else parsed.sender_name) or parsed.sender_address
    email_address = next((address[:254] for address in ((details.email if details else ""), parsed.sender_address)
                          if address and is_contract_email(address[:254])), "")
    organization = details.organization if details and details.organization else None
    return domain.Submitter(name=name[:200], email=email_address[:254] or None, publish_consent=False,
                            organization=organization[:300] if organization else None)


_TNEF_MAGIC = b"\x78\x9f\x3e\x22"
TNEF, WORD_97, EXCEL_97, OUTLOOK_ITEM, ENCRYPTED = "tnef", "word97", "excel97", "outlook_msg", "encrypted"
_UNREAD_NOTES = {
    OUTLOOK_ITEM: "{name!r} is an Outlook item (.msg), a mail dragged into this one: the form may be attached to it; "
                  "open it in Outlook",
    TNEF: "{name!r} is Outlook's TNEF wrapper (a mail sent in Rich Text): the form may be inside it; open it in "
          "Outlook or a TNEF viewer, or ask the sender to send it again as HTML or plain text",
    WORD_97: "{name!r} is a Word 97-2003 document that could not be read (damaged, password-protected or not Word's "
             "own); transcribe it or ask the sender for DOCX",
    EXCEL_97: "{name!r} is an Excel 97-2003 workbook that could not be read (damaged or password-protected); "
              "transcribe it or ask the sender for XLSX",
    ENCRYPTED: "{name!r} is an S/MIME or OpenPGP envelope (an encrypted mail, or one signed with its text inside): it "
               "cannot be read here; ask the sender to send the comments again without encryption",
}
_ENVELOPE_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime", "application/pgp-encrypted"}


def unread_kind(attachment: Attachment) -> str | None:
    """TNEF, WORD_97, EXCEL_97, OUTLOOK_ITEM or ENCRYPTED for a file that may hold the form in a format not read
    here, else None.

    Word 97-2003 documents and Excel 97-2003 workbooks are read like DOCX and XLSX, and Outlook's winmail.dat
    (TNEF) and Outlook items (.msg) are unpacked by the parser (their files become attachments of the mail);
    only a file of these kinds that cannot be read (encrypted, damaged, an older format) is noted, and the mail
    waits for staff with the file kept."""
    name, kind, data = attachment.filename.lower(), attachment.media_type, attachment.data
    if kind in _ENVELOPE_TYPES or attachment.extension in {"p7m", "pgp"} \
            or data.lstrip()[:27] == b"-----BEGIN PGP MESSAGE-----":
        # a signed envelope was opened by the parser (what it held is an attachment of its own); an encrypted one
        # cannot be
        return None if signed_content(attachment.filename, data) is not None else ENCRYPTED
    if kind == "application/ms-tnef" or name == "winmail.dat" or data.startswith(_TNEF_MAGIC):
        return None if tnef_files(data) else TNEF  # the files inside are attachments of their own
    if data.startswith(b"PK"):  # a zip (a DOCX without a comment table, however it is labelled) is no .doc
        return None
    compound = compound_file_kind(data)  # what the file's own streams say, whatever its name
    if compound is not None and read_msg(data) is not None:
        return None  # an Outlook item that was read: its files are attachments of the mail, its text the body's
    if attachment.extension == "msg" or kind == "application/vnd.ms-outlook":
        return OUTLOOK_ITEM
    if attachment.extension in {"xls", "xlt"} or kind == "application/vnd.ms-excel" or compound == "excel":
        return None if compound == "excel" and workbook_grid(data) is not None else EXCEL_97  # only when unreadable
    if attachment.extension in {"doc", "dot"} or kind == "application/msword" or compound == "word" or (
            compound is not None and attachment.extension not in {"ppt", "msg", "msi"}):
        return None if compound == "word" and read_word97(data) is not None else WORD_97  # noted only when unreadable
    return None


def _unread_note(attachments: tuple[Attachment, ...], unread: dict[str, str]) -> str:
    """The reason a needs_review mail gives staff (and the log) about the files no form was read from."""
    named = dict.fromkeys(_UNREAD_NOTES[unread[a.sha256]].format(name=a.filename) for a in attachments
                          if a.sha256 in unread)  # the same file twice is noted once
    return "; ".join(named)


def _placeholder(parsed: ParsedMail) -> domain.CommentDraft:
    """The one comment of a submission staff must transcribe: the mail's own words, or where to find them."""
    names = ", ".join(a.filename for a in parsed.attachments)
    if parsed.body_text.strip():
        text = parsed.body_text.strip()
        if names:
            text += f"\n\n[Załączniki: {names}]"
    else:
        text = f"[Uwagi w załącznikach, do przepisania: {names}]"
    return domain.CommentDraft(section="", proposal=text[:20000])


IN_TEXT_NOTE = "comments read from the table of comments in the e-mail's text"


def _shared_note(text: str) -> str:
    """Which files the mail links to instead of attaching them (`services.intake.mail.links`)."""
    shared = shared_files(text)
    named = ", ".join(dict.fromkeys(f"{file.service} ({file.name})" if file.name else file.service
                                    for file in shared))
    return f"links to shared files instead of attaching them: {named} (Uwagi does not open links)" if shared else ""


def _signed_note(attachments: tuple[Attachment, ...]) -> str:
    """Which files came signed electronically, and by whom as their certificates say; the signature itself is
    not verified here (`services.intake.mail.signed`)."""
    containers = {a.inside for a in attachments if a.inside}  # an opened envelope: what it held is named instead
    signed = dict.fromkeys(
        f"{a.filename!r} {'is an electronic signature' if is_signature_envelope(a.data) else 'signed electronically'}"
        f" by {', '.join(a.signed_by)}" for a in attachments if a.signed_by and a.filename not in containers)
    return "; ".join(signed) + " (signatures are not verified by Uwagi)" if signed else ""


def _form_in_text(parsed: ParsedMail) -> FilledForm | None:
    """The comment table pasted into the mail's HTML (the form's table copied from Word into Outlook), read as a
    form's table is, with the mail's own lines for the submitter's details; None without one that has rows."""
    if not parsed.body_tables:
        return None
    form = assemble(parsed.body_text.splitlines(), [list(grid) for grid in parsed.body_tables])
    return form if form is not None and form.rows else None


def _letter(attachment: Attachment) -> str:
    """The text of an attached letter (a document without a comment table, a PDF with a text layer), or ""."""
    if is_pdf(attachment.data):
        return letter_text("pdf", attachment.data)
    if attachment.media_type == "text/plain" or attachment.extension == "txt":  # Notepad's letter
        return letter_text("txt", attachment.data)
    return letter_text(form_kind(attachment.filename, attachment.media_type, attachment.data), attachment.data)


def _scanned(ctx: ServiceContext, attachments: list[Attachment]) -> dict[str, ScannedLetter]:
    """What OCR reads from the mail's scans (image-only PDFs, pictures), by sha256; none without Tesseract."""
    languages = ctx.settings.ocr_languages
    scans = [a for a in attachments if a.media_type.startswith(_SCAN_TYPES)]  # what `_store` keeps as a scan
    if not scans or languages is None or not ocr_ready(languages):
        return {}
    # A signature's logo is small and a scanned page is not: read the largest, and each file once
    largest = sorted({a.sha256: a for a in scans}.values(), key=lambda a: len(a.data), reverse=True)
    return {a.sha256: read for a in largest[:MAX_SCANS_READ] if (read := scanned_letter(a.data, languages))}


def _store(ctx: ServiceContext, raw: bytes, parsed: ParsedMail, forms: list[tuple[Attachment, FilledForm]],
           letters: dict[str, str], unread: dict[str, str], scanned: dict[str, ScannedLetter]) -> dict:
    """The whole mail and each attachment, content-addressed (a re-import writes the same keys); the text read
    from a letter or by OCR from a scan beside it, for the transcription page."""
    # a filled form, or a returned draft whose Word comments and tracked changes were read as the comments
    form_roles = {attachment.sha256: "annotated_draft" if form.annotated else "form" for attachment, form in forms}
    try:
        eml_sha = hashlib.sha256(raw).hexdigest()
        eml = _put_once(ctx.store, f"intake/mail/{eml_sha}.eml", raw, "message/rfc822")
        attachments = []
        for attachment in parsed.attachments:
            digest = attachment.sha256
            stored = _put_once(ctx.store, f"intake/mail/attachments/{digest}", attachment.data,
                               attachment.media_type or "application/octet-stream")
            role = form_roles.get(digest) or ("letter" if digest in letters else
                                              "scan" if attachment.media_type.startswith(_SCAN_TYPES) else "other")
            why = unread.get(digest) if role == "other" else None
            text = {}
            read = letters.get(digest) if role == "letter" else None
            ocr = scanned.get(digest) if role == "scan" else None
            if read or ocr:
                text_key = _put_once(ctx.store, f"intake/mail/attachments/{digest}.txt",
                                     (read or ocr.text).encode("utf-8"), "text/plain; charset=utf-8").key
                text = {"text_key": text_key}
            if ocr:  # a printed form's rows, for staff to check against the scan: OCR may misread any word
                text["ocr"] = True
                if ocr.form is not None:
                    text["ocr_form"] = {"rows": [[cell[:MAX_CELL_CHARS] for cell in (r.section, r.current_text,
                                                                                     r.proposal, r.justification)]
                                                 for r in ocr.form.rows[:MAX_SCANNED_ROWS]],
                                        "organization": ocr.form.submitter.organization}
            attachments.append({"filename": attachment.filename, "media_type": attachment.media_type,
                                "size": len(attachment.data), "sha256": digest, "key": stored.key, "role": role,
                                "forwarded": attachment.forwarded, **({"unread": why} if why else {}),
                                **({"inside": attachment.inside} if attachment.inside else {}),
                                **({"signed_by": list(attachment.signed_by)} if attachment.signed_by else {}), **text})
    except Exception as error:  # the object store is down: the mail stays in the mailbox for the next poll
        raise MailTransientError(f"cannot store the mail: {error}") from error
    return {"eml_key": eml.key, "eml_sha256": eml_sha, "attachments": attachments}


def _put_once(store: ObjectStore, key: str, data: bytes, content_type: str) -> StoredObject:
    """Content-addressed: the same bytes are stored once, however often they arrive."""
    try:
        return store.stat(key)
    except ObjectNotFound:
        return store.put(key, data, content_type)


def _row(parsed: ParsedMail, raw: bytes, status: str, reason: str, *, received_at: datetime, source: str,
         consultation_id: str | None = None, submission_id: str | None = None, stored: dict | None = None) -> InboundMail:
    stored = stored or {}
    sender = f"{parsed.sender_name} <{parsed.sender_address}>" if parsed.sender_name else parsed.sender_address
    # `storable` again: a reader's slip must not fail the row that records the mail, which would leave the mail
    # to be fetched, and fail, on every poll
    return InboundMail(id=str(uuid.uuid4()), message_id=parsed.message_id, status=status,
                       reason=storable(reason[:2000]), source=storable(source[:500]),
                       consultation_id=consultation_id, submission_id=submission_id,
                       sender=storable(sender[:320]), subject=storable(parsed.subject[:2000]),
                       received_at=received_at,
                       date_header=parsed.date_header, size=len(raw), eml_key=stored.get("eml_key"),
                       eml_sha256=stored.get("eml_sha256") or hashlib.sha256(raw).hexdigest(),
                       attachments=stored.get("attachments", []), body_text=storable(parsed.body_text[:100000]))


def _record(ctx: ServiceContext, parsed: ParsedMail, raw: bytes, status: str, reason: str, *, received_at: datetime,
            source: str, consultation_id: str | None = None,
            failed_delivery: DeliveryReport | None = None) -> ImportResult:
    """Remember a mail that made no submission, so the next poll does not look at it again. A report that our
    own message could not be delivered is announced (`mail.delivery_failed`) in the same transaction."""
    if status == REJECTED:
        log.warning("mail %s from %s rejected (%s): %s", parsed.message_id, parsed.sender_address, source, reason)
    try:
        with ctx.transaction() as session:
            row = _row(parsed, raw, status, reason, received_at=received_at, source=source,
                       consultation_id=consultation_id)
            session.add(row)
            failed = [{"address": r.address, "status": r.status, "diagnostic": r.diagnostic}
                      for r in (failed_delivery.recipients if failed_delivery is not None else ())
                      if len(r.address) <= 254]
            if failed:
                ctx.emit(session, "mail.delivery_failed", {
                    "mail_id": row.id, "received_at": received_at,
                    "original_message_id": failed_delivery.original_message_id, "recipients": failed})
    except IntegrityError:
        if _already_seen(ctx, parsed.message_id):
            return ImportResult(parsed.message_id, DUPLICATE)
        raise
    return ImportResult(parsed.message_id, status, reason=reason)


def refuse_mail(ctx: ServiceContext, raw: bytes, code: str, reason: str, *, received_at: datetime,
                source: str) -> ImportResult:
    """A mail we do not read: its row is made from what its headers alone say (at most the first 64 KiB of
    `raw`, which may be only the head of an oversized mail that was never downloaded)."""
    headers = _headers_only(raw)
    message_id = _header_message_id(headers.get("Message-ID", "")) or \
        f"sha256-{hashlib.sha256(raw).hexdigest()}@uwagi.invalid"
    if _already_seen(ctx, message_id):
        return ImportResult(message_id, DUPLICATE)
    parsed = ParsedMail(message_id=message_id, sender_name="", sender_address=_safe(headers.get("From", ""))[:300],
                        recipients=(), subject=_safe(headers.get("Subject", "")), date_header=_safe(headers.get("Date", ""))[:200],
                        body_text="", attachments=())
    return _record(ctx, parsed, raw, REJECTED, f"{code}: {reason}", received_at=received_at, source=source)


def _headers_only(raw: bytes) -> dict[str, str]:
    try:
        message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:65536])
        return {key: str(message.get(key, "")) for key in ("Message-ID", "From", "Subject", "Date")}
    except Exception:  # nothing in a refused mail's headers is worth failing for
        return {}


def _header_message_id(value: str) -> str:
    match = re.search(r"<([^<>\s]+)>", value or "")
    return match.group(1)[:990] if match else ""


def _safe(value: str) -> str:
    return "".join(ch for ch in " ".join(str(value).split()) if ch.isprintable())
