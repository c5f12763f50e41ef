"""A submitter's e-mail address, corrected by staff after the comments were registered (GDPR art. 16).

The usual cause is a receipt that came back undelivered: a clerk typed a letter's address wrongly, or the
resident's mailbox is closed; the clerk phones or writes, and records the right address (or none: they will be
written to by post) on the submission's page, saying on what basis. Each correction is kept (`email_corrections`:
the address before and after, who, when, why) and announced as `submission.email_corrected` in the same
transaction; notify then sends what had come back to the new address, once, and every later e-mail goes there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.common.events import is_contract_email, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.intake.consent import staff_note_problem
from services.intake.models import EmailCorrection, Submission

MAX_EMAIL = 254


@dataclass(frozen=True)
class EmailOutcome:
    reference: str
    email: str | None
    changed: bool  # False: the address already stood so, nothing was recorded or announced


def email_problem(email: str) -> str | None:
    """Why an address staff typed is refused, as a stable code; None when it will do ("" removes the address)."""
    if not email:
        return None
    if len(email) > MAX_EMAIL or not is_contract_email(email):
        return "invalid"
    return None


def correct_email(ctx: ServiceContext, consultation_id: str, submission_id: str, email: str, *, actor: str,
                  note: str, now: datetime | None = None) -> EmailOutcome:
    """Record the submitter's corrected address ("" for none); `note` says on what basis (required). Every problem
    is reported at once (422, by field)."""
    email, note = email.strip(), note.strip()
    problems = {field: [code] for field, code in (("email", email_problem(email)), ("note", staff_note_problem(note)))
                if code is not None}
    if problems:
        raise Invalid("the correction cannot be recorded", details=problems)
    now = now or utcnow()
    with ctx.transaction() as session:
        submission = session.scalar(select(Submission).where(
            Submission.id == submission_id, Submission.consultation_id == consultation_id).with_for_update())
        if submission is None:
            raise NotFound("no such submission in this consultation")
        new = email or None
        if submission.email == new:
            return EmailOutcome(submission.reference, new, False)
        old, submission.email = submission.email, new
        submission.email_revision += 1
        session.add(EmailCorrection(submission_id=submission.id, revision=submission.email_revision, old_email=old,
                                    new_email=new, changed_at=now, changed_by=actor, note=note))
        ctx.emit(session, "submission.email_corrected", {
            "submission_id": submission.id, "consultation_id": submission.consultation_id,
            "reference": submission.reference, "email": new, "revision": submission.email_revision,
            "corrected_at": now,
        }, correlation_id=submission.reference)
        return EmailOutcome(submission.reference, new, True)
