"""Review use cases: the comment list, completing a review (decisions: services.review.decisions; staff: identity)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.common.auth import StaffIdentity
from services.common.bus import TransientError, handles_many
from services.common.db import insert_missing
from services.common.events import Event, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.review import audit
from services.review.decisions import unapproved_count
from services.review.domain import DecisionRejected, completion_blockers, validate_reopen_reason
from services.review.groups import group_new_comments, ungroup_comment
from services.review.models import AuditEntry, CommentNote, ConsultationRef, DecisionRecord, ReviewComment
from services.review.search import search_for_session
from services.review.triage_handlers import TRIAGE_EVENT_HANDLERS


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


def complete_review(ctx: ServiceContext, consultation_id: str, staff: StaffIdentity, *,
                    now: datetime | None = None) -> dict:
    now = now or utcnow()
    with ctx.transaction() as session:
        consultation = session.get(ConsultationRef, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        comments = list(session.scalars(select(ReviewComment).where(ReviewComment.consultation_id == consultation_id)))
        undecided = [c.reference + f"#{c.number}" for c in comments if c.decision is None]
        blockers = completion_blockers(closes_at=consultation.closes_at, now=now,
                                       completed=consultation.completed_at is not None, undecided=undecided)
        if blockers:
            details: dict = {"reasons": sorted(blockers)}
            if undecided:
                details["undecided"] = undecided[:50]
            raise Conflict("; ".join(blockers.values()), details=details)
        waiting = unapproved_count(session, consultation_id)
        if waiting:
            raise Conflict(f"{waiting} decision(s) still wait for approval")
        counts = dict(Counter(c.decision for c in comments))
        consultation.completed_at = now
        audit.record(session, staff, "consultation.review_completed", consultation_id, consultation_id=consultation_id,
                     before={"completed_at": None}, after={"completed_at": consultation.completed_at}, counts=counts)
        ctx.emit(session, "consultation.review_completed", {
            "consultation_id": consultation_id, "completed_at": consultation.completed_at,
            "completed_by": staff.email, "counts": counts,
        })
    return {"consultation_id": consultation_id, "completed_at": consultation.completed_at, "counts": counts}


def reopen_review(ctx: ServiceContext, consultation_id: str, reason: str, staff: StaffIdentity) -> dict:
    """Open a completed review again (to correct a decision); the reason goes to the audit log and the bus."""
    try:
        reason = validate_reopen_reason(reason)
    except DecisionRejected as exc:
        raise Invalid(str(exc), details={"json": exc.errors}) from None
    now = utcnow()
    with ctx.transaction() as session:
        consultation = session.get(ConsultationRef, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        if consultation.completed_at is None:
            raise Conflict("the review is not completed; there is nothing to reopen")
        completed_at = consultation.completed_at
        consultation.completed_at = None
        audit.record(session, staff, "consultation.review_reopened", consultation_id, consultation_id=consultation_id,
                     before={"completed_at": completed_at}, after={"completed_at": None}, reason=reason)
        ctx.emit(session, "consultation.review_reopened", {
            "consultation_id": consultation_id, "reopened_at": now, "reopened_by": staff.email, "reason": reason,
        })
    return {"consultation_id": consultation_id, "reopened_at": now, "reason": reason}


# --- event handlers -------------------------------------------------------------


def on_consultation_published(event: Event, session: Session) -> None:
    data = event.data
    consultation = session.get(ConsultationRef, data["consultation_id"]) or ConsultationRef(id=data["consultation_id"])
    revision = int(data.get("revision") or 1)
    if revision < (consultation.revision or 0):
        return  # an older snapshot, redelivered after a newer one
    consultation.revision = revision
    consultation.title = data["title"]
    consultation.closes_at = data["closes_at"]
    consultation.topics = list(data["topics"])
    consultation.decisions_need_approval = bool(data.get("decisions_need_approval", True))
    session.add(consultation)


def store_submitted_comments(events: Sequence[Event], session: Session) -> None:
    """`submission.received` for many events: the comments not stored yet, in one INSERT."""
    rows: dict[str, dict] = {}
    for event in events:
        data = event.data
        submitter = data["submitter"]
        # Reviewers see organisations by name; private persons by name only internally.
        label = submitter.get("organization") or submitter["name"]
        provenance = _provenance(data)
        for item in data["comments"]:
            rows.setdefault(item["comment_id"], dict(
                id=item["comment_id"], consultation_id=data["consultation_id"], submission_id=data["submission_id"],
                reference=data["reference"], number=item["number"], channel=data["channel"],
                received_at=data["received_at"], late=data["late"], submitter_kind=submitter["kind"],
                submitter_label=label, section=item["section"], current_text=item["current_text"],
                proposal=item["proposal"], justification=item["justification"], topic=item.get("topic"),
                provenance=provenance, awaiting_transcription=bool(data.get("needs_review"))))
    insert_missing(session, ReviewComment, rows)


@handles_many(store_submitted_comments)
def on_submission_received(event: Event, session: Session) -> None:
    store_submitted_comments([event], session)


_TRANSCRIBED_FIELDS = ("section", "current_text", "proposal", "justification", "topic")


def on_submission_transcribed(event: Event, session: Session) -> None:
    """Staff transcribed a scanned or mailed submission: the placeholder comment takes the first transcribed
    comment's text, and the others are added. A changed comment is placed again (anchor, group, search) by
    the handlers that follow, as a new one would be; a redelivery finds nothing to change."""
    _take_new_texts(event, session, action="comment.transcribed")


def on_submission_corrected(event: Event, session: Session) -> None:
    """Staff corrected the comments they entered: changed ones take their new text (audited with the old), added
    ones join as new, removed ones leave review as a dismissed placeholder does."""
    _take_new_texts(event, session, action="comment.corrected")


def _take_new_texts(event: Event, session: Session, *, action: str) -> None:
    """The submission's comments as `event` (`submission.transcribed` or `.corrected`) gives them, unless review
    holds a newer revision of them (the events may come in any order); retried until the submission is here."""
    data = event.data
    held = {c.id: c for c in session.scalars(select(ReviewComment).where(ReviewComment.reference == data["reference"]))}
    if not held:
        raise TransientError(f"submission {data['reference']} is not in review's read model yet")
    if max(comment.text_revision for comment in held.values()) >= data["revision"]:
        return  # a redelivery, or older than what review holds
    actor = data["transcribed_by"]
    for item in data["comments"]:
        comment = held.get(item["comment_id"])
        if comment is None:
            continue  # added below
        comment.awaiting_transcription = False
        if all(getattr(comment, name) == item.get(name) for name in _TRANSCRIBED_FIELDS):
            continue
        before = {name: getattr(comment, name) for name in _TRANSCRIBED_FIELDS}
        for name in _TRANSCRIBED_FIELDS:
            setattr(comment, name, item.get(name))
        if data.get("provenance"):  # a transcription is entered anew; a correction keeps who entered it
            comment.provenance = _provenance(data)
        if comment.anchored_by in (None, "auto"):
            comment.unit_id = comment.chapter_id = comment.anchored_by = None
        ungroup_comment(session, comment)
        audit.record(session, actor, action, comment.id, before=before,
                     after={name: item.get(name) for name in _TRANSCRIBED_FIELDS},
                     consultation_id=comment.consultation_id)
    removed = [held.pop(comment_id) for comment_id in data.get("removed_comment_ids", ()) if comment_id in held]
    _drop_comments(session, removed, actor, "comment.removed")
    submitter = data["submitter"]  # staff may have read the sender's name or organisation from the letter
    for comment in held.values():
        comment.submitter_kind = submitter["kind"]
        comment.submitter_label = submitter.get("organization") or submitter["name"]
    store_submitted_comments([event], session)
    session.flush()
    ids = [item["comment_id"] for item in data["comments"]]
    sibling = next(iter(held.values()), None)
    for comment in session.scalars(select(ReviewComment).where(ReviewComment.id.in_(ids))):
        comment.text_revision = data["revision"]
        if comment.id not in held and comment.provenance is None and sibling is not None:
            comment.provenance = sibling.provenance  # added by a correction: entered as its siblings were


def _for_comments_taken(handler: Callable[[Event, Session], None]) -> Callable[[Event, Session], None]:
    """`handler` (a triage or grouping step) for the comments `_take_new_texts` took from the event, none when
    review held a newer revision: a late event does not place again the text it lost to a newer one, nor ask
    for a comment a correction removed."""
    def on_comments_taken(event: Event, session: Session) -> None:
        data = event.data
        taken = set(session.scalars(select(ReviewComment.id).where(
            ReviewComment.id.in_([item["comment_id"] for item in data["comments"]]),
            ReviewComment.text_revision == data["revision"])))
        comments = [item for item in data["comments"] if item["comment_id"] in taken]
        if comments:
            handler(replace(event, data={**data, "comments": comments}), session)

    on_comments_taken.__module__ = handler.__module__  # the inbox keys each step by its name
    on_comments_taken.__qualname__ = f"{handler.__qualname__}.on_comments_taken"
    return on_comments_taken


def _drop_comments(session: Session, comments: list[ReviewComment], actor: str, action: str, **details) -> None:
    """Comments that are no comments (a mail closed so, a row removed by a correction) leave review with their
    notes and decision records: queue, groups, search, counts, completion, report data. The audit entry keeps what
    they were, the staff's notes on them included."""
    if not comments:
        return
    ids = [comment.id for comment in comments]
    notes: dict[str, list[dict]] = {}  # kept in the audit entry: staff wrote them, and the comment goes
    for note in session.scalars(select(CommentNote).where(CommentNote.comment_id.in_(ids)).order_by(CommentNote.id)):
        notes.setdefault(note.comment_id, []).append(
            {"author": note.author, "at": note.created_at.isoformat(), "body": note.body[:2000]})
    session.execute(delete(CommentNote).where(CommentNote.comment_id.in_(ids)))
    session.execute(delete(DecisionRecord).where(DecisionRecord.comment_id.in_(ids)))
    search_for_session(session).forget(session, ids)
    for comment in comments:
        ungroup_comment(session, comment)
        audit.record(session, actor, action, comment.id,
                     before={"reference": comment.reference, "number": comment.number,
                             "proposal": comment.proposal[:500],
                             **({"notes": notes[comment.id]} if comment.id in notes else {})},
                     consultation_id=comment.consultation_id, **details)
        session.delete(comment)


def on_submission_dismissed(event: Event, session: Session) -> None:
    """Intake staff found no comments in a mail: its placeholder comments leave review (queue, groups, search,
    counts, completion, the report's data), each with an audit entry. A placeholder awaiting transcription has no
    decision (review refuses one); notes and any older decision records go with it. A dismissal that comes before
    the submission is retried; one already applied changes nothing."""
    data = event.data
    comments = list(session.scalars(select(ReviewComment).where(ReviewComment.id.in_(data["comment_ids"]))))
    if not comments:
        if session.scalar(select(AuditEntry.id).where(AuditEntry.action == "comment.dismissed",
                                                      AuditEntry.subject.in_(data["comment_ids"])).limit(1)):
            return
        raise TransientError(f"submission {data['reference']} is not in review's read model yet")
    _drop_comments(session, comments, data["dismissed_by"], "comment.dismissed", reason=data["reason"],
                   note=data["note"])


def on_submission_reopened(event: Event, session: Session) -> None:
    """Intake staff reopened a mail they had closed as holding no comments: its new placeholder joins review as
    a new comment awaiting transcription (the handlers that follow place it as a new one), with an audit entry.
    Retried until the dismissal has landed, so the dismissed placeholder and the new one are never both here."""
    data = event.data
    dismissed = data["dismissed_comment_ids"]
    if session.scalar(select(ReviewComment.id).where(ReviewComment.id.in_(dismissed)).limit(1)) is not None or \
            session.scalar(select(AuditEntry.id).where(AuditEntry.action == "comment.dismissed",
                                                       AuditEntry.subject.in_(dismissed)).limit(1)) is None:
        raise TransientError(f"the dismissal of submission {data['reference']} has not landed in review yet")
    ids = [item["comment_id"] for item in data["comments"]]
    if session.scalar(select(ReviewComment.id).where(ReviewComment.id.in_(ids)).limit(1)) is not None:
        return  # a redelivery
    store_submitted_comments([event], session)
    for item in data["comments"]:
        audit.record(session, data["reopened_by"], "comment.reopened", item["comment_id"],
                     after={"reference": data["reference"], "number": item["number"]},
                     consultation_id=data["consultation_id"], dismissed=dismissed)


def _provenance(submission: dict) -> dict | None:
    """Where a submission's comments came from, as JSON (dates and times in ISO form, which the page formats
    back): who entered them by hand and from what, and who signed the files they came in (not verified)."""
    provenance = {name: value.isoformat() if hasattr(value, "isoformat") else value
                  for name, value in (submission.get("provenance") or {}).items()}
    if submission.get("signed_by"):
        provenance["signed_by"] = list(submission["signed_by"])
    return provenance or None


def _merged(*tables: dict[str, list]) -> dict[str, list]:
    merged: dict[str, list] = {}
    for table in tables:
        for event_type, handlers in table.items():
            merged.setdefault(event_type, []).extend(handlers)
    return merged


# The steps that place a new submission's comments, for those a transcription or a correction changed or added.
AFTER_NEW_TEXTS = [_for_comments_taken(handler)
                   for handler in (*TRIAGE_EVENT_HANDLERS["submission.received"], group_new_comments)]

# Order matters within a type: the comments are stored before triage indexes and anchors them.
EVENT_HANDLERS = _merged({
    "consultation.published": [on_consultation_published],
    # Grouping runs after the comments are in the read model, in its own transaction.
    "submission.received": [on_submission_received, group_new_comments],
}, TRIAGE_EVENT_HANDLERS, {
    # The same steps as a new submission, after the placeholder's text is replaced.
    "submission.transcribed": [on_submission_transcribed, *AFTER_NEW_TEXTS],
    "submission.dismissed": [on_submission_dismissed],
    "submission.corrected": [on_submission_corrected, *AFTER_NEW_TEXTS],
    "submission.reopened": [on_submission_reopened, *TRIAGE_EVENT_HANDLERS["submission.received"],
                            group_new_comments],
})
