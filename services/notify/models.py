"""Notify's own tables. No other service reads them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UTCDateTime, service_tables, utcnow
from services.common.staff_directory import staff_directory_table


Base, Outbox, Inbox, ParkedEvent = service_tables()
StaffDirectory = staff_directory_table(Base)


class Notification(Base):
    """One e-mail for one cause: the delivery log and the guard against sending twice."""

    __tablename__ = "notifications"
    # No index for the rare report of a failed delivery that lost its Message-ID (matched by the address, in any
    # case): every send would pay for it
    __table_args__ = (Index("ix_notifications_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Unique: a second insert for the same cause fails, whatever raced to make it.
    cause_key: Mapped[str] = mapped_column(String(512), unique=True)
    cause_event_id: Mapped[str] = mapped_column(String(36), index=True)
    cause_event_type: Mapped[str] = mapped_column(String(80))
    correlation_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    template: Mapped[str] = mapped_column(String(60), index=True)
    language: Mapped[str] = mapped_column(String(2))
    recipient: Mapped[str] = mapped_column(String(254))
    # Everything the templates need, so a send (or resend) never reads other tables.
    context: Mapped[dict] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Filled when the message is first rendered for delivery.
    subject: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a Celery task was last sent for the row (before the mailer); no longer written.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A re-send of a failed message is a new attempt of this same row; attempts count from here again.
    attempts_before_resend: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resent_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # While `sending`: the key of the mailer loop that claimed the row (on PostgreSQL it holds an advisory
    # lock on that key for as long as it lives, so a claim whose lock is gone belongs to a dead process).
    claim_key: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A pending row waits until then after a transient failure (the retry's backoff); None: due now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A mail server reported the sent message undeliverable (status `bounced`; its words in `error`)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KnownComment(Base):
    """Read model from `submission.received`: who to tell when `comment.decided` (which has no e-mail) arrives."""

    __tablename__ = "known_comments"

    comment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    consultation_id: Mapped[str] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(30))
    number: Mapped[int] = mapped_column(Integer)
    # None when the submitter gave no address: the comment is known, there is just nobody to write to.
    recipient: Mapped[str | None] = mapped_column(String(254), nullable=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="pl")
    consultation_title: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    last_notified_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The newest decision known (from `comment.decided`), told in the summary at publication.
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    decision_justification: Mapped[str] = mapped_column(Text, default="", server_default="")
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A mail's placeholder closed as holding no comments (`submission.dismissed`): never told of. Kept for the
    # status link, should the mail be reopened (`submission.reopened`).
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The revision of the text as intake last sent it (`submission.transcribed`, `submission.corrected`).
    text_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The revision of `recipient` as intake last sent it (`submission.email_corrected`).
    email_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ConsultationPrefs(Base):
    """Read model from `consultation.published` and `report.published`: how and whether the outcome was told."""

    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    outcome_notice: Mapped[str] = mapped_column(String(20), default="at_publication")
    # The announcement's revision this row reflects: an older snapshot arriving late changes nothing.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by the first `report.published`; from then on a changed decision is a correction.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # From `consultation.published`: the office that runs the consultation ({organiser, contact_email,
    # contact_phone, postal_address}); it signs the e-mails, and its address is their sender.
    office: Mapped[dict | None] = mapped_column(JSON, nullable=True)
