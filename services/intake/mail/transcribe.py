"""Staff transcribe a `needs_review` e-mail submission: the comments they read in the kept mail and its
attachments replace the placeholder comment e-mail intake recorded, and `submission.transcribed` tells
review, documents and notify (see its contract in services.common.events)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlencode

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from services.common.events import DISMISSAL_REASONS, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.intake import domain
from services.intake.bookings.domain import BookSlot
from services.intake.bookings.handlers import BookingReceipt, reserve_place
from services.intake.mail.importer import NEEDS_REVIEW
from services.intake.mail.signed import everyone_named
from services.intake.mail.staff import ScannedForm
from services.intake.models import Comment, Consultation, DutySlot, InboundMail, Submission

TRANSCRIBED = "transcribed"


@dataclass(frozen=True)
class Transcribed:
    reference: str
    comments: int
    sender_told: bool = False  # the comments go to the sender (asked for, and there is an address)


@dataclass(frozen=True)
class Sender:
    """Who the submission is from, as staff read it in the mail or its letter: the From: name is often an
    office's mailbox ("Biuro Federacji") and the organisation only in the letter's heading."""
    name: str
    organization: str | None = None


def transcribe_mail(ctx: ServiceContext, mail_id: str, comments: tuple[domain.CommentDraft, ...], *, actor: str,
                    sender: Sender | None = None, tell_sender: bool = False, now: datetime | None = None) -> Transcribed:
    """Replace the placeholder with `comments` (the first keeps its id), take `sender` as the submitter's name and
    organisation when given, and emit `submission.transcribed`; with `tell_sender` notify sends the sender the
    comments as transcribed.

    Refused (409) once the mail is transcribed or a decision was taken on the placeholder: the comments a
    decision is about must not change under it."""
    now = now or utcnow()
    if not comments:
        raise Invalid("enter at least one comment", details={"comments": ["required"]})
    if sender is not None and (not sender.name.strip() or len(sender.name) > 200 or
                               len(sender.organization or "") > 300):
        raise Invalid("the sender's name is required (at most 200 characters, the organisation 300)",
                      details={"name": ["required" if not sender.name.strip() else "too_long"]})
    with ctx.transaction() as session:
        mail, submission = _waiting_mail(session, mail_id)
        placeholder, *extra = submission.comments
        for comment in extra:  # none from e-mail intake; a defence if that ever changes
            session.delete(comment)
        session.flush()
        first, *more = comments
        placeholder.section, placeholder.current_text, placeholder.proposal = first.section, first.current_text, \
            first.proposal
        placeholder.justification, placeholder.topic = first.justification, first.topic
        for number, draft in enumerate(more, start=2):
            submission.comments.append(Comment(
                id=str(uuid.uuid4()), number=number, section=draft.section, current_text=draft.current_text,
                proposal=draft.proposal, justification=draft.justification, topic=draft.topic))
        if sender is not None:
            submission.submitter_name = sender.name.strip()
            submission.organization = (sender.organization or "").strip() or None
            submission.kind = "organization" if submission.organization else "person"
        submission.entered_by, submission.entered_at = actor, now
        submission.comments_revision += 1
        mail.status = TRANSCRIBED
        session.flush()
        signed_by = _signers(mail)
        told = tell_sender and bool(submission.email)
        _emit(ctx, session, submission, actor=actor, now=now, signed_by=signed_by, tell_sender=told)
        return Transcribed(submission.reference, len(comments), told)


NO_COMMENTS = "no_comments"  # the mail's status once staff found no comments in it
DISMISSED = "dismissed"  # its placeholder comments' status


def dismiss_mail(ctx: ServiceContext, mail_id: str, reason: str, *, actor: str, note: str = "",
                 now: datetime | None = None) -> str:
    """Staff found no comments on the draft in the mail (a question, a request to book a duty hour, a thank-you
    for the receipt): its placeholder comments are no comments, the mail leaves the transcription list, and
    `submission.dismissed` tells the other services. Refused (409) as a transcription is; returns the reference."""
    now = now or utcnow()
    if reason not in DISMISSAL_REASONS:
        raise Invalid("choose why the mail holds no comments", details={"reason": ["required"]})
    if len(note) > 2000:
        raise Invalid("the note is too long (at most 2,000 characters)", details={"note": ["too_long"]})
    with ctx.transaction() as session:
        return _close_without_comments(ctx, session, mail_id, reason, note, actor=actor, now=now)


def _close_without_comments(ctx: ServiceContext, session: Session, mail_id: str, reason: str, note: str, *,
                            actor: str, now: datetime) -> str:
    mail, submission = _waiting_mail(session, mail_id)
    for comment in submission.comments:
        comment.status = DISMISSED
    submission.entered_by, submission.entered_at = actor, now
    mail.status = NO_COMMENTS
    mail.closing = {"reason": reason, "note": note, "by": actor, "at": now.isoformat()}
    closed = f"no comments on the draft ({reason}) according to {actor}"
    mail.reason = f"{mail.reason}; {closed}" if mail.reason else closed  # what intake noted on arrival stays
    ctx.emit(session, "submission.dismissed", {
        "submission_id": submission.id, "consultation_id": submission.consultation_id,
        "reference": submission.reference, "comment_ids": [c.id for c in submission.comments],
        "reason": reason, "note": note, "dismissed_by": actor, "dismissed_at": now,
    }, correlation_id=submission.reference)
    return submission.reference


def book_sender(ctx: ServiceContext, mail_id: str, cmd: BookSlot, *, actor: str,
                note: Callable[[DutySlot], str], close: bool = True, now: datetime | None = None) -> BookingReceipt:
    """Book a duty hour for the sender of a mail that asks for one (the announcement asks residents to book by
    e-mail) and, with `close`, close the mail as such a request, in one transaction: no booking is left behind
    by a mail a colleague transcribed meanwhile (409), and no mail is closed without its booking. `note(slot)`
    is the closing's note for the record. The sender gets the booking's confirmation; the closing sends nothing.
    Without `close` (the mail also holds comments) it only books, and the mail waits for its transcription."""
    now = now or utcnow()
    with ctx.transaction() as session:
        mail = session.get(InboundMail, mail_id)
        if mail is None:
            raise NotFound("no such mail")
        if mail.consultation_id != cmd.consultation_id:
            raise Invalid("the mail is about another consultation", details={"json": {"mail_id": ["other"]}})
        receipt = reserve_place(ctx, session, replace(cmd, mail_id=mail_id, booked_by=actor), now=now)
        if close:
            _close_without_comments(ctx, session, mail_id, "booking", note(receipt.slot), actor=actor, now=now)
        return receipt


def reopen_mail(ctx: ServiceContext, mail_id: str, *, actor: str, now: datetime | None = None) -> str:
    """Undo `dismiss_mail`: staff closed a mail that holds comments after all (a question that ends with a
    proposal, a reply that adds one). The mail waits for a transcription again, with a new placeholder comment
    of the same text, and `submission.reopened` tells the other services. The placeholder takes a new id so
    that the other services need not order the dismissal and the reopening of one comment. Refused (409) unless
    the mail was closed as holding no comments; returns the reference."""
    now = now or utcnow()
    with ctx.transaction() as session:
        mail, submission = _locked_mail(session, mail_id, NO_COMMENTS,
                                        "this mail was not closed as holding no comments")
        dismissed = sorted(submission.comments, key=lambda c: c.number)
        first = dismissed[0]
        submission.comments.clear()  # delete-orphan: the dismissed placeholders go
        session.flush()
        submission.comments.append(Comment(
            id=str(uuid.uuid4()), number=1, section=first.section, current_text=first.current_text,
            proposal=first.proposal, justification=first.justification, topic=first.topic))
        submission.entered_by = submission.entered_at = None
        mail.status, mail.closing = NEEDS_REVIEW, None
        mail.reason = f"{mail.reason}; reopened for transcription by {actor}"
        session.flush()
        consultation = session.get(Consultation, submission.consultation_id)
        ctx.emit(session, "submission.reopened", {
            **submission_payload(ctx, submission, consultation), "needs_review": True,
            "signed_by": list(_signers(mail)),
            "dismissed_comment_ids": [c.id for c in dismissed], "reopened_by": actor, "reopened_at": now,
        }, correlation_id=submission.reference)
        return submission.reference


def _waiting_mail(session: Session, mail_id: str) -> tuple[InboundMail, Submission]:
    """The mail, locked, and its submission: 409 unless it still waits for staff and nothing on it was decided."""
    mail, submission = _locked_mail(session, mail_id, NEEDS_REVIEW, "this mail does not wait for a transcription")
    if any(c.status != "received" for c in submission.comments):
        raise Conflict("a decision was taken on this submission", details={"status": ["decided"]})
    return mail, submission


def _signers(mail: InboundMail) -> tuple[str, ...]:
    """Who signed the files the mail came with, as the signatures name them."""
    return everyone_named(a.get("signed_by", ()) for a in mail.attachments or ())


def _locked_mail(session: Session, mail_id: str, status: str, refusal: str) -> tuple[InboundMail, Submission]:
    """The mail, locked, and its submission with its comments: 409 (`refusal`) unless the mail is in `status`."""
    mail = session.get(InboundMail, mail_id, with_for_update=True)
    if mail is None:
        raise NotFound("no such mail")
    if mail.status != status or mail.submission_id is None:
        raise Conflict(refusal, details={"status": [mail.status]})
    submission = session.scalar(select(Submission).where(Submission.id == mail.submission_id)
                                .options(selectinload(Submission.comments)))
    return mail, submission


def _emit(ctx: ServiceContext, session: Session, submission: Submission, *, actor: str, now: datetime,
          signed_by: tuple[str, ...], tell_sender: bool) -> None:
    consultation = session.get(Consultation, submission.consultation_id)
    ctx.emit(session, "submission.transcribed", {
        **submission_payload(ctx, submission, consultation),
        "provenance": {"entered_by": actor, "entered_at": now},
        **({"signed_by": list(signed_by)} if signed_by else {}),
        "transcribed_by": actor, "transcribed_at": now, "revision": submission.comments_revision,
        "tell_sender": tell_sender,
    }, correlation_id=submission.reference)


def submission_payload(ctx: ServiceContext, submission: Submission, consultation: Consultation) -> dict:
    """The submission as `submission.received` describes it. The status link has no access code: intake keeps
    only its hash, and the consumers that write to the sender have the link the receipt gave."""
    status_url = f"{ctx.settings.public_url}/intake/status?{urlencode({'reference': submission.reference})}"
    return {
        "submission_id": submission.id, "consultation_id": submission.consultation_id,
        "consultation_title": consultation.title, "reference": submission.reference, "channel": submission.channel,
        "received_at": submission.received_at, "late": submission.late, "language": submission.language,
        "status_url": status_url,
        "submitter": {"name": submission.submitter_name, "organization": submission.organization,
                      "email": submission.email, "publish_consent": submission.publish_consent,
                      "kind": submission.kind},
        "comments": [{"comment_id": c.id, "number": c.number, "section": c.section, "current_text": c.current_text,
                      "proposal": c.proposal, "justification": c.justification, "topic": c.topic}
                     for c in sorted(submission.comments, key=lambda c: c.number)],
    }


def awaiting_transcription(ctx: ServiceContext, submission_id: str) -> bool:
    """Whether the submission is an e-mail whose comments staff have not transcribed yet: its one comment is the
    mail's own text, which the public status page does not show as a comment."""
    with ctx.db.transaction() as session:
        return session.scalar(select(InboundMail.id).where(
            InboundMail.submission_id == submission_id, InboundMail.status == NEEDS_REVIEW).limit(1)) is not None


def mail_for_transcription(ctx: ServiceContext, mail_id: str) -> tuple[InboundMail, Submission | None]:
    with ctx.db.transaction() as session:
        mail = session.get(InboundMail, mail_id)
        if mail is None:
            raise NotFound("no such mail")
        submission = session.scalar(select(Submission).where(Submission.id == mail.submission_id)
                                    .options(selectinload(Submission.comments))) if mail.submission_id else None
        return mail, submission


_REFERENCE = re.compile(r"\bUW/\d{4}/\d{6}\b")
MAX_RELATED = 20


@dataclass(frozen=True)
class RelatedSubmission:
    """Another submission to the same consultation that staff should read the mail beside."""
    reference: str
    received_at: datetime
    comments: int
    named: bool  # the mail names it: a reply to its receipt, a correction, a comment withdrawn


def references_named(*texts: str) -> set[str]:
    """The submission references a mail's subject and text name ("Re: Potwierdzenie złożenia uwag UW/2026/…")."""
    return {match.group() for text in texts for match in _REFERENCE.finditer(text or "")}


def related_submissions(ctx: ServiceContext, mail: InboundMail, submission: Submission | None
                        ) -> tuple[RelatedSubmission, ...]:
    """The sender's other submissions to the consultation and those the mail names, oldest first: a resident
    who answers the receipt, corrects a comment or sends a second letter is read beside the first."""
    if submission is None:
        return ()
    named = references_named(mail.subject or "", mail.body_text or "")
    address = (submission.email or parseaddr(mail.sender or "")[1]).lower()
    same_sender = func.lower(Submission.email) == address if address else None
    matches = [condition for condition in (same_sender, Submission.reference.in_(named) if named else None)
               if condition is not None]
    if not matches:
        return ()
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Submission.reference, Submission.received_at, func.count(Comment.id))
            .outerjoin(Comment, (Comment.submission_id == Submission.id) & (Comment.status != DISMISSED))
            .where(Submission.consultation_id == submission.consultation_id, Submission.id != submission.id,
                   or_(*matches))
            .group_by(Submission.id, Submission.reference, Submission.received_at)
            .order_by(Submission.received_at, Submission.reference).limit(MAX_RELATED)).all()
    return tuple(RelatedSubmission(reference, received_at, comments, reference in named)
                 for reference, received_at, comments in rows)


@dataclass(frozen=True)
class TranscriptionStart:
    """What the transcription page starts from, read from the mail and its letters for staff to check."""
    name: str
    organization: str
    organization_read: bool  # taken from a letter's heading or a scanned form, not from the submission
    rows: tuple  # suggest.FormRow, in the order the text names them, or as a scanned form has them
    scanned_form: str = ""  # the file name of the scanned form the rows were read from by OCR
    organization_from_scan: bool = False  # the organisation is the scanned form's, read by OCR


def transcription_start(submission: Submission | None, text: str, letter_texts: list[str],
                        scanned: ScannedForm | None = None) -> TranscriptionStart:
    """The sender as the submission has it (the organisation from a scanned form or a letter's heading when it
    has none) and the rows: a scanned form's as OCR read them, else those the text of the mail and its letters
    names a provision for."""
    from services.intake.mail.suggest import suggested_organisation, suggested_rows

    from_scan = "" if submission is None or submission.organization or scanned is None else scanned.organization
    read = from_scan or ("" if submission is None or submission.organization else next(
        (found for letter in letter_texts if (found := suggested_organisation(letter))), ""))
    return TranscriptionStart(
        name=submission.submitter_name if submission is not None else "",
        organization=(submission.organization if submission is not None else None) or read,
        organization_read=bool(read), rows=scanned.rows if scanned else tuple(suggested_rows(text)),
        scanned_form=scanned.filename if scanned else "", organization_from_scan=bool(from_scan))
