"""Decision use cases: decide (or propose), approve, return, bulk steps, standard justifications, progress.

Each function is one unit of work: it checks the rules (`domain.validate_decision`
for the content, `approval` for who may take which step), changes the rows,
appends its audit entries and stages `comment.decided` in the same transaction.
`comment.decided` goes out only for an approved revision, so documents and
notify never see a proposal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.common.auth import StaffIdentity
from services.common.events import DECISIONS, utcnow
from services.common.runtime import ServiceContext
from services.common.ui import N_
from services.common.web import Conflict, DomainError, Invalid, NotFound, Refused
from services.review import approval, audit, drafts
from services.review.domain import Decide, DecisionRejected, validate_decision
from services.review.models import ConsultationRef, DecisionRecord, ReviewComment, StandardJustification

MAX_BULK = 1000
DECISION_FIELDS = ("decision", "justification", "final_text", "approval_state", "revision")


def _domain_error(exc: approval.ApprovalError) -> DomainError:
    if exc.kind == "forbidden":
        return Refused(exc.message)
    if exc.kind == "invalid":
        return Invalid(exc.message)
    return Conflict(exc.message)


def _is_coordinator(staff: StaffIdentity) -> bool:
    return staff.has_role("coordinator")


def _snapshot(comment: ReviewComment) -> dict[str, Any]:
    return {"decision": comment.decision, "justification": comment.decision_justification,
            "final_text": comment.final_text, "approval_state": comment.approval_state, "revision": comment.revision}


def _lock_comments(ctx: ServiceContext, session: Session, comment_ids: Sequence[str]) -> list[ReviewComment]:
    """The comments in the order asked, locked on PostgreSQL; unknown ids are a 404 naming them."""
    query = select(ReviewComment).where(ReviewComment.id.in_(list(comment_ids))).order_by(ReviewComment.id)
    if ctx.db.is_postgres:
        query = query.with_for_update()
    found = {c.id: c for c in session.scalars(query)}
    missing = [i for i in comment_ids if i not in found]
    if missing:
        raise NotFound(N_("No such comment."), details={"missing": missing[:100]})
    return [found[i] for i in comment_ids]


def _open_consultation(session: Session, comment: ReviewComment, cache: dict) -> ConsultationRef | None:
    if comment.consultation_id not in cache:
        cache[comment.consultation_id] = session.get(ConsultationRef, comment.consultation_id)
    consultation = cache[comment.consultation_id]
    if consultation is not None and consultation.completed_at is not None:
        raise Conflict(N_("The review of this consultation is completed; decisions are closed."))
    return consultation


def _latest_record(session: Session, comment: ReviewComment) -> DecisionRecord | None:
    if not comment.revision:
        return None
    return session.scalar(select(DecisionRecord).where(DecisionRecord.comment_id == comment.id,
                                                        DecisionRecord.revision == comment.revision))


def _emit_decided(ctx: ServiceContext, session: Session, comment: ReviewComment, record: DecisionRecord) -> None:
    ctx.emit(session, "comment.decided", {
        "comment_id": comment.id, "consultation_id": comment.consultation_id, "reference": comment.reference,
        "decision": record.decision, "justification": record.justification, "final_text": record.final_text,
        "decided_by": record.decided_by, "decided_at": record.decided_at, "revision": record.revision,
        "approved_by": record.reviewed_by or record.decided_by, "approved_at": record.reviewed_at or record.decided_at,
    }, correlation_id=comment.reference)


def _standard_text(session: Session, standard_id: int | None, consultation_id: str) -> StandardJustification | None:
    if standard_id is None:
        return None
    standard = session.get(StandardJustification, standard_id)
    if standard is None or standard.consultation_id != consultation_id or not standard.active:
        raise Invalid(N_("The standard justification does not belong to this consultation or is archived."),
                      details={"json": {"standard_justification_id": ["unknown for this consultation"]}})
    return standard


def _validated(cmd: Decide) -> Decide:
    try:
        return validate_decision(cmd)
    except DecisionRejected as exc:
        raise Invalid(str(exc), details={"json": exc.errors}) from None


def _apply(ctx: ServiceContext, session: Session, comment: ReviewComment, consultation: ConsultationRef | None,
           cmd: Decide, staff: StaffIdentity, *, approve: bool | None, standard_id: int | None,
           now: datetime, via: dict | None = None) -> None:
    if comment.awaiting_transcription:  # deciding on the mail's text would refuse its transcription for good
        raise Conflict(N_("A comment selected is the text of an e-mail that staff have not transcribed yet; decide "
                          "on it once it is transcribed (E-mails to transcribe)."))
    standard = _standard_text(session, standard_id, comment.consultation_id)
    if standard is not None and not cmd.justification.strip():
        cmd = Decide(cmd.comment_id, cmd.decision, standard.text, cmd.final_text)
    cmd = _validated(cmd)
    needs_approval = consultation.decisions_need_approval if consultation is not None else True
    try:
        step = approval.after_decision(needs_approval=needs_approval, by_coordinator=_is_coordinator(staff),
                                       approve_now=approve)
    except approval.ApprovalError as exc:
        raise _domain_error(exc) from None
    before = _snapshot(comment)
    previous = _latest_record(session, comment)
    if previous is not None:
        previous.state = approval.replaced_record_state(previous.state)
    comment.revision += 1
    comment.status = "decided"
    comment.decision = cmd.decision
    comment.decision_justification = cmd.justification
    comment.final_text = cmd.final_text
    comment.decided_by = staff.email
    comment.decided_at = now
    comment.approval_state = step.state
    comment.approval_note = ""
    record = DecisionRecord(comment_id=comment.id, revision=comment.revision, decision=cmd.decision,
                            justification=cmd.justification, final_text=cmd.final_text, decided_by=staff.email,
                            decided_at=now, state=step.state, standard_justification_id=standard_id)
    if step.state == approval.APPROVED:
        record.reviewed_by, record.reviewed_at = staff.email, now
        comment.approved_by, comment.approved_at, comment.approved_revision = staff.email, now, comment.revision
    session.add(record)
    changed_before, changed_after = audit.changes(before, _snapshot(comment))
    changed_before["revision"], changed_after["revision"] = before["revision"], comment.revision
    audit.record(session, staff, "comment.decided", comment.id, before=changed_before, after=changed_after,
                 consultation_id=comment.consultation_id, **(via or {}))
    if step.emit:
        session.flush()
        _emit_decided(ctx, session, comment, record)


def decide(ctx: ServiceContext, cmd: Decide, staff: StaffIdentity, *, approve: bool | None = None,
           standard_justification_id: int | None = None) -> ReviewComment:
    """Decide on one comment: approved at once, or a proposal when the consultation needs approval."""
    if standard_justification_id is None:
        _validated(cmd)  # bad content is a 422 whether or not the comment exists
    now = utcnow()
    with ctx.transaction() as session:
        (comment,) = _lock_comments(ctx, session, [cmd.comment_id])
        consultation = _open_consultation(session, comment, {})
        _apply(ctx, session, comment, consultation, cmd, staff, approve=approve,
               standard_id=standard_justification_id, now=now)
    return comment


def decide_many(ctx: ServiceContext, comment_ids: Sequence[str], decision: str, justification: str,
                final_text: str | None, staff: StaffIdentity, *, approve: bool | None = None,
                standard_justification_id: int | None = None, group_id: str | None = None) -> list[ReviewComment]:
    """One decision on a selection or a group, all or nothing; each comment keeps its own record and event."""
    ids = _bounded_ids(comment_ids)
    if standard_justification_id is None:
        _validated(Decide("", decision, justification or "", final_text))
    now = utcnow()
    via = {"bulk": len(ids)} | ({"group_id": group_id} if group_id else {})
    with ctx.transaction() as session:
        comments = _lock_comments(ctx, session, ids)
        cache: dict = {}
        for comment in comments:
            consultation = _open_consultation(session, comment, cache)
            _apply(ctx, session, comment, consultation, Decide(comment.id, decision, justification or "", final_text),
                   staff, approve=approve, standard_id=standard_justification_id, now=now, via=via)
    return comments


def approve(ctx: ServiceContext, comment_id: str, staff: StaffIdentity, note: str = "") -> ReviewComment:
    with ctx.transaction() as session:
        (comment,) = _lock_comments(ctx, session, [comment_id])
        _open_consultation(session, comment, {})
        _approve(ctx, session, comment, staff, note, utcnow())
    return comment


def _approve(ctx: ServiceContext, session: Session, comment: ReviewComment, staff: StaffIdentity, note: str,
             now: datetime, via: dict | None = None) -> None:
    try:
        step = approval.after_approval(comment.approval_state, by_coordinator=_is_coordinator(staff))
    except approval.ApprovalError as exc:
        raise _domain_error(exc) from None
    record = _latest_record(session, comment)
    assert record is not None  # a proposed comment has a record of its revision
    record.state, record.reviewed_by, record.reviewed_at, record.review_note = step.state, staff.email, now, note
    before = {"approval_state": comment.approval_state, "approved_revision": comment.approved_revision}
    comment.approval_state, comment.approval_note = step.state, note
    comment.approved_by, comment.approved_at, comment.approved_revision = staff.email, now, comment.revision
    audit.record(session, staff, "comment.decision_approved", comment.id, before=before,
                 after={"approval_state": step.state, "approved_revision": comment.revision},
                 consultation_id=comment.consultation_id, decision=comment.decision, revision=comment.revision,
                 **({"note": note} if note else {}), **(via or {}))
    _emit_decided(ctx, session, comment, record)


def return_decision(ctx: ServiceContext, comment_id: str, staff: StaffIdentity, note: str) -> ReviewComment:
    """Send a proposal back to its reviewer with a note; nothing leaves the service."""
    now = utcnow()
    with ctx.transaction() as session:
        (comment,) = _lock_comments(ctx, session, [comment_id])
        _open_consultation(session, comment, {})
        try:
            step = approval.after_return(comment.approval_state, note, by_coordinator=_is_coordinator(staff))
        except approval.ApprovalError as exc:
            raise _domain_error(exc) from None
        note = note.strip()
        record = _latest_record(session, comment)
        assert record is not None
        record.state, record.reviewed_by, record.reviewed_at, record.review_note = step.state, staff.email, now, note
        audit.record(session, staff, "comment.decision_returned", comment.id,
                     before={"approval_state": comment.approval_state}, after={"approval_state": step.state},
                     consultation_id=comment.consultation_id, note=note, revision=comment.revision)
        comment.approval_state, comment.approval_note = step.state, note
    return comment


@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def approve_many(ctx: ServiceContext, comment_ids: Sequence[str], staff: StaffIdentity, *,
                 group_id: str | None = None) -> BulkOutcome:
    """Approve every proposal in the selection (or the group); the others are skipped with their state."""
    if not _is_coordinator(staff):
        raise Refused(N_("Only a coordinator can approve a decision."))
    ids = [] if group_id else _bounded_ids(comment_ids)
    outcome = BulkOutcome()
    now = utcnow()
    with ctx.transaction() as session:
        ids = _group_members(session, group_id) if group_id else ids
        cache: dict = {}
        for comment in _lock_comments(ctx, session, ids):
            if comment.approval_state != approval.PROPOSED:
                outcome.skipped[comment.id] = comment.approval_state or "undecided"
                continue
            _open_consultation(session, comment, cache)
            _approve(ctx, session, comment, staff, "", now,
                     via={"bulk": len(ids)} | ({"group_id": group_id} if group_id else {}))
            outcome.done.append(comment.id)
    return outcome


def assign_many(ctx: ServiceContext, comment_ids: Sequence[str], assignee: str | None,
                staff: StaffIdentity) -> BulkOutcome:
    """Give a selection to a reviewer (or take it back with None); unchanged ones are skipped."""
    if not _is_coordinator(staff):
        raise Refused(N_("Only a coordinator can assign comments."))
    ids = _bounded_ids(comment_ids)
    assignee = (assignee or "").strip().lower() or None
    outcome = BulkOutcome()
    with ctx.transaction() as session:
        for comment in _lock_comments(ctx, session, ids):
            if comment.assignee == assignee:
                outcome.skipped[comment.id] = "unchanged"
                continue
            audit.record(session, staff, "comment.assigned", comment.id, before={"assignee": comment.assignee},
                         after={"assignee": assignee}, consultation_id=comment.consultation_id, bulk=len(ids))
            comment.assignee = assignee
            outcome.done.append(comment.id)
    return outcome


def _group_members(session: Session, group_id: str) -> list[str]:
    """A duplicate group's members: a group decision or approval may exceed the selection limit."""
    ids = list(session.scalars(select(ReviewComment.id).where(ReviewComment.group_id == group_id)
                               .order_by(ReviewComment.received_at, ReviewComment.id)))
    if not ids:
        raise NotFound(N_("No such group."))
    return ids


def _bounded_ids(comment_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(str(i).strip() for i in comment_ids if str(i).strip()))
    if not ids:
        raise Invalid(N_("Select at least one comment."), details={"json": {"comment_ids": ["empty selection"]}})
    if len(ids) > MAX_BULK:
        raise Invalid(N_("Too many comments at once: select at most 1000."),
                      details={"json": {"comment_ids": [f"at most {MAX_BULK}"]}})
    return ids


# --- reading ------------------------------------------------------------------------------


def list_by_approval(ctx: ServiceContext, *, consultation_id: str | None, state: str | None, limit: int,
                     offset: int) -> tuple[list[ReviewComment], int]:
    """Comments with a decision, waiting ones first (proposed, then returned), oldest decision first."""
    with ctx.db.transaction() as session:
        query = select(ReviewComment).where(ReviewComment.approval_state.is_not(None))
        if consultation_id:
            query = query.where(ReviewComment.consultation_id == consultation_id)
        if state:
            query = query.where(ReviewComment.approval_state == state)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        waiting_first = case({approval.PROPOSED: 0, approval.RETURNED: 1}, value=ReviewComment.approval_state, else_=2)
        rows = session.scalars(query.order_by(waiting_first, ReviewComment.decided_at, ReviewComment.id)
                               .limit(limit).offset(offset))
        return list(rows), total


def revisions(ctx: ServiceContext, comment_id: str) -> list[DecisionRecord]:
    with ctx.db.transaction() as session:
        if session.get(ReviewComment, comment_id) is None:
            raise NotFound(N_("No such comment."))
        return list(session.scalars(select(DecisionRecord).where(DecisionRecord.comment_id == comment_id)
                                    .order_by(DecisionRecord.revision)))


# --- standard justifications ----------------------------------------------------------------


def standard_justifications(ctx: ServiceContext, consultation_id: str, *,
                            include_archived: bool = False) -> list[StandardJustification]:
    with ctx.db.transaction() as session:
        query = select(StandardJustification).where(StandardJustification.consultation_id == consultation_id)
        if not include_archived:
            query = query.where(StandardJustification.active.is_(True))
        return list(session.scalars(query.order_by(StandardJustification.title, StandardJustification.id)))


def _clean_standard(title: str, text: str) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    errors = {}
    if not title:
        errors["title"] = [N_("Give a short title.")]
    if not text:
        errors["text"] = [N_("Give the text of the justification.")]
    if errors:
        raise Invalid(N_("A standard justification needs a title and a text."), details={"json": errors})
    return title, text


def create_standard_justification(ctx: ServiceContext, consultation_id: str, title: str, text: str,
                                  staff: StaffIdentity) -> StandardJustification:
    title, text = _clean_standard(title, text)
    with ctx.transaction() as session:
        if session.get(ConsultationRef, consultation_id) is None:
            raise NotFound(N_("No such consultation."))
        standard = StandardJustification(consultation_id=consultation_id, title=title, text=text, active=True,
                                         created_by=staff.email)
        session.add(standard)
        session.flush()
        audit.record(session, staff, "standard_justification.created", f"sj:{standard.id}",
                     after={"title": title, "text": text}, consultation_id=consultation_id)
    return standard


def update_standard_justification(ctx: ServiceContext, standard_id: int, staff: StaffIdentity, *,
                                  title: str | None = None, text: str | None = None,
                                  active: bool | None = None) -> StandardJustification:
    with ctx.transaction() as session:
        standard = session.get(StandardJustification, standard_id)
        if standard is None:
            raise NotFound(N_("No such standard justification."))
        before = {"title": standard.title, "text": standard.text, "active": standard.active}
        new_title, new_text = _clean_standard(standard.title if title is None else title,
                                              standard.text if text is None else text)
        standard.title, standard.text = new_title, new_text
        if active is not None:
            standard.active = active
        standard.updated_at = utcnow()
        old, new = audit.changes(before, {"title": standard.title, "text": standard.text, "active": standard.active})
        if new:
            audit.record(session, staff, "standard_justification.changed", f"sj:{standard.id}", before=old,
                         after=new, consultation_id=standard.consultation_id)
    return standard


def standard_sources(ctx: ServiceContext, consultation_id: str) -> list[tuple[str, str, int]]:
    """(id, title, how many in use) of the other consultations with standard justifications in use, newest
    deadline first: where a coordinator copies them from (each year's are mostly last year's)."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(ConsultationRef.id, ConsultationRef.title, func.count(StandardJustification.id))
            .join(StandardJustification, StandardJustification.consultation_id == ConsultationRef.id)
            .where(StandardJustification.active.is_(True), ConsultationRef.id != consultation_id)
            .group_by(ConsultationRef.id, ConsultationRef.title, ConsultationRef.closes_at)
            .order_by(ConsultationRef.closes_at.desc()))
        return [(row[0], row[1], row[2]) for row in rows]


def _same_title(title: str) -> str:
    return " ".join(title.split()).casefold()


def copy_standard_justifications(ctx: ServiceContext, consultation_id: str, source_id: str,
                                 staff: StaffIdentity) -> tuple[int, int]:
    """Copy the source consultation's standard justifications in use into this one: (copied, already there).

    One whose title this consultation already has (in use or archived, any case or spacing) is left out, so a
    second copy, or a copy after some were added by hand, adds nothing twice. Each copy is audited as added,
    naming where it came from."""
    if source_id == consultation_id:
        raise Invalid(N_("Choose another consultation to copy from."))
    with ctx.transaction() as session:
        if session.get(ConsultationRef, consultation_id) is None:
            raise NotFound(N_("No such consultation."))
        source_consultation = session.get(ConsultationRef, source_id)
        if source_consultation is None:
            raise Invalid(N_("Choose another consultation to copy from."))
        held = {_same_title(title) for title in session.scalars(
            select(StandardJustification.title).where(StandardJustification.consultation_id == consultation_id))}
        sources = session.scalars(select(StandardJustification).where(
            StandardJustification.consultation_id == source_id, StandardJustification.active.is_(True))
            .order_by(StandardJustification.title, StandardJustification.id))
        copied = skipped = 0
        for source in sources:
            if _same_title(source.title) in held:
                skipped += 1
                continue
            held.add(_same_title(source.title))
            standard = StandardJustification(consultation_id=consultation_id, title=source.title, text=source.text,
                                             active=True, created_by=staff.email)
            session.add(standard)
            session.flush()
            audit.record(session, staff, "standard_justification.created", f"sj:{standard.id}",
                         after={"title": source.title, "text": source.text, "copied_from": source_consultation.title},
                         consultation_id=consultation_id)
            copied += 1
    return copied, skipped


# --- progress ----------------------------------------------------------------------------

_CHAPTER = re.compile(r"(rozdzia[łl]\s+[\divxlc]+|rozdz\.\s*[\divxlc]+|§\s*\d+[a-z]?)", re.IGNORECASE)


def chapter_of(section: str) -> str:
    """The chapter a comment's "part of the document" names: "§ 5 ust. 2 pkt 2" is in "§ 5"."""
    match = _CHAPTER.search(section or "")
    if match is None:
        text = " ".join((section or "").split())
        return text[:60] if text else "—"
    found = " ".join(match.group(1).split())
    return re.sub(r"§\s*", "§ ", found)


@dataclass
class Tally:
    total: int = 0
    undecided: int = 0
    proposed: int = 0
    returned: int = 0
    approved: int = 0

    @property
    def unapproved(self) -> int:
        return self.proposed + self.returned

    def add(self, approval_state: str | None, count: int) -> None:
        self.total += count
        if approval_state is None:
            self.undecided += count
        else:
            setattr(self, approval_state, getattr(self, approval_state) + count)


@dataclass
class ConsultationProgress:
    consultation_id: str
    title: str
    needs_approval: bool
    completed: bool
    open_until: datetime | None = None  # the deadline, while the consultation is still open (no completion yet)
    overall: Tally = field(default_factory=Tally)
    by_decision: dict[str, int] = field(default_factory=dict)
    by_reviewer: dict[str, Tally] = field(default_factory=dict)
    by_chapter: dict[str, Tally] = field(default_factory=dict)


def progress(ctx: ServiceContext, consultation_id: str | None = None) -> list[ConsultationProgress]:
    """Counts per consultation: overall, by decision, by reviewer (assignee) and by chapter, grouped in SQL."""
    with ctx.db.transaction() as session:
        consultations = select(ConsultationRef)
        if consultation_id:
            consultations = consultations.where(ConsultationRef.id == consultation_id)
        now = utcnow()
        result = {c.id: ConsultationProgress(c.id, c.title, c.decisions_need_approval, c.completed_at is not None,
                                             c.closes_at if c.closes_at and c.closes_at > now else None)
                  for c in session.scalars(consultations.order_by(ConsultationRef.closes_at.desc()))}
        if consultation_id and not result:
            raise NotFound(N_("No such consultation."))
        query = (select(ReviewComment.consultation_id, ReviewComment.assignee, ReviewComment.chapter_id,
                        ReviewComment.section, ReviewComment.approval_state, ReviewComment.decision, func.count())
                 .group_by(ReviewComment.consultation_id, ReviewComment.assignee, ReviewComment.chapter_id,
                           ReviewComment.section, ReviewComment.approval_state, ReviewComment.decision))
        if consultation_id:
            query = query.where(ReviewComment.consultation_id == consultation_id)
        reviewers: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        chapters: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        chapter_order: dict[str, dict[str, int]] = defaultdict(dict)
        draft_chapters = _draft_chapters(session, list(result))
        for cid, assignee, chapter_id, section, state, decision, count in session.execute(query):
            entry = result.get(cid)
            if entry is None:  # comments of a consultation review has not heard of yet
                entry = result[cid] = ConsultationProgress(cid, cid, True, False)
            entry.overall.add(state, count)
            if decision:
                entry.by_decision[decision] = entry.by_decision.get(decision, 0) + count
            reviewers[cid][assignee or ""].add(state, count)
            # The chapter of the unit the comment is anchored to; else the one its "part of the document" names.
            known = draft_chapters.get(cid, {}).get(chapter_id or "")
            label = known[1] if known else chapter_of(section)
            chapters[cid][label].add(state, count)
            if known:
                chapter_order[cid][label] = known[0]
    for cid, entry in result.items():
        entry.by_decision = {d: entry.by_decision[d] for d in DECISIONS if d in entry.by_decision}
        entry.by_reviewer = dict(sorted(reviewers[cid].items(), key=lambda kv: (kv[0] == "", kv[0])))
        order = chapter_order[cid]
        entry.by_chapter = dict(sorted(chapters[cid].items(), key=lambda kv: _chapter_sort_key(kv[0], order)))
    return list(result.values())


def _draft_chapters(session: Session, consultation_ids: list[str]) -> dict[str, dict[str, tuple[int, str]]]:
    """Per consultation, its draft's chapters: chapter unit id -> (position, label)."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for cid in consultation_ids:
        units = drafts.draft_units(session, cid)
        found[cid] = {u.unit_id: (u.position, " ".join((u.label or u.unit_id).split())[:120])
                      for u in units if u.chapter_id == u.unit_id}
    return found


def _chapter_sort_key(chapter: str, positions: dict[str, int]) -> tuple:
    if chapter in positions:
        return (0, positions[chapter], chapter)
    number = re.search(r"\d+", chapter)
    return (1 if chapter.startswith("§") else 2, int(number.group()) if number else 0, chapter)


def unapproved_count(session: Session, consultation_id: str) -> int:
    return session.scalar(select(func.count()).select_from(ReviewComment).where(
        ReviewComment.consultation_id == consultation_id,
        ReviewComment.approval_state.in_([approval.PROPOSED, approval.RETURNED]))) or 0


# --- what the console pages read ----------------------------------------------------------


@dataclass
class DecisionPanel:
    """What the decision form on a comment's page needs: the comment, its consultation's standard
    justifications, and every revision of its decision."""

    comment: ReviewComment
    needs_approval: bool
    standards: list[StandardJustification]
    revisions: list[DecisionRecord]


def decision_panel(ctx: ServiceContext, comment_id: str) -> DecisionPanel:
    with ctx.db.transaction() as session:
        comment = session.get(ReviewComment, comment_id)
        if comment is None:
            raise NotFound(N_("No such comment."))
        consultation = session.get(ConsultationRef, comment.consultation_id)
        standards = session.scalars(select(StandardJustification).where(
            StandardJustification.consultation_id == comment.consultation_id, StandardJustification.active.is_(True))
            .order_by(StandardJustification.title, StandardJustification.id))
        records = session.scalars(select(DecisionRecord).where(DecisionRecord.comment_id == comment_id)
                                  .order_by(DecisionRecord.revision.desc()))
        return DecisionPanel(comment, consultation.decisions_need_approval if consultation else True,
                             list(standards), list(records))


def consultation_titles(ctx: ServiceContext) -> list[tuple[str, str]]:
    """(id, title) of every consultation review knows, newest deadline first, for filter lists."""
    with ctx.db.transaction() as session:
        return [(c.id, c.title) for c in session.scalars(select(ConsultationRef)
                                                         .order_by(ConsultationRef.closes_at.desc()))]


def consultation_title(ctx: ServiceContext, consultation_id: str) -> str:
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationRef, consultation_id)
        if consultation is None:
            raise NotFound(N_("No such consultation."))
        return consultation.title
