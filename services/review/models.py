"""Review's own tables: staff, the comments as reviewers see them, decisions and the audit log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
                        false, true)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UTCDateTime, service_tables, utcnow
from services.common.idempotency import idempotency_table


Base, Outbox, Inbox, ParkedEvent = service_tables()
IdempotencyKey = idempotency_table(Base)
# The SQLite full-text table and its shadow tables are created by migration review0005, not by a model.
Base.metadata.info["unmanaged_table_prefixes"] = ("comment_search",)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # argon2id; None until the user sets a password through an invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Raised by every change that must revoke tokens and sessions (role, active, password); see staff.changed.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The morning e-mail of the work waiting (services.review.digests); each user may turn it off.
    digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    language: Mapped[str] = mapped_column(String(2), default="pl", server_default="pl")  # of the e-mails to them


class PasswordLink(Base):
    """A one-time link to set a password (invitation or reset); the signed token in the e-mail names its id."""

    __tablename__ = "password_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsultationRef(Base):
    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # From intake's consultation.published: when true a reviewer's decision is only a proposal.
    decisions_need_approval: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The highest consultation.published revision applied: a late redelivery of an older one changes nothing.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReviewComment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("reference", "number"),
        # The triage queue sorts within a consultation; each sort order has its index, ending in the id, so
        # a page's ids come from an index-only scan however deep the page (triage.py, bench/triage_queue.py).
        # The default order also carries the filtered columns, so any mix of filters (and "mine first")
        # is answered from this index alone, rows read only for the page itself.
        Index("ix_comments_queue_received", "consultation_id", "received_at", "reference", "number", "id",
              "assignee", "status", "chapter_id", "topic", "channel", "late"),
        Index("ix_comments_queue_reference", "consultation_id", "reference", "number", "id"),
        Index("ix_comments_queue_status", "consultation_id", "status", "received_at", "reference", "number", "id"),
        Index("ix_comments_queue_assignee", "consultation_id", "assignee", "received_at", "reference", "number",
              "id"),
        Index("ix_comments_queue_chapter", "consultation_id", "chapter_id", "received_at", "reference", "number",
              "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    submission_id: Mapped[str] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(30), index=True)
    number: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    submitter_kind: Mapped[str] = mapped_column(String(20))
    submitter_label: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(Text)
    current_text: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(30), default="new", index=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    decision_justification: Mapped[str] = mapped_column(Text, default="")
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # The approval of the latest revision: None (undecided), proposed, returned or approved.
    approval_state: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    approval_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    approved_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The revision the rest of the system knows (the last one emitted as comment.decided).
    approved_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)  # duplicate/campaign group
    # The draft unit the comment is anchored to, and that unit's chapter (see services/review/drafts.py).
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chapter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    anchored_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # From submission.received: who entered a letter or duty-hour note by hand and when, the letter's postmark
    # date, the duty-hour booking and the scan's sha256 (None for what residents sent themselves).
    provenance: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # An e-mail's own text that intake staff have not transcribed yet (`needs_review`): no decision until they have
    awaiting_transcription: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The revision of the text as intake last sent it (`submission.transcribed`, `submission.corrected`).
    text_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class DecisionRecord(Base):
    """Every decision ever taken, so a changed mind stays visible."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("comment_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(30))
    justification: Mapped[str] = mapped_column(Text, default="")
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(254))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # proposed, returned, approved, or superseded (a newer revision replaced it before approval).
    # Rows older than approvals were all emitted at once, hence the server default.
    state: Mapped[str] = mapped_column(String(20), default="proposed", server_default="approved")
    reviewed_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    standard_justification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class StandardJustification(Base):
    """A justification a consultation's reviewers reuse, e.g. "Uwaga wykracza poza zakres Programu"."""

    __tablename__ = "standard_justifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only: services.review.audit refuses updates and deletes, and so does the database."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(60))
    consultation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class CommentGroup(Base):
    """Identical or near-identical comments (services.review.grouping); members point here by `group_id`."""

    __tablename__ = "comment_groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A person split or merged it: grouping still adds new copies to it but never merges it with another group.
    curated: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupFingerprint(Base):
    """A comment that grouping has placed, with the hash of its normalised text (placed once: idempotent)."""

    __tablename__ = "group_fingerprints"
    __table_args__ = (Index("ix_group_fingerprints_exact", "consultation_id", "exact_key"),)

    comment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36))
    exact_key: Mapped[str] = mapped_column(String(32))


class GroupBucket(Base):
    """The MinHash LSH index in the database: every worker sees the same buckets, and they survive restarts."""

    __tablename__ = "group_buckets"

    consultation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    comment_id: Mapped[str] = mapped_column(String(36), primary_key=True)


# --- triage: the draft's units, assignment, notes, remembered queue filters -----------------


class ConsultationDraft(Base):
    """Which document version a consultation's comments are about (the latest uploaded draft)."""

    __tablename__ = "consultation_drafts"

    consultation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DraftUnit(Base):
    """One addressable unit of a document version, as documents announced it."""

    __tablename__ = "draft_units"

    document_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30), default="")
    label: Mapped[str] = mapped_column(String(300), default="")
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chapter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")


class ChapterAssignment(Base):
    """A reviewer responsible for a chapter: its current and future comments are assigned to them."""

    __tablename__ = "chapter_assignments"

    consultation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    chapter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(254))
    assigned_by: Mapped[str] = mapped_column(String(254))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentNote(Base):
    """An internal note on a comment: staff only, never published."""

    __tablename__ = "comment_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), index=True)
    author: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueueFilterPreference(Base):
    """The triage queue filters a staff member last used, restored on their next visit."""

    __tablename__ = "queue_filter_preferences"

    user_id: Mapped[str] = mapped_column(String(254), primary_key=True)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffDigest(Base):
    """One row per staff user and working day once the digest sweep has looked at them: a second worker, or the
    sweep's next round, finds the row and sends nothing twice. `lines` 0: nothing waited, no e-mail."""

    __tablename__ = "staff_digests"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
