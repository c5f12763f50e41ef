"""Triage use cases: the queue, a comment's page, re-anchoring, assignment, internal notes; and their event handlers.

Every state change writes its audit entry (who, what before, what after) in
the same transaction, like Indico's `operations.py`. Assigning a selection of
comments is `decisions.assign_many` (shared with the bulk API); assigning a
chapter, which also covers comments still to come, is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import StaffIdentity
from services.common.bus import handles_many
from services.common.db import among
from services.common.events import Event
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.review import audit, drafts, triage
from services.review.models import (
    AuditEntry,
    ChapterAssignment,
    CommentNote,
    ConsultationRef,
    DecisionRecord,
    DraftUnit,
    ReviewComment,
    StaffUser,
)
from services.review.search import search_for_session
from services.review.triage import QueueFilters, QueuePage

MAX_NOTE_LENGTH = 10_000


def _comment_for_update(ctx: ServiceContext, session: Session, comment_id: str) -> ReviewComment:
    query = select(ReviewComment).where(ReviewComment.id == comment_id)
    if ctx.db.is_postgres:
        query = query.with_for_update()
    comment = session.scalar(query)
    if comment is None:
        raise NotFound("no such comment")
    return comment


# --- the queue ------------------------------------------------------------------


def queue_filters(ctx: ServiceContext, staff: StaffIdentity, new: QueueFilters | None, *,
                  loader: Callable[[Mapping], Mapping], reset: bool = False) -> QueueFilters:
    """The filters to show: `new` ones are remembered for this staff member; none given restores the last ones."""
    with ctx.db.transaction() as session:
        if reset:
            triage.forget_filters(session, staff.user_id)
            return QueueFilters()
        if new is not None:
            triage.remember_filters(session, staff.user_id, new)
            return new
        return triage.remembered_filters(session, staff.user_id, loader)


def queue_page(ctx: ServiceContext, staff: StaffIdentity, filters: QueueFilters, *, page: int = 1,
               per_page: int = triage.DEFAULT_PER_PAGE) -> QueuePage:
    with ctx.db.transaction() as session:
        return triage.load_page(session, filters, me=staff.email, page=page, per_page=per_page)


def queue_neighbour(ctx: ServiceContext, staff: StaffIdentity, filters: QueueFilters, position: int) -> ReviewComment | None:
    with ctx.db.transaction() as session:
        return triage.comment_at(session, filters, me=staff.email, position=position)


@dataclass(frozen=True)
class QueueChoices:
    """What the queue's filter controls offer."""

    consultations: Sequence[ConsultationRef]
    topics: Sequence[str]
    units: Sequence[DraftUnit]
    assignees: Sequence[str]
    statuses: Sequence[str]
    assignee_labels: Mapping[str, str] = field(default_factory=dict)  # e-mail -> "Name (e-mail)"


def queue_choices(ctx: ServiceContext, consultation_id: str | None) -> QueueChoices:
    with ctx.db.transaction() as session:
        consultations = list(session.scalars(select(ConsultationRef).order_by(ConsultationRef.closes_at.desc())))
        topics: set[str] = set()
        for consultation in consultations:
            if consultation_id in (None, consultation.id):
                topics.update(consultation.topics or [])
        units = drafts.draft_units(session, consultation_id) if consultation_id else []
        statuses = sorted(set(session.scalars(select(ReviewComment.status).distinct())) | {"new", "decided"})
        return QueueChoices(consultations, sorted(topics), units, staff_emails(session), statuses,
                            staff_labels(session))


def staff_emails(session: Session) -> list[str]:
    return list(session.scalars(select(StaffUser.email).where(StaffUser.active.is_(True)).order_by(StaffUser.email)))


def staff_labels(session: Session) -> dict[str, str]:
    """How a choice of an active staff member reads: their name with the address, or the address alone."""
    return {email: f"{name} ({email})" if name else email for email, name in session.execute(
        select(StaffUser.email, StaffUser.name).where(StaffUser.active.is_(True)))}


# --- a comment's page ------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    comment: ReviewComment
    consultation: ConsultationRef | None
    unit: DraftUnit | None
    chapter: DraftUnit | None
    units: Sequence[DraftUnit]
    submission_comments: Sequence[ReviewComment]
    group_members: Sequence[ReviewComment]
    history: Sequence[AuditEntry]
    decisions: Sequence[DecisionRecord]
    notes: Sequence[CommentNote]
    assignees: Sequence[str]
    chapter_assignee: str | None = None
    extras: dict = field(default_factory=dict)
    assignee_labels: Mapping[str, str] = field(default_factory=dict)  # e-mail -> "Name (e-mail)"

    @property
    def corrected_after_decision(self) -> bool:
        """Intake staff corrected the comment's text after its latest decision was taken or proposed (intake
        accepts a correction until an approved decision reaches it): the decision may be about the old text."""
        corrected = [entry.at for entry in self.history if entry.action == "comment.corrected"]
        return bool(corrected and self.decisions and max(corrected) > self.decisions[-1].decided_at)


def group_members(session: Session, comment: ReviewComment) -> list[ReviewComment]:
    """The other members of the comment's duplicate group (none until it is grouped)."""
    if not comment.group_id:
        return []
    return list(session.scalars(select(ReviewComment).where(
        triage.group_condition(comment.group_id), ReviewComment.id != comment.id)
        .order_by(ReviewComment.received_at, ReviewComment.reference, ReviewComment.number).limit(500)))


def comment_view(ctx: ServiceContext, comment_id: str) -> CommentView:
    with ctx.db.transaction() as session:
        comment = session.get(ReviewComment, comment_id)
        if comment is None:
            raise NotFound("no such comment")
        units = drafts.draft_units(session, comment.consultation_id)
        by_id = {unit.unit_id: unit for unit in units}
        siblings = list(session.scalars(select(ReviewComment).where(
            ReviewComment.submission_id == comment.submission_id, ReviewComment.id != comment.id)
            .order_by(ReviewComment.number)))
        history = audit.history(session, comment.id)
        decisions = list(session.scalars(select(DecisionRecord).where(DecisionRecord.comment_id == comment.id)
                                         .order_by(DecisionRecord.revision)))
        notes = list(session.scalars(select(CommentNote).where(CommentNote.comment_id == comment.id)
                                     .order_by(CommentNote.created_at, CommentNote.id)))
        chapter_rule = session.get(ChapterAssignment, (comment.consultation_id, comment.chapter_id or ""))
        return CommentView(
            comment=comment, consultation=session.get(ConsultationRef, comment.consultation_id),
            unit=by_id.get(comment.unit_id or ""), chapter=by_id.get(comment.chapter_id or ""), units=units,
            submission_comments=siblings, group_members=group_members(session, comment), history=history,
            decisions=decisions, notes=notes, assignees=staff_emails(session),
            chapter_assignee=chapter_rule.assignee if chapter_rule else None, assignee_labels=staff_labels(session))


# --- changes -------------------------------------------------------------------------


def reanchor(ctx: ServiceContext, comment_id: str, unit_id: str, staff: StaffIdentity) -> ReviewComment:
    """Anchor a comment to another unit of its consultation's draft."""
    with ctx.transaction() as session:
        comment = _comment_for_update(ctx, session, comment_id)
        unit = drafts.unit_of(session, comment.consultation_id, unit_id)
        if unit is None:
            raise Invalid("no such unit in this consultation's draft", details={"json": {"unit": ["unknown unit"]}})
        before = {"unit": comment.unit_id, "chapter": comment.chapter_id}
        comment.unit_id, comment.chapter_id, comment.anchored_by = unit.unit_id, unit.chapter_id, staff.email
        if before["unit"] != unit.unit_id:
            audit.record(session, staff, "comment.reanchored", comment.id, before=before,
                         after={"unit": unit.unit_id, "chapter": unit.chapter_id}, label=unit.label,
                         consultation_id=comment.consultation_id)
            if comment.assignee is None:
                _apply_chapter_rules(session, [comment], actor=staff.email)
    return comment


def _known_assignee(session: Session, assignee: str | None) -> str | None:
    if assignee is None:
        return None
    email = assignee.strip().lower()
    if email not in staff_emails(session):
        raise Invalid("the assignee is not an active staff member",
                      details={"json": {"assignee": ["not an active staff member"]}})
    return email


def assign_chapter(ctx: ServiceContext, consultation_id: str, chapter_id: str, assignee: str | None,
                   staff: StaffIdentity) -> int:
    """Make a reviewer responsible for a chapter: its current comments now, its future ones as they come.

    Returns how many current comments changed hands. None as assignee ends the rule (assignments stay).
    """
    with ctx.transaction() as session:
        units = drafts.draft_units(session, consultation_id)
        if not any(unit.unit_id == chapter_id and unit.chapter_id == chapter_id for unit in units):
            raise Invalid("no such chapter in this consultation's draft",
                          details={"json": {"chapter": ["unknown chapter"]}})
        email = _known_assignee(session, assignee)
        rule = session.get(ChapterAssignment, (consultation_id, chapter_id))
        before = rule.assignee if rule else None
        if email is None:
            if rule is not None:
                session.delete(rule)
            audit.record(session, staff, "chapter.unassigned", chapter_id, before={"assignee": before},
                         after={"assignee": None}, consultation_id=consultation_id)
            return 0
        if rule is None:
            rule = ChapterAssignment(consultation_id=consultation_id, chapter_id=chapter_id)
            session.add(rule)
        rule.assignee, rule.assigned_by, rule.assigned_at = email, staff.email, triage.utcnow()
        audit.record(session, staff, "chapter.assigned", chapter_id, before={"assignee": before},
                     after={"assignee": email}, consultation_id=consultation_id)
        changed = 0
        for comment in session.scalars(select(ReviewComment).where(
                ReviewComment.consultation_id == consultation_id, ReviewComment.chapter_id == chapter_id)):
            if comment.assignee != email:
                audit.record(session, staff, "comment.assigned", comment.id, before={"assignee": comment.assignee},
                             after={"assignee": email}, consultation_id=consultation_id, chapter=chapter_id)
                comment.assignee = email
                changed += 1
        return changed


def add_note(ctx: ServiceContext, comment_id: str, body: str, staff: StaffIdentity) -> CommentNote:
    text = (body or "").strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        raise Invalid("a note needs 1 to 10,000 characters", details={"json": {"body": ["1 to 10000 characters"]}})
    with ctx.transaction() as session:
        comment = session.get(ReviewComment, comment_id)
        if comment is None:
            raise NotFound("no such comment")
        note = CommentNote(comment_id=comment.id, author=staff.email, body=text, created_at=triage.utcnow())
        session.add(note)
        session.flush()
        audit.record(session, staff, "comment.note_added", comment.id, after={"note": text[:500]}, note_id=note.id,
                     consultation_id=comment.consultation_id)
    return note


def list_notes(ctx: ServiceContext, comment_id: str) -> list[CommentNote]:
    with ctx.db.transaction() as session:
        if session.get(ReviewComment, comment_id) is None:
            raise NotFound("no such comment")
        return list(session.scalars(select(CommentNote).where(CommentNote.comment_id == comment_id)
                                    .order_by(CommentNote.created_at, CommentNote.id)))


# --- event handlers -------------------------------------------------------------------


def _apply_chapter_rules(session: Session, comments: Iterable[ReviewComment], *, actor: str) -> None:
    """Give unassigned comments to the reviewer responsible for their chapter."""
    rules: dict[tuple[str, str], str | None] = {}
    for comment in comments:
        if comment.assignee is not None or comment.chapter_id is None:
            continue
        key = (comment.consultation_id, comment.chapter_id)
        if key not in rules:
            rule = session.get(ChapterAssignment, key)
            rules[key] = rule.assignee if rule else None
        if rules[key]:
            comment.assignee = rules[key]
            audit.record(session, actor, "comment.assigned", comment.id, before={"assignee": None},
                         after={"assignee": rules[key]}, consultation_id=comment.consultation_id,
                         chapter=comment.chapter_id)


def place_submitted_comments(events: Sequence[Event], session: Session) -> None:
    """`on_submission_received` for many events: one query for their comments, one draft per consultation."""
    ids = [item["comment_id"] for event in events for item in event.data["comments"]]
    comments = list(session.scalars(select(ReviewComment).where(among(session, ReviewComment.id, ids))))
    search_for_session(session).index(session, comments)
    by_consultation: dict[str, list[ReviewComment]] = {}
    for comment in comments:
        by_consultation.setdefault(comment.consultation_id, []).append(comment)
    for consultation_id, members in by_consultation.items():
        units = drafts.draft_units(session, consultation_id)
        drafts.anchor_comments(session, [c for c in members if c.unit_id is None], units)
    session.flush()
    _apply_chapter_rules(session, comments, actor="system")


@handles_many(place_submitted_comments)
def on_submission_received(event: Event, session: Session) -> None:
    """Make the new comments findable, anchor them in the draft and apply the chapter assignments.

    Runs after review's `handlers.on_submission_received`, which stores the comments.
    """
    place_submitted_comments([event], session)


def on_document_version_created(event: Event, session: Session) -> None:
    became_draft = drafts.store_version(event, session)
    if became_draft is None:
        return
    consultation_id, units = became_draft
    comments = list(session.scalars(select(ReviewComment).where(ReviewComment.consultation_id == consultation_id)))
    drafts.anchor_comments(session, comments, units)
    session.flush()
    _apply_chapter_rules(session, comments, actor="system")


TRIAGE_EVENT_HANDLERS: dict[str, list[Callable[[Event, Session], None]]] = {
    "submission.received": [on_submission_received],
    "document.version_created": [on_document_version_created],
}
