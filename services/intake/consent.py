"""A submitter's consent to publish their name in the consultation's report, changed after they sent their comments.

The comment form asks for the consent and says it can be withdrawn at any time (GDPR art. 7(3)). The submitter
withdraws it (or gives it) on their status page, with the access code of their receipt; or they write, and staff
record it on the submission's page, saying on what basis (a letter, an e-mail of a given date). Each change is
kept (`consent_changes`: the city must be able to show what consent it held, and when it ended) and is
announced as `submission.consent_changed` in the same transaction. Documents names the person in the reports it
builds from then on, and tells the coordinator when a withdrawal came after the results were published: the
report is then published again without the name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.events import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.intake import domain
from services.intake.models import ConsentChange, PublishedResults, Submission

VIA_STATUS_PAGE, VIA_STAFF = "status_page", "staff"
SUBMITTER = "submitter"  # `changed_by` of a change made on the status page
MAX_NOTE = 1000


@dataclass(frozen=True)
class ConsentOutcome:
    reference: str
    publish_consent: bool
    changed: bool  # False: the consent already stood so, nothing was recorded or announced
    results_published: bool  # the results were published before the change: they are published again


def staff_note_problem(note: str) -> str | None:
    """Why staff's note on the basis of a change is refused, as a stable code; None when it will do."""
    if not note.strip():
        return "required"
    if len(note) > MAX_NOTE:
        return "too_long"
    return None


def change_by_submitter(ctx: ServiceContext, reference: str, token: str, publish_consent: bool, *,
                        now: datetime | None = None) -> ConsentOutcome:
    """The submitter's own change, on the status page their receipt links to; the wrong access code reads as an
    unknown reference (404), as on the status page."""
    def find(session: Session) -> Submission:
        submission = session.scalar(select(Submission).where(Submission.reference == reference)
                                    .with_for_update())
        if submission is None or not domain.token_matches(token, submission.status_token_hash):
            raise NotFound("no submission with this reference and token")
        return submission

    return _change(ctx, find, publish_consent, changed_by=SUBMITTER, via=VIA_STATUS_PAGE, note="", now=now)


def change_by_staff(ctx: ServiceContext, consultation_id: str, submission_id: str, publish_consent: bool, *,
                    actor: str, note: str, now: datetime | None = None) -> ConsentOutcome:
    """Staff record a change the submitter asked for in writing; `note` says where (required, 422 without)."""
    note = note.strip()
    problem = staff_note_problem(note)
    if problem is not None:
        raise Invalid("say on what basis the consent changes", details={"note": [problem]})

    def find(session: Session) -> Submission:
        submission = session.scalar(select(Submission).where(
            Submission.id == submission_id, Submission.consultation_id == consultation_id).with_for_update())
        if submission is None:
            raise NotFound("no such submission in this consultation")
        return submission

    return _change(ctx, find, publish_consent, changed_by=actor, via=VIA_STAFF, note=note, now=now)


def _change(ctx: ServiceContext, find: Callable[[Session], Submission], publish_consent: bool, *, changed_by: str,
            via: str, note: str, now: datetime | None) -> ConsentOutcome:
    now = now or utcnow()
    with ctx.transaction() as session:
        submission = find(session)  # locked: two changes at once get consecutive revisions
        results_published = session.scalar(select(PublishedResults.consultation_id).where(
            PublishedResults.consultation_id == submission.consultation_id).limit(1)) is not None
        if submission.publish_consent == publish_consent:
            return ConsentOutcome(submission.reference, publish_consent, False, results_published)
        submission.publish_consent = publish_consent
        submission.consent_revision += 1
        session.add(ConsentChange(submission_id=submission.id, revision=submission.consent_revision,
                                  publish_consent=publish_consent, changed_at=now, changed_by=changed_by, via=via,
                                  note=note))
        if submission.comments and all(comment.status == "dismissed" for comment in submission.comments):
            # a mail closed as holding no comments: nothing of it is published; a reopening carries the consent
            return ConsentOutcome(submission.reference, publish_consent, True, results_published)
        ctx.emit(session, "submission.consent_changed", {
            "submission_id": submission.id, "consultation_id": submission.consultation_id,
            "reference": submission.reference, "publish_consent": publish_consent,
            "revision": submission.consent_revision, "changed_at": now, "via": via,
        }, correlation_id=submission.reference)
        return ConsentOutcome(submission.reference, publish_consent, True, results_published)
