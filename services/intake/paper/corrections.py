"""Staff correct the comments of a submission they entered by hand (a letter, duty-hour notes, a transcribed
e-mail): a typo, a text typed into the wrong field, a comment entered twice, one left out. `submission.corrected`
tells review, documents and notify (see its contract in services.common.events).

Only what staff typed is corrected: a web form's or a read form's comments are the sender's own words. Only until
a decision on the submission has reached intake: the sender may have been told of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.common.events import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.intake import domain
from services.intake.mail.importer import NEEDS_REVIEW
from services.intake.mail.transcribe import NO_COMMENTS, Sender, submission_payload
from services.intake.models import Comment, Consultation, InboundMail, Submission

_TEXT_FIELDS = ("section", "current_text", "proposal", "justification", "topic")


@dataclass(frozen=True)
class CorrectedRow:
    """A comment as staff left it: `comment_id` names the comment it corrects, None one they add."""
    draft: domain.CommentDraft
    comment_id: str | None = None


@dataclass(frozen=True)
class Correction:
    reference: str
    changed: int
    added: int
    removed: int
    sender_changed: bool = False

    @property
    def anything(self) -> bool:
        return bool(self.changed or self.added or self.removed or self.sender_changed)


def correction_refusal(submission: Submission, mail_status: str | None) -> str | None:
    """Why the submission's comments cannot be corrected, as a stable code; None when they can."""
    if submission.entered_by is None:
        return "senders_words"  # the web form's or a read form's comments, as the sender wrote them
    if mail_status in (NEEDS_REVIEW, NO_COMMENTS):
        return "not_transcribed"  # the transcription page is the place
    if any(comment.status != "received" for comment in submission.comments):
        return "decided"
    return None


def mail_of(session: Session, submission_id: str) -> tuple[str, str] | None:
    """(id, status) of the e-mail the submission came in, None for another channel."""
    row = session.execute(select(InboundMail.id, InboundMail.status)
                          .where(InboundMail.submission_id == submission_id).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def correct_submission(ctx: ServiceContext, consultation_id: str, submission_id: str, rows: tuple[CorrectedRow, ...],
                       *, actor: str, sender: Sender | None = None, revision: int | None = None,
                       tell_sender: bool = False, now: datetime | None = None) -> Correction:
    """Make the submission's comments `rows`: those naming a comment correct it (its number kept), the others are
    added after the last number, and a comment no row names is removed. Nothing changed, nothing is emitted.

    Refused (409) unless staff entered the submission and no decision on it has reached intake, and when
    `revision` (the `comments_revision` the form was filled from) is no longer the submission's: a colleague
    corrected it meanwhile, or the form was sent twice. A row naming a comment of another submission, or twice,
    is invalid (422). With `tell_sender` notify sends the sender the comments as corrected."""
    now = now or utcnow()
    if not rows:
        raise Invalid("enter at least one comment", details={"comments": ["required"]})
    named = [row.comment_id for row in rows if row.comment_id]
    if len(named) != len(set(named)):
        raise Invalid("a comment is named twice", details={"comments": ["duplicate"]})
    with ctx.transaction() as session:
        submission = session.scalar(select(Submission).where(
            Submission.id == submission_id, Submission.consultation_id == consultation_id)
            .options(selectinload(Submission.comments)).with_for_update(of=Submission))
        if submission is None:
            raise NotFound("no such submission in this consultation")
        mail = mail_of(session, submission.id)
        refusal = correction_refusal(submission, mail[1] if mail else None)
        if refusal is not None:
            raise Conflict("this submission's comments cannot be corrected", details={"status": [refusal]})
        if revision is not None and revision != submission.comments_revision:
            raise Conflict("the comments were corrected meanwhile", details={"status": ["stale"]})
        existing = {comment.id: comment for comment in submission.comments}
        if set(named) - set(existing):
            raise Invalid("a row names a comment of another submission", details={"comments": ["unknown"]})
        changed = 0
        for row in rows:
            comment = existing.get(row.comment_id or "")
            if comment is not None and any(getattr(comment, name) != getattr(row.draft, name)
                                           for name in _TEXT_FIELDS):
                for name in _TEXT_FIELDS:
                    setattr(comment, name, getattr(row.draft, name))
                changed += 1
        removed = [comment for comment_id, comment in existing.items() if comment_id not in named]
        if removed:
            submission.removed_comments = [*(submission.removed_comments or []), *(
                {"number": comment.number, "section": comment.section, "proposal": comment.proposal,
                 "removed_at": now.isoformat()} for comment in removed)]
        for comment in removed:
            submission.comments.remove(comment)  # delete-orphan
        number = max(existing_comment.number for existing_comment in existing.values())
        added = [row for row in rows if not row.comment_id]
        for row in added:
            number += 1
            submission.comments.append(Comment(
                id=str(uuid.uuid4()), number=number, section=row.draft.section, current_text=row.draft.current_text,
                proposal=row.draft.proposal, justification=row.draft.justification, topic=row.draft.topic))
        sender_changed = sender is not None and (
            sender.name.strip(), (sender.organization or "").strip() or None) != (
            submission.submitter_name, submission.organization)
        if sender_changed:
            submission.submitter_name = sender.name.strip()
            submission.organization = (sender.organization or "").strip() or None
            submission.kind = "organization" if submission.organization else "person"
        correction = Correction(submission.reference, changed, len(added), len(removed), sender_changed)
        if not correction.anything:
            return correction
        submission.comments_revision += 1
        session.flush()
        consultation = session.get(Consultation, submission.consultation_id)
        ctx.emit(session, "submission.corrected", {
            **submission_payload(ctx, submission, consultation), "revision": submission.comments_revision,
            "removed_comment_ids": [comment.id for comment in removed],
            "transcribed_by": actor, "transcribed_at": now, "tell_sender": tell_sender and bool(submission.email),
        }, correlation_id=submission.reference)
        return correction
