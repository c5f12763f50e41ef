"""Review use cases: staff users, the comment list, decisions, completing a review."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import ROLES, StaffIdentity
from services.common.events import Event, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.review.domain import Decide, DecisionRejected, validate_decision
from services.review.models import AuditEntry, ConsultationRef, DecisionRecord, ReviewComment, StaffUser


def _audit(session: Session, actor: str, action: str, subject: str, **details: object) -> None:
    session.add(AuditEntry(actor=actor, action=action, subject=subject, details=details))


def create_staff_user(ctx: ServiceContext, email: str, role: str, name: str = "", *, actor: str = "cli") -> tuple[StaffUser, str]:
    """Create a user (or reissue the token of an existing one with the same role) and return a token."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    with ctx.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = StaffUser(id=str(uuid.uuid4()), email=email, name=name, role=role)
            session.add(user)
            _audit(session, actor, "user.created", user.id, email=email, role=role)
        elif user.role != role:
            user.role = role
            _audit(session, actor, "user.role_changed", user.id, role=role)
    return user, ctx.signer.issue(user.id, user.email, user.role)


def list_comments(ctx: ServiceContext, *, consultation_id: str | None, status: str | None, decision: str | None,
                  limit: int, offset: int) -> tuple[list[ReviewComment], int]:
    with ctx.db.transaction() as session:
        query = select(ReviewComment)
        if consultation_id:
            query = query.where(ReviewComment.consultation_id == consultation_id)
        if status:
            query = query.where(ReviewComment.status == status)
        if decision:
            query = query.where(ReviewComment.decision == decision)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(ReviewComment.received_at, ReviewComment.reference, ReviewComment.number)
                               .limit(limit).offset(offset))
        return list(rows), total


def get_comment(ctx: ServiceContext, comment_id: str) -> ReviewComment:
    with ctx.db.transaction() as session:
        comment = session.get(ReviewComment, comment_id)
        if comment is None:
            raise NotFound("no such comment")
        return comment


def decide(ctx: ServiceContext, cmd: Decide, staff: StaffIdentity) -> ReviewComment:
    try:
        cmd = validate_decision(cmd)
    except DecisionRejected as exc:
        raise Invalid(str(exc), details={"json": exc.errors}) from None
    now = utcnow()
    with ctx.transaction() as session:
        query = select(ReviewComment).where(ReviewComment.id == cmd.comment_id)
        if ctx.db.is_postgres:
            query = query.with_for_update()
        comment = session.scalar(query)
        if comment is None:
            raise NotFound("no such comment")
        consultation = session.get(ConsultationRef, comment.consultation_id)
        if consultation is not None and consultation.completed_at is not None:
            raise Conflict("the review of this consultation is completed; decisions are closed")
        comment.revision += 1
        comment.status = "decided"
        comment.decision = cmd.decision
        comment.decision_justification = cmd.justification
        comment.final_text = cmd.final_text
        comment.decided_by = staff.email
        comment.decided_at = now
        session.add(DecisionRecord(comment_id=comment.id, revision=comment.revision, decision=cmd.decision,
                                   justification=cmd.justification, final_text=cmd.final_text,
                                   decided_by=staff.email, decided_at=now))
        _audit(session, staff.email, "comment.decided", comment.id, decision=cmd.decision, revision=comment.revision)
        ctx.emit(session, "comment.decided", {
            "comment_id": comment.id, "consultation_id": comment.consultation_id, "reference": comment.reference,
            "decision": cmd.decision, "justification": cmd.justification, "final_text": cmd.final_text,
            "decided_by": staff.email, "decided_at": now, "revision": comment.revision,
        }, correlation_id=comment.reference)
    return comment


def complete_review(ctx: ServiceContext, consultation_id: str, staff: StaffIdentity) -> dict:
    with ctx.transaction() as session:
        consultation = session.get(ConsultationRef, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        if consultation.completed_at is not None:
            raise Conflict("the review is already completed")
        comments = list(session.scalars(select(ReviewComment).where(ReviewComment.consultation_id == consultation_id)))
        undecided = [c.reference + f"#{c.number}" for c in comments if c.decision is None]
        if undecided:
            raise Conflict(f"{len(undecided)} comment(s) still have no decision", details={"undecided": undecided[:50]})
        counts = dict(Counter(c.decision for c in comments))
        consultation.completed_at = utcnow()
        _audit(session, staff.email, "consultation.review_completed", consultation_id, counts=counts)
        ctx.emit(session, "consultation.review_completed", {
            "consultation_id": consultation_id, "completed_at": consultation.completed_at,
            "completed_by": staff.email, "counts": counts,
        })
    return {"consultation_id": consultation_id, "completed_at": consultation.completed_at, "counts": counts}


# --- event handlers -------------------------------------------------------------


def on_consultation_published(event: Event, session: Session) -> None:
    data = event.data
    consultation = session.get(ConsultationRef, data["consultation_id"]) or ConsultationRef(id=data["consultation_id"])
    consultation.title = data["title"]
    consultation.closes_at = data["closes_at"]
    consultation.topics = list(data["topics"])
    session.add(consultation)


def on_submission_received(event: Event, session: Session) -> None:
    data = event.data
    submitter = data["submitter"]
    # Reviewers see organisations by name; private persons by name only internally.
    label = submitter.get("organization") or submitter["name"]
    for item in data["comments"]:
        if session.get(ReviewComment, item["comment_id"]) is not None:
            continue
        session.add(ReviewComment(
            id=item["comment_id"], consultation_id=data["consultation_id"], submission_id=data["submission_id"],
            reference=data["reference"], number=item["number"], channel=data["channel"],
            received_at=data["received_at"], late=data["late"], submitter_kind=submitter["kind"],
            submitter_label=label, section=item["section"], current_text=item["current_text"],
            proposal=item["proposal"], justification=item["justification"], topic=item.get("topic"),
        ))


EVENT_HANDLERS = {
    "consultation.published": [on_consultation_published],
    "submission.received": [on_submission_received],
}
