"""Intake's own tables. No other service reads them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import UTCDateTime, service_tables, utcnow
from services.common.idempotency import idempotency_table
from services.common.staff_directory import staff_directory_table


Base, Outbox, Inbox, ParkedEvent = service_tables()
StaffDirectory = staff_directory_table(Base)
IdempotencyKey = idempotency_table(Base)


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    duty_days: Mapped[list] = mapped_column(JSON, default=list)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    late_policy: Mapped[str] = mapped_column(String(20), default="flag")
    organiser: Mapped[str] = mapped_column(String(300), default="", server_default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    postal_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    decisions_need_approval: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    outcome_notice: Mapped[str] = mapped_column(String(20), default="at_publication", server_default="at_publication")
    # The stored step of the lifecycle (domain.State); an open one past its deadline reads as closed.
    state: Mapped[str] = mapped_column(String(20), default="draft", server_default="open", index=True)
    # Bumped each time consultation.published is emitted, so consumers can ignore an older snapshot.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="1")
    document_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    document_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The announced draft's units [{id, label, kind, parent, text, title}] and its clean DOCX, public at
    # `document_url` (documents serves it without a token): the public draft page and the comment forms.
    document_sections: Mapped[list] = mapped_column(JSON, default=list)
    document_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsultationLogEntry(Base):
    """Append-only: who created, edited or moved a consultation along its lifecycle, when, and why."""

    __tablename__ = "consultation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(30))  # created, edited, or a lifecycle step (domain.Step)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    submitter_name: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(300), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    publish_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="pl")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    status_token_hash: Mapped[str] = mapped_column(String(64))
    # Provenance of what staff entered by hand (letters, duty-hour notes, transcribed mails): who and when;
    # a letter's postmark date (which decided lateness), its sender's address and scan; the duty-hour booking.
    entered_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    postmarked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    postal_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    booking_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    scan: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # {filename, media_type, size, sha256, key}
    # 1 as received, +1 with a transcription and with each correction: the events that carry the comments say
    # which state is newest, as the other services may take them in any order.
    comments_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Comments a staff correction took out of the register (entered twice, not the sender's): [{number, section,
    # proposal, removed_at}], so that the status page still accounts for every number the sender was shown.
    removed_comments: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # 1 as received, +1 with each change of `publish_consent` (`submission.consent_changed` carries it).
    consent_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # 1 as received, +1 with each correction of `email` by staff (`submission.email_corrected` carries it).
    email_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    comments: Mapped[list["Comment"]] = relationship(
        back_populates="submission", order_by="Comment.number", cascade="all, delete-orphan"
    )
    consent_changes: Mapped[list["ConsentChange"]] = relationship(order_by="ConsentChange.revision",
                                                                  cascade="all, delete-orphan")
    email_corrections: Mapped[list["EmailCorrection"]] = relationship(order_by="EmailCorrection.revision",
                                                                      cascade="all, delete-orphan")


class ConsentChange(Base):
    """Append-only: each change of a submitter's consent to publish their name, by whom and on what basis.
    GDPR art. 7(1): the city must be able to show what consent it held, and when it was withdrawn."""

    __tablename__ = "consent_changes"
    # The unique index also serves every lookup by submission (its leading column): no second index.
    __table_args__ = (UniqueConstraint("submission_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    revision: Mapped[int] = mapped_column(Integer)
    publish_consent: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(254))  # a staff e-mail, or "submitter"
    via: Mapped[str] = mapped_column(String(20))  # consent.VIA: the status page, or staff from a letter or e-mail
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class EmailCorrection(Base):
    """Append-only: each correction of a submitter's e-mail address by staff (GDPR art. 16), the address before and
    after, by whom and on what basis (a phone call, a letter)."""

    __tablename__ = "email_corrections"
    __table_args__ = (UniqueConstraint("submission_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    revision: Mapped[int] = mapped_column(Integer)
    old_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    new_email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # None: no e-mail, write by post
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(Text)


class Comment(Base):
    __tablename__ = "comments"
    # The unique index also serves every lookup by submission (its leading column): no second index.
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    number: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(Text)
    current_text: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(30), default="received")
    decision_justification: Mapped[str] = mapped_column(Text, default="")
    final_text: Mapped[str] = mapped_column(Text, default="", server_default="")  # the adopted wording, if any
    decision_revision: Mapped[int] = mapped_column(Integer, default=0)

    submission: Mapped[Submission] = relationship(back_populates="comments")


class PublishedResults(Base):
    """Read model from `report.published`: the files of a consultation's results, public on its results page."""

    __tablename__ = "published_results"

    publication_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{kind, media_type, sha256, size, public_url}]: documents serves the bytes of published files to anyone.
    files: Mapped[list] = mapped_column(JSON, default=list)


class CouncilHandoverView(Base):
    """Read model from `council.handover_recorded`: when the draft went to the City Council, for the results page."""

    __tablename__ = "council_handovers"

    consultation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    letter_reference: Mapped[str] = mapped_column(String(200), default="")
    print_number: Mapped[str] = mapped_column(String(100), default="")
    # The council's resolution adopting the document, once it is passed (recorded with the hand-over).
    adopted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolution_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer)


class UndeliveredMail(Base):
    """Read model from notify's `notification.bounced`: an e-mail to a submitter or booker that a mail server
    returned, shown to the clerk beside the submission (`reference`) or booking (`booking_id`)."""

    __tablename__ = "undelivered_mails"

    notification_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    booking_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    template: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    bounced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundMail(Base):
    """Every e-mail intake has looked at, whatever became of it: the unique Message-ID stops a mail being
    imported twice (a re-poll, a re-sent file), and the stored `.eml` and attachments keep the evidence."""

    __tablename__ = "inbound_mails"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    # created, needs_review (a submission staff must transcribe from the mail), transcribed (staff did),
    # ignored (auto-reply, bounce),
    # rejected (hostile, oversized, broken, no open consultation …): see services.intake.mail.importer.
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(500), default="")  # "imap:INBOX/42", "file:inbox/x.eml", "cli:x.eml"
    consultation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), nullable=True, index=True)
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    # When the server took the mail (IMAP INTERNALDATE, the file's mtime): the deadline counts from this,
    # never from the sender's Date: header, which is kept only for the record.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    date_header: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    eml_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    eml_sha256: Mapped[str] = mapped_column(String(64), default="")
    # [{filename, media_type, size, sha256, key, role}] with role form, scan or other.
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    body_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # {reason, note, by, at} once staff closed it as holding no comments on the draft (status no_comments)
    closing: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class DutySlot(Base):
    """A bookable piece of a duty day. `booked` never exceeds `capacity`: the database refuses it."""

    __tablename__ = "duty_slots"
    __table_args__ = (
        UniqueConstraint("consultation_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_duty_slots_capacity"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booking_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300), default="")
    room: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("duty_slots.id"), index=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(30), nullable=True)
    topic: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="pl")
    status: Mapped[str] = mapped_column(String(20), default="confirmed", index=True)  # confirmed | cancelled
    cancel_token_hash: Mapped[str] = mapped_column(String(64))
    booked_by: Mapped[str | None] = mapped_column(String(254), nullable=True)  # staff, for a caller by phone
    # The e-mail that asked for it, when staff booked its sender from the mail's page (a mail, not a call).
    mail_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubmissionImport(Base):
    """One bulk import by staff (a CSV or XLSX file): what came in, who brought it, which references it got."""

    __tablename__ = "submission_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    submissions: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer)
    references: Mapped[list] = mapped_column(JSON, default=list)  # [first, last] per year
    imported_by: Mapped[str] = mapped_column(String(254), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessibilityStatementRow(Base):
    """The public site's accessibility statement (one row), as the admin last saved it: `accessibility`."""

    __tablename__ = "accessibility_statement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    site_owner: Mapped[str] = mapped_column(String(300))
    published_on: Mapped[date] = mapped_column(Date)
    updated_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # accessibility.STATUSES
    inaccessible: Mapped[str] = mapped_column(Text)
    exclusions: Mapped[str] = mapped_column(Text)
    prepared_on: Mapped[date] = mapped_column(Date)
    reviewed_on: Mapped[date] = mapped_column(Date)
    assessment: Mapped[str] = mapped_column(String(300))
    contact_person: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(50))
    buildings: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(254))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrivacyNoticeRow(Base):
    """Who controls the submitters' data and how to reach the data protection officer (one row): `privacy`."""

    __tablename__ = "privacy_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    controller: Mapped[str] = mapped_column(Text)
    dpo_email: Mapped[str] = mapped_column(String(254))
    dpo_address: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text)
    retention: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(254))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
