"""Letters and duty-hour notes entered by staff: one submission each, through the web form's own path
(`handlers.record_submission`, so `submission.received` and the receipt follow), with its provenance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.common.events import utcnow
from services.common.runtime import ServiceContext
from services.common.storage import ObjectNotFound
from services.common.web import Invalid, NotFound
from services.intake import domain
from services.intake.handlers import Receipt, record_submission, undelivered_mails
from services.intake.mail.staff import StoredFile
from services.intake.models import Booking, Consultation, DutySlot, Submission
from services.intake.paper import corrections
from services.intake.paper.domain import PAPER_CHANNELS, ScanRefused, letter_received_at, sniff_scan, stamp_in_future

SCAN_PREFIX = "intake/scans/"


@dataclass(frozen=True)
class ScanUpload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class EnterPaperSubmission:
    """A letter (`received_on` is its postmark date) or the notes of a duty-hour conversation (`booking_id`)."""

    consultation_id: str
    channel: str
    submitter: domain.Submitter
    comments: tuple[domain.CommentDraft, ...]
    received_on: date | None = None
    postal_address: str = ""
    booking_id: str | None = None
    scan: dict | None = None  # as stored by `store_scan`
    entry_id: str | None = None  # the form's own id: a second post of the same form records nothing new


class PaperInvalid(Invalid):
    """Fields the handler refuses, with stable codes per field (the console puts them into words)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("the entry is not valid: " + ", ".join(f"{k} ({v})" for k, v in sorted(problems.items())),
                         details={name: [code] for name, code in problems.items()})
        self.problems = problems


@dataclass(frozen=True)
class Entered:
    receipt: Receipt | None
    reference: str
    submission_id: str
    repeated: bool = False  # the same form was posted again: nothing new was recorded


def store_scan(ctx: ServiceContext, upload: ScanUpload) -> dict:
    """Check a scan (size, type by its bytes, no active content) and keep it, content-addressed, with its sha256."""
    try:
        media_type, extension = sniff_scan(upload.data, max_bytes=ctx.settings.max_upload_bytes)
    except ScanRefused as refused:
        raise PaperInvalid({"scan": refused.code}) from None
    digest = hashlib.sha256(upload.data).hexdigest()
    key = f"{SCAN_PREFIX}{digest}.{extension}"
    try:
        stored = ctx.store.stat(key)
    except ObjectNotFound:
        stored = ctx.store.put(key, upload.data, media_type)
    name = "".join(ch for ch in upload.filename if ch.isprintable()).strip()[:200] or f"{digest[:12]}.{extension}"
    return {"filename": name, "media_type": media_type, "size": stored.size, "sha256": digest, "key": key}


def kept_scan(ctx: ServiceContext, sha256: str, filename: str = "") -> dict:
    """A scan stored by an earlier post of the same form (adding a row posts the form back)."""
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise PaperInvalid({"scan": "unknown_scan"})
    for extension in ("pdf", "png", "jpg", "tif"):
        try:
            stored = ctx.store.stat(f"{SCAN_PREFIX}{sha256}.{extension}")
        except ObjectNotFound:
            continue
        name = "".join(ch for ch in filename if ch.isprintable()).strip()[:200] or f"{sha256[:12]}.{extension}"
        return {"filename": name, "media_type": stored.content_type, "size": stored.size, "sha256": sha256,
                "key": stored.key}
    raise PaperInvalid({"scan": "unknown_scan"})


# OCR on a clerk's request waits in a web worker: well inside gunicorn's 60 s, whatever the scan
READ_ON_REQUEST_SECONDS = 45


@dataclass(frozen=True)
class ScanReading:
    """The text of a stored scan, for the clerk who types its comments: its text layer (a letter printed to PDF)
    or what OCR recognised in its pictures; "" when nothing could be read."""

    text: str
    ocr: bool
    rows: tuple[tuple[str, str, str, str], ...] = ()  # a printed form's rows (section, current, proposal, why)
    organization: str = ""  # as the printed form names it


def read_scan(ctx: ServiceContext, scan: dict) -> ScanReading:
    """Read a stored scan once; the reading is kept beside it (`<key>.read.json`), so the form posted back
    (a row added, a field corrected) shows it again without reading it again."""
    from services.intake.mail.letter import letter_text, scanned_letter
    from services.intake.mail.ocr import ocr_ready
    from services.intake.mail.pdf_form import is_pdf

    earlier = reading_before(ctx, scan)
    if earlier is not None:
        return earlier
    data = ctx.store.get(scan["key"])
    reading = ScanReading(letter_text("pdf", data) if is_pdf(data) else "", False)
    languages = ctx.settings.ocr_languages
    if not reading.text.strip() and languages is not None and ocr_ready(languages):
        scanned = scanned_letter(data, languages, wall_seconds=READ_ON_REQUEST_SECONDS)
        if scanned is not None:
            form = scanned.form
            reading = ScanReading(scanned.text, True, tuple(
                (r.section, r.current_text, r.proposal, r.justification) for r in (form.rows if form else ())),
                form.submitter.organization if form else "")
    ctx.store.put(f"{scan['key']}.read.json", json.dumps(
        {"text": reading.text, "ocr": reading.ocr, "rows": reading.rows, "organization": reading.organization},
        ensure_ascii=False).encode("utf-8"), "application/json")
    return reading


def reading_before(ctx: ServiceContext, scan: dict) -> ScanReading | None:
    """The reading kept for this scan, or None when it was never read."""
    try:
        kept = json.loads(ctx.store.get(f"{scan['key']}.read.json"))
        rows = tuple(tuple(str(value) for value in row[:4]) for row in kept.get("rows") or () if len(row) >= 4)
    except (ObjectNotFound, ValueError, TypeError, AttributeError):
        return None
    return ScanReading(str(kept.get("text") or ""), bool(kept.get("ocr")), rows,  # type: ignore[arg-type]
                       str(kept.get("organization") or ""))


def enter_paper_submission(ctx: ServiceContext, cmd: EnterPaperSubmission, *, actor: str,
                           now: datetime | None = None) -> Entered:
    """Record a letter or duty-hour notes as a submission. A letter counts as received on its postmark date
    (late or not by that date, as the consultation's late policy says); a conversation at its booked time."""
    now = now or utcnow()
    tz = ctx.settings.timezone
    problems = _problems(cmd, now, tz)
    if problems:
        raise PaperInvalid(problems)
    with ctx.transaction() as session:
        if cmd.entry_id:
            earlier = session.get(Submission, cmd.entry_id)
            if earlier is not None:
                return Entered(None, earlier.reference, earlier.id, repeated=True)
        consultation = session.get(Consultation, cmd.consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        booking_starts_at = None
        if cmd.channel == "letter":
            received_at = letter_received_at(cmd.received_on, opens_at=consultation.opens_at,  # type: ignore[arg-type]
                                             closes_at=consultation.closes_at, tz=tz)
        else:
            booking, slot = _booking(session, cmd)
            received_at = booking_starts_at = slot.starts_at
        provenance = domain.Provenance(
            entered_by=actor, entered_at=now, postmarked_on=cmd.received_on if cmd.channel == "letter" else None,
            postal_address=cmd.postal_address.strip() or None, booking_id=cmd.booking_id if cmd.channel != "letter"
            else None, booking_starts_at=booking_starts_at, scan=cmd.scan)
        command = domain.SubmitComments(consultation_id=cmd.consultation_id, submitter=cmd.submitter,
                                        comments=cmd.comments, channel=cmd.channel)
        receipt = record_submission(ctx, session, command, received_at=received_at, provenance=provenance,
                                    submission_id=cmd.entry_id)
    return Entered(receipt, receipt.reference, receipt.submission_id)


def entry_problems(ctx: ServiceContext, cmd: EnterPaperSubmission, *, now: datetime | None = None) -> dict[str, str]:
    """What `enter_paper_submission` would refuse before looking at the database, by field: the console shows
    these together with its own form checks, so a clerk corrects a letter once, not problem by problem."""
    return _problems(cmd, now or utcnow(), ctx.settings.timezone)


@dataclass(frozen=True)
class EnteredSubmission:
    submission: Submission  # with its comments
    booking_starts_at: datetime | None  # the duty-hour conversation the notes come from
    correction_refusal: str | None = None  # why its comments cannot be corrected (corrections.correction_refusal)
    mail: tuple[str, str] | None = None  # (id, status) of the e-mail it came in
    undelivered: tuple = ()  # e-mails to the submitter a mail server returned (UndeliveredMail rows)


def entered_submission(ctx: ServiceContext, consultation_id: str, submission_id: str) -> EnteredSubmission:
    """One submission of the consultation with its comments, as staff see it once entered."""
    with ctx.db.transaction() as session:
        submission = session.scalar(select(Submission).where(
            Submission.id == submission_id, Submission.consultation_id == consultation_id)
            .options(selectinload(Submission.comments), selectinload(Submission.consent_changes),
                     selectinload(Submission.email_corrections)))
        if submission is None:
            raise NotFound("no such submission in this consultation")
        booking = session.get(Booking, submission.booking_id) if submission.booking_id else None
        slot = session.get(DutySlot, booking.slot_id) if booking is not None else None
        mail = corrections.mail_of(session, submission.id)
        refusal = corrections.correction_refusal(submission, mail[1] if mail else None)
        returned = tuple(undelivered_mails(session, submission.reference))
        return EnteredSubmission(submission, slot.starts_at if slot is not None else None, refusal, mail, returned)


def stored_scan(ctx: ServiceContext, consultation_id: str, submission_id: str) -> StoredFile:
    """The scan kept with a letter or duty-hour notes, as it was uploaded (its type checked then)."""
    submission = entered_submission(ctx, consultation_id, submission_id).submission
    if not submission.scan:
        raise NotFound("this submission has no scan")
    scan = submission.scan
    return StoredFile(ctx.store.get(scan["key"]), scan["media_type"], scan["filename"], scan["sha256"])


def _problems(cmd: EnterPaperSubmission, now: datetime, tz: object) -> dict[str, str]:
    problems: dict[str, str] = {}
    if cmd.channel not in PAPER_CHANNELS:
        problems["channel"] = "unknown"
    if not cmd.submitter.name.strip():
        problems["name"] = "required"
    if not cmd.comments:
        problems["comments"] = "required"
    if cmd.channel == "letter":
        if cmd.received_on is None:
            problems["received_on"] = "required"
        elif stamp_in_future(cmd.received_on, now, tz):  # type: ignore[arg-type]
            problems["received_on"] = "in_future"
        if not cmd.postal_address.strip() and not cmd.submitter.email:
            problems["postal_address"] = "address_or_email"  # a reply needs one of them
    if cmd.channel == "duty_hours" and not cmd.booking_id:
        problems["booking_id"] = "required"
    return problems


def _booking(session: object, cmd: EnterPaperSubmission) -> tuple[Booking, DutySlot]:
    booking = session.get(Booking, cmd.booking_id)  # type: ignore[attr-defined]
    if booking is None or booking.consultation_id != cmd.consultation_id:
        raise PaperInvalid({"booking_id": "unknown"})
    if booking.status != "confirmed":
        raise PaperInvalid({"booking_id": "cancelled"})
    return booking, session.get(DutySlot, booking.slot_id)  # type: ignore[attr-defined]


def bookings_for_notes(ctx: ServiceContext, consultation_id: str) -> list[dict]:
    """The consultation's confirmed bookings, in time order, each with the reference of notes already entered."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Booking, DutySlot).join(DutySlot, DutySlot.id == Booking.slot_id)
            .where(Booking.consultation_id == consultation_id, Booking.status == "confirmed")
            .order_by(DutySlot.starts_at, Booking.created_at))
        noted = dict(session.execute(select(Submission.booking_id, Submission.reference).where(
            Submission.consultation_id == consultation_id, Submission.booking_id.is_not(None))).all())
        return [{"booking": b, "slot": s, "reference": noted.get(b.id)} for b, s in rows]
