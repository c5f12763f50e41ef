"""Documents' own tables: the read model of consultations, comments and decisions; documents,
their versions, version and report builds, comment anchors and every stored artifact."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import UTCDateTime, service_tables, utcnow
from services.common.idempotency import idempotency_table
from services.common.staff_directory import staff_directory_table


Base, Outbox, Inbox, ParkedEvent = service_tables()
IdempotencyKey = idempotency_table(Base)
StaffDirectory = staff_directory_table(Base)


class ConsultationView(Base):
    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(100), default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    duty_days: Mapped[list] = mapped_column(JSON, default=list)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    review_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # For the report's title page: who ran the consultation and under which provisions.
    organiser: Mapped[str] = mapped_column(String(300), default="", server_default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")


class CommentView(Base):
    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    reference: Mapped[str] = mapped_column(String(30))
    number: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    submitter_name: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(300), nullable=True)
    submitter_kind: Mapped[str] = mapped_column(String(20))
    publish_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    section: Mapped[str] = mapped_column(Text)
    current_text: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    position: Mapped[str] = mapped_column(Text, default="")
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_revision: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The revision of the text as intake last sent it (`submission.transcribed`, `submission.corrected`).
    text_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SubmissionConsent(Base):
    """Read model from `submission.consent_changed`: a submitter's consent to publish their name as it last
    changed, kept by submission so that comments which arrive later (a transcription, a correction, a
    submission overtaken by its change on the bus) take it too."""

    __tablename__ = "submission_consents"

    reference: Mapped[str] = mapped_column(String(30), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    publish_consent: Mapped[bool] = mapped_column(Boolean)
    revision: Mapped[int] = mapped_column(Integer)
    # When documents applied it to its comments: a report build that read them before carries the old consent.
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BuildStateMixin:
    """The life of a build row: pending → running → done or failed, with progress in percent."""

    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReportBuild(BuildStateMixin, Base):
    __tablename__ = "report_builds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    language: Mapped[str] = mapped_column(String(2), default="pl")
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    object_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    media_type: Mapped[str] = mapped_column(
        String(100), default="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    inputs_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Comments still without a decision are left out of the report; the count says how many.
    undecided_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Built before the review was completed: marked "wersja robocza" and never published.
    working_draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    artifacts: Mapped[list["Artifact"]] = relationship(order_by="Artifact.kind", lazy="selectin")


class Document(Base):
    """An uploaded draft; its source DOCX is an artifact of kind `source` on version 1."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255), default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An uploaded draft is private until a coordinator, having seen its parsed units, publishes it:
    # then document.version_created announces version 1. Null while it is a draft.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # What the parser noticed in the source (e.g. a jump in the numbering), for the coordinator to check.
    parse_warnings: Mapped[list] = mapped_column(JSON, default=list)
    parse_warnings_pl: Mapped[list | None] = mapped_column(JSON, nullable=True)  # the same in Polish

    def warnings_in(self, language: str) -> tuple[str, list[str]]:
        """The parser's warnings in `language` where they were kept in it, else in English: (language, texts)."""
        if language == "pl" and self.parse_warnings_pl is not None:
            return "pl", list(self.parse_warnings_pl)
        return "en", list(self.parse_warnings or [])


class DocumentVersion(Base):
    """An immutable version: version 1 is the parsed source, later ones replay `changes` on their parent."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_versions_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    comment_refs: Mapped[list] = mapped_column(JSON, default=list)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    build_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    unit_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    artifacts: Mapped[list["Artifact"]] = relationship(order_by="Artifact.kind", lazy="selectin")


class VersionBuild(BuildStateMixin, Base):
    """A request for the next version: checked when asked for, rendered and stored by a Celery task."""

    __tablename__ = "version_builds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    parent_number: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    unanchored: Mapped[list] = mapped_column(JSON, default=list)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommentAnchor(Base):
    """Where a comment points in a document (its consulted version 1); computed once, then reused."""

    __tablename__ = "comment_anchors"

    comment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    label: Mapped[str | None] = mapped_column(String(300), nullable=True)
    chapter: Mapped[str | None] = mapped_column(String(300), nullable=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[list] = mapped_column(JSON, default=list)


class Artifact(Base):
    """A stored file: a version's source, clean or tracked DOCX, or a report's DOCX, XLSX or CSV."""

    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    document_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    document_version_id: Mapped[str | None] = mapped_column(ForeignKey("document_versions.id"), nullable=True)
    report_build_id: Mapped[str | None] = mapped_column(ForeignKey("report_builds.id"), nullable=True, index=True)
    key: Mapped[str] = mapped_column(String(500))
    version_id: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publication(Base):
    """The coordinator made a report (and the new version of the document) public."""

    __tablename__ = "publications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(36), index=True)
    report_build_id: Mapped[str] = mapped_column(ForeignKey("report_builds.id"))
    document_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    document_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_by: Mapped[str] = mapped_column(String(254))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    files: Mapped[list["PublishedFile"]] = relationship(order_by="PublishedFile.kind", lazy="selectin")


class PublishedFile(Base):
    """An artifact anyone may download, because a publication made it public."""

    __tablename__ = "published_files"

    publication_id: Mapped[str] = mapped_column(ForeignKey("publications.id"), primary_key=True)
    artifact_id: Mapped[str] = mapped_column(ForeignKey("artifacts.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(30))


class CouncilHandover(Base):
    """When the draft resolution with the document after the consultation went to the City Council, as the
    coordinator recorded it: the hand-over itself happens in the city's document system, outside Uwagi."""

    __tablename__ = "council_handovers"

    consultation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    letter_reference: Mapped[str] = mapped_column(String(200), default="")
    print_number: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # for staff only; never published
    # The council's resolution adopting the document ("uchwała nr …"), recorded once it is passed.
    adopted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolution_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)  # 1 when first recorded, higher with each correction
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
