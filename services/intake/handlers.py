"""Intake use cases. Each takes a command and its dependencies, and commits one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from services.common.events import Event, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound, Refused
from services.intake import domain
from services.intake.models import Comment, Consultation, ReferenceCounter, Submission


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    reference: str
    status_token: str
    status_url: str
    comment_ids: list[str]
    late: bool
    received_at: datetime


def open_consultation(ctx: ServiceContext, cmd: domain.OpenConsultation, *, actor: str) -> Consultation:
    if cmd.closes_at <= cmd.opens_at:
        raise Invalid("the consultation must close after it opens", details={"closes_at": ["must be after opens_at"]})
    consultation = Consultation(
        id=str(uuid.uuid4()), title=cmd.title, stage=cmd.stage, description=cmd.description,
        opens_at=cmd.opens_at, closes_at=cmd.closes_at, channels=list(cmd.channels), topics=list(cmd.topics),
        duty_days=[d.as_json() for d in cmd.duty_days], contact_email=cmd.contact_email,
        late_policy=cmd.late_policy.value, document_sections=[], created_by=actor,
    )
    with ctx.transaction() as session:
        session.add(consultation)
        ctx.emit(session, "consultation.published", {
            "consultation_id": consultation.id, "title": cmd.title, "stage": cmd.stage,
            "opens_at": cmd.opens_at, "closes_at": cmd.closes_at, "topics": list(cmd.topics),
            "channels": list(cmd.channels), "contact_email": cmd.contact_email,
            "duty_days": consultation.duty_days, "late_policy": cmd.late_policy.value,
        })
    return consultation


def list_open_consultations(ctx: ServiceContext, *, now: datetime | None = None) -> list[Consultation]:
    now = now or utcnow()
    with ctx.db.transaction() as session:
        query = (select(Consultation).where(Consultation.opens_at <= now, Consultation.closes_at >= now)
                 .order_by(Consultation.closes_at))
        return list(session.scalars(query))


def get_consultation(ctx: ServiceContext, consultation_id: str) -> Consultation:
    with ctx.db.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        return consultation


def _next_reference(session: Session, year: int, is_postgres: bool) -> str:
    """Allocate the next number of the year in one statement; the row lock serialises concurrent submissions."""
    insert = pg_insert if is_postgres else sqlite_insert
    statement = (insert(ReferenceCounter).values(year=year, last=1)
                 .on_conflict_do_update(index_elements=[ReferenceCounter.year], set_={"last": ReferenceCounter.last + 1})
                 .returning(ReferenceCounter.last))
    return domain.format_reference(year, session.execute(statement).scalar_one())


def submit_comments(ctx: ServiceContext, cmd: domain.SubmitComments, *, now: datetime | None = None) -> Receipt:
    received_at = now or utcnow()
    token = domain.new_status_token()
    with ctx.transaction() as session:
        consultation = session.get(Consultation, cmd.consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        if cmd.channel not in consultation.channels:
            raise Refused(f"this consultation does not accept comments by {cmd.channel}")
        timing = domain.classify_timing(received_at, consultation.opens_at, consultation.closes_at)
        if timing is domain.Timing.NOT_YET_OPEN:
            raise Conflict("the consultation has not opened yet")
        if timing is domain.Timing.LATE and consultation.late_policy == domain.LatePolicy.REFUSE.value:
            raise Refused("the deadline for comments has passed", details={"closes_at": consultation.closes_at.isoformat()})
        reference = _next_reference(session, received_at.astimezone(ctx.settings.timezone).year, ctx.db.is_postgres)
        submission = Submission(
            id=str(uuid.uuid4()), reference=reference, consultation_id=consultation.id, channel=cmd.channel,
            submitter_name=cmd.submitter.name, organization=cmd.submitter.organization, email=cmd.submitter.email,
            publish_consent=cmd.submitter.publish_consent, kind=cmd.submitter.kind, language=cmd.language,
            received_at=received_at, late=timing is domain.Timing.LATE, status_token_hash=domain.hash_token(token),
        )
        submission.comments = [
            Comment(id=str(uuid.uuid4()), number=i, section=c.section, current_text=c.current_text,
                    proposal=c.proposal, justification=c.justification, topic=c.topic)
            for i, c in enumerate(cmd.comments, start=1)
        ]
        session.add(submission)
        status_url = f"{ctx.settings.public_url}/intake/status?{urlencode({'reference': reference, 'token': token})}"
        ctx.emit(session, "submission.received", {
            "submission_id": submission.id, "consultation_id": consultation.id,
            "consultation_title": consultation.title, "reference": reference, "channel": cmd.channel,
            "received_at": received_at, "late": submission.late, "language": cmd.language, "status_url": status_url,
            "submitter": {"name": cmd.submitter.name, "organization": cmd.submitter.organization,
                          "email": cmd.submitter.email, "publish_consent": cmd.submitter.publish_consent,
                          "kind": cmd.submitter.kind},
            "comments": [{"comment_id": c.id, "number": c.number, "section": c.section, "current_text": c.current_text,
                          "proposal": c.proposal, "justification": c.justification, "topic": c.topic}
                         for c in submission.comments],
        }, correlation_id=reference)
    return Receipt(submission.id, reference, token, status_url, [c.id for c in submission.comments],
                   submission.late, received_at)


def submission_status(ctx: ServiceContext, reference: str, token: str) -> Submission:
    with ctx.db.transaction() as session:
        submission = session.scalar(
            select(Submission).where(Submission.reference == reference).options(selectinload(Submission.comments))
        )
        # One answer for "no such reference" and "wrong token": references are guessable.
        if submission is None or not domain.token_matches(token, submission.status_token_hash):
            raise NotFound("no submission with this reference and token")
        return submission


# --- event handlers -------------------------------------------------------------


def on_comment_decided(event: Event, session: Session) -> None:
    """Keep each comment's public status current; older revisions never overwrite newer ones."""
    data = event.data
    comment = session.get(Comment, data["comment_id"])
    if comment is None or comment.decision_revision >= data["revision"]:
        return
    comment.status = data["decision"]
    comment.decision_justification = data["justification"] or ""
    comment.decision_revision = data["revision"]


def on_document_version_created(event: Event, session: Session) -> None:
    """Offer the current document's parts in the comment form."""
    data = event.data
    if not data.get("consultation_id"):
        return
    consultation = session.get(Consultation, data["consultation_id"])
    if consultation is None or (consultation.document_version or 0) >= data["version"]:
        return
    consultation.document_id = data["document_id"]
    consultation.document_version = data["version"]
    consultation.document_sections = [
        {"id": u.get("id"), "label": u.get("label"), "kind": u.get("kind")} for u in data.get("units", [])
    ]


EVENT_HANDLERS = {
    "comment.decided": [on_comment_decided],
    "document.version_created": [on_document_version_created],
}
