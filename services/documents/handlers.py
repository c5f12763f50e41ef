"""Documents use cases: keep the read model, build and serve consultation reports.

Documents and versions live in `drafts`; the build-row life cycle shared by both in `builds`.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.common.bus import TransientError, handles_many
from services.common.db import insert_missing
from services.common.events import Event, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.documents import builds, drafts
from services.documents.builds import CSV, DOCX, XLSX
from services.documents.engine import ReportData, build_report_csv, build_report_docx, build_report_xlsx
from services.documents.models import (Artifact, CommentAnchor, CommentView, ConsultationView, ReportBuild,
                                       SubmissionConsent)
from services.documents.reporting import inputs_digest, report_input

log = logging.getLogger(__name__)

REPORT_TASK = "build_report"
# format -> (renderer, media type, artifact kind); the DOCX lives under reports/, the rest under exports/.
REPORT_FORMATS = {
    "docx": (build_report_docx, DOCX, "report_docx"),
    "xlsx": (build_report_xlsx, XLSX, "report_xlsx"),
    "csv": (build_report_csv, CSV, "report_csv"),
}


def download_url(ctx: ServiceContext, build: ReportBuild, fmt: str = "docx") -> str | None:
    if build.state != "done":
        return None
    suffix = "" if fmt == "docx" else f"?format={fmt}"
    return f"{ctx.settings.public_url}/documents/api/v1/reports/{build.id}/download{suffix}"


def exports(ctx: ServiceContext, build: ReportBuild) -> list[dict]:
    """Every stored format of a finished build, with its checksum and download URL."""
    return [{"format": artifact.kind.removeprefix("report_"), "sha256": artifact.sha256, "size": artifact.size,
             "media_type": artifact.media_type,
             "download_url": download_url(ctx, build, artifact.kind.removeprefix("report_"))}
            for artifact in build.artifacts]


def request_report(ctx: ServiceContext, consultation_id: str, *, language: str, internal: bool, actor: str) -> ReportBuild:
    with ctx.transaction() as session:
        if session.get(ConsultationView, consultation_id) is None:
            raise NotFound("no such consultation (or its announcement has not reached documents yet)")
        build = ReportBuild(id=str(uuid.uuid4()), consultation_id=consultation_id, state="pending",
                            language=language, internal=internal, requested_by=actor, artifacts=[])
        session.add(build)
    ctx.enqueue(REPORT_TASK, build.id)
    return build


def consultation_titles(ctx: ServiceContext) -> dict[str, str]:
    """The announced consultations documents knows of, by id (drafts of consultations are not announced)."""
    with ctx.db.transaction() as session:
        rows = session.execute(select(ConsultationView.id, ConsultationView.title)
                               .order_by(ConsultationView.opens_at.desc()))
        return {consultation_id: title for consultation_id, title in rows}


def list_reports(ctx: ServiceContext, consultation_id: str) -> list[ReportBuild]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(ReportBuild).where(ReportBuild.consultation_id == consultation_id)
                                    .order_by(ReportBuild.created_at.desc())))


def get_report(ctx: ServiceContext, build_id: str) -> ReportBuild:
    return builds.fetch(ctx, ReportBuild, build_id, "no such report build")


def report_content(ctx: ServiceContext, build_id: str, fmt: str = "docx") -> tuple[ReportBuild, Artifact, bytes]:
    """A finished report in one format: the build, the stored artifact and its bytes."""
    if fmt not in REPORT_FORMATS:
        raise Invalid(f"nieznany format {fmt!r} (unknown format; use docx, xlsx or csv)")
    build = get_report(ctx, build_id)
    artifact = next((a for a in build.artifacts if a.kind == REPORT_FORMATS[fmt][2]), None)
    if build.state != "done" or artifact is None:
        raise NotFound("this report is not built (yet)")
    return build, artifact, builds.artifact_content(ctx, artifact)


_TRANSLITERATION = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def slug(text: str, limit: int = 60) -> str:
    """ "Wspólnie o programie – II etap" → "wspolnie-o-programie-ii-etap": readable in any file system."""
    words = re.findall(r"[a-z0-9]+", text.translate(_TRANSLITERATION).lower())
    result = "-".join(words)[:limit].rstrip("-")
    return result or "konsultacje"


def report_download_name(ctx: ServiceContext, build: ReportBuild, fmt: str) -> str:
    """raport-z-konsultacji-<slug>-<date>.<fmt>; the internal edition and the English one say so."""
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationView, build.consultation_id)
        title = consultation.title if consultation is not None else ""
    day = build.created_at.astimezone(ctx.settings.timezone).date().isoformat() if build.created_at else ""
    suffix = ("-wewnetrzny" if build.internal else "") + ("-en" if build.language == "en" else "")
    return f"raport-z-konsultacji-{slug(title)}{'-' + day if day else ''}{suffix}.{fmt}"


def report_data(ctx: ServiceContext, consultation_id: str, *, placed: bool = True) -> tuple[dict, int]:
    """The report's input (REPORT.json) for the consultation as it stands, and how many comments it leaves out.
    `placed=False` leaves out where each comment sits in the document (its unit's label): the figures, which are
    all the City Council's text needs, are the same, without reading the document's versions."""
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationView, consultation_id)
        comments = list(session.scalars(select(CommentView).where(CommentView.consultation_id == consultation_id)))
        document = drafts.consultation_document(session, consultation_id)
    anchors = drafts.anchors_for(ctx, document.id, comments) if document is not None and placed else {}
    return report_input(consultation, comments, tz=ctx.settings.timezone, anchors=anchors,
                        document_title=document.title if document is not None else "",
                        working_draft=consultation.review_completed_at is None, now=utcnow())


def run_report_build(ctx: ServiceContext, build_id: str) -> None:
    """The body of the `documents.build_report` task; safe to run twice for one build, also at once."""
    with builds.claimed(ctx, ReportBuild, build_id) as build:
        if build is not None:
            _build_report(ctx, build)


def _build_report(ctx: ServiceContext, build: ReportBuild) -> None:
    build_id = build.id
    data, undecided = report_data(ctx, build.consultation_id)
    digest = inputs_digest(data, build.language, build.internal)
    builds.set_progress(ctx, ReportBuild, build_id, 20)
    rendered: dict[str, bytes] = {}
    try:
        report = ReportData.from_json(data)
        for step, (fmt, (render, _, _)) in enumerate(REPORT_FORMATS.items(), start=1):
            rendered[fmt] = render(report, lang=build.language, published=not build.internal)
            builds.set_progress(ctx, ReportBuild, build_id, 20 + 20 * step)
    except Exception as exc:  # bad input or a renderer bug is permanent for these inputs: record it, do not retry
        log.exception("report build %s failed", build_id)
        builds.mark_failed(ctx, ReportBuild, build_id, f"{type(exc).__name__}: {exc}", inputs_sha256=digest)
        return
    # Content-addressed keys: the same inputs give the same bytes and the same keys.
    name = f"{digest[:16]}-{build.language}{'-internal' if build.internal else ''}"
    inputs = {"inputs_sha256": digest, "language": build.language, "internal": build.internal}
    stored = [builds.store_artifact(ctx, f"{'reports' if fmt == 'docx' else 'exports'}/{build.consultation_id}/{name}.{fmt}",
                                    rendered[fmt], media_type, kind=kind, inputs=inputs, report_build_id=build_id)
              for fmt, (_, media_type, kind) in REPORT_FORMATS.items()]
    with ctx.transaction() as session:
        row = session.get(ReportBuild, build_id)
        docx = next(artifact for artifact in stored if artifact.kind == "report_docx")
        row.sha256, row.size, row.object_key, row.version_id = docx.sha256, docx.size, docx.key, docx.version_id
        row.media_type, row.inputs_sha256 = DOCX, digest
        row.comment_count, row.undecided_count = len(data["comments"]), undecided
        row.working_draft = bool(data["consultation"]["working_draft"])
        row.artifacts.extend(stored)
        builds.mark_done(row)
    # Nothing is announced here: a report becomes public when the coordinator publishes it (`publishing`).


def mark_failed(ctx: ServiceContext, build_id: str, error: str) -> None:
    builds.mark_failed(ctx, ReportBuild, build_id, error)


requeue_stalled_builds = builds.requeue_stalled(REPORT_TASK, ReportBuild)


# --- event handlers: the read model -----------------------------------------------------


def on_consultation_published(event: Event, session: Session) -> None:
    data = event.data
    view = session.get(ConsultationView, data["consultation_id"]) or ConsultationView(id=data["consultation_id"])
    view.title, view.stage, view.opens_at, view.closes_at = data["title"], data["stage"], data["opens_at"], data["closes_at"]
    view.channels, view.topics, view.duty_days = list(data["channels"]), list(data["topics"]), list(data["duty_days"])
    view.contact_email = data["contact_email"]
    view.organiser, view.legal_basis = data.get("organiser", ""), data.get("legal_basis", "")
    view.resolution = data.get("resolution", "")
    session.add(view)


def store_submitted_comments(events: Sequence[Event], session: Session) -> None:
    """`submission.received` for many events: the comments not stored yet, in one INSERT."""
    rows: dict[str, dict] = {}
    for event in events:
        data = event.data
        submitter = data["submitter"]
        for item in data["comments"]:
            rows.setdefault(item["comment_id"], dict(
                id=item["comment_id"], consultation_id=data["consultation_id"], reference=data["reference"],
                number=item["number"], channel=data["channel"], received_at=data["received_at"], late=data["late"],
                submitter_name=submitter["name"], organization=submitter.get("organization"),
                submitter_kind=submitter["kind"], publish_consent=submitter["publish_consent"],
                section=item["section"], current_text=item["current_text"], proposal=item["proposal"],
                justification=item["justification"], topic=item.get("topic")))
    insert_missing(session, CommentView, rows)


def _apply_consent(session: Session, consent: SubmissionConsent) -> None:
    session.execute(update(CommentView).where(CommentView.reference == consent.reference)
                    .values(publish_consent=consent.publish_consent))


def on_submission_consent_changed(event: Event, session: Session) -> None:
    """The submitter withdrew (or gave) their consent to publish their name: reports built from now on name them
    accordingly. Kept by submission, the highest revision winning, so the events may come in any order; one that
    comes before the submission is retried until it has landed (intake announces no change for a mail closed as
    holding no comments, whose placeholders documents has dropped)."""
    data = event.data
    if session.scalar(select(CommentView.id).where(CommentView.reference == data["reference"]).limit(1)) is None:
        raise TransientError(f"submission {data['reference']} is not in documents' read model yet")
    consent = session.get(SubmissionConsent, data["reference"], with_for_update=True)
    if consent is not None and consent.revision >= data["revision"]:
        return
    if consent is None:
        consent = SubmissionConsent(reference=data["reference"], consultation_id=data["consultation_id"])
        session.add(consent)
    consent.publish_consent, consent.revision, consent.applied_at = data["publish_consent"], data["revision"], utcnow()
    _apply_consent(session, consent)


@handles_many(store_submitted_comments)
def on_submission_received(event: Event, session: Session) -> None:
    store_submitted_comments([event], session)


def on_submission_transcribed(event: Event, session: Session) -> None:
    """Staff transcribed a scanned or mailed submission: the placeholder's text is replaced, new comments added.
    Also `submission.corrected`: changed comments replaced, added ones added, removed ones dropped with their
    anchors. A revision older than the one held changes nothing (the events may come in any order)."""
    data = event.data
    held = {c.id: c for c in session.scalars(select(CommentView).where(CommentView.reference == data["reference"]))}
    if held and max(comment.text_revision for comment in held.values()) >= data["revision"]:
        return
    if not held and data.get("removed_comment_ids"):
        # a correction before the submission: applied now, the late submission would bring back what it removed
        raise TransientError(f"submission {data['reference']} is not in documents' read model yet")
    removed = [comment_id for comment_id in data.get("removed_comment_ids", ()) if comment_id in held]
    if removed:
        session.execute(delete(CommentAnchor).where(CommentAnchor.comment_id.in_(removed)))
        session.execute(delete(CommentView).where(CommentView.id.in_(removed)))
    on_submission_received(event, session)
    submitter = data["submitter"]  # staff may have read the sender's name or organisation from the letter
    for item in data["comments"]:
        comment = session.get(CommentView, item["comment_id"])
        comment.section, comment.current_text = item["section"], item["current_text"]
        comment.proposal, comment.justification, comment.topic = item["proposal"], item["justification"], item.get("topic")
        comment.text_revision = data["revision"]
    for comment in session.scalars(select(CommentView).where(CommentView.reference == data["reference"])):
        comment.submitter_name, comment.organization = submitter["name"], submitter.get("organization")
        comment.submitter_kind = submitter["kind"]
    consent = session.get(SubmissionConsent, data["reference"])
    if consent is not None:  # a correction made before a change of consent, delivered after it, adds comments
        _apply_consent(session, consent)


def on_submission_dismissed(event: Event, session: Session) -> None:
    """Intake staff found no comments in a mail: its placeholder comments are no comments, so neither the report
    nor the next version counts them. One that comes before the submission is retried until it has landed."""
    ids = event.data["comment_ids"]
    if not session.scalars(select(CommentView.id).where(CommentView.id.in_(ids))).first():
        raise TransientError(f"submission {event.data['reference']} is not in documents' read model yet")
    session.execute(delete(CommentAnchor).where(CommentAnchor.comment_id.in_(ids)))
    session.execute(delete(CommentView).where(CommentView.id.in_(ids)))


def on_comment_decided(event: Event, session: Session) -> None:
    data = event.data
    comment = session.get(CommentView, data["comment_id"])
    if comment is None:
        # Decisions can overtake the submission on the bus; the dispatcher parks them until it lands.
        raise TransientError(f"comment {data['comment_id']} not known yet")
    if comment.decision_revision >= data["revision"]:
        return
    comment.decision, comment.position, comment.final_text = data["decision"], data["justification"], data["final_text"]
    comment.decision_revision, comment.decided_at = data["revision"], data["decided_at"]


def on_review_completed(event: Event, session: Session) -> None:
    view = session.get(ConsultationView, event.data["consultation_id"])
    if view is not None:
        view.review_completed_at = event.data["completed_at"]


def on_review_reopened(event: Event, session: Session) -> None:
    """Reports built from now on are working drafts again, and nothing can be published until completion."""
    view = session.get(ConsultationView, event.data["consultation_id"])
    if view is not None and (view.review_completed_at is None or view.review_completed_at <= event.data["reopened_at"]):
        view.review_completed_at = None


EVENT_HANDLERS = {
    "consultation.published": [on_consultation_published],
    "submission.received": [on_submission_received],
    "submission.transcribed": [on_submission_transcribed],
    "submission.corrected": [on_submission_transcribed],
    "submission.dismissed": [on_submission_dismissed],
    "submission.consent_changed": [on_submission_consent_changed],
    # A reopened mail's new placeholder is a new comment (its dismissed one is deleted by the dismissal).
    "submission.reopened": [on_submission_received],
    "comment.decided": [on_comment_decided],
    "consultation.review_completed": [on_review_completed],
    "consultation.review_reopened": [on_review_reopened],
}

