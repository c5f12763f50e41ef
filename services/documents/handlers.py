"""Documents use cases: keep the read model, build and serve consultation reports."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.events import Event, utcnow
from services.common.runtime import ServiceContext
from services.common.bus import TransientError
from services.common.storage import ObjectNotFound
from services.common.web import NotFound
from services.documents.models import CommentView, ConsultationView, ReportBuild
from services.documents.reporting import inputs_digest, report_input

log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def download_url(ctx: ServiceContext, build: ReportBuild) -> str | None:
    if build.state != "done":
        return None
    return f"{ctx.settings.public_url}/documents/api/v1/reports/{build.id}/download"


def request_report(ctx: ServiceContext, consultation_id: str, *, language: str, internal: bool, actor: str) -> ReportBuild:
    with ctx.transaction() as session:
        if session.get(ConsultationView, consultation_id) is None:
            raise NotFound("no such consultation (or its announcement has not reached documents yet)")
        build = ReportBuild(id=str(uuid.uuid4()), consultation_id=consultation_id, state="pending",
                            language=language, internal=internal, requested_by=actor)
        session.add(build)
    ctx.enqueue("build_report", build.id)
    return build


def list_reports(ctx: ServiceContext, consultation_id: str) -> list[ReportBuild]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(ReportBuild).where(ReportBuild.consultation_id == consultation_id)
                                    .order_by(ReportBuild.created_at.desc())))


def get_report(ctx: ServiceContext, build_id: str) -> ReportBuild:
    with ctx.db.transaction() as session:
        build = session.get(ReportBuild, build_id)
        if build is None:
            raise NotFound("no such report build")
        return build


def report_content(ctx: ServiceContext, build_id: str) -> tuple[ReportBuild, bytes]:
    build = get_report(ctx, build_id)
    if build.state != "done" or not build.object_key:
        raise NotFound("this report is not built (yet)")
    try:
        return build, ctx.store.get(build.object_key, build.version_id)
    except ObjectNotFound:
        raise NotFound("the stored report is missing") from None


def _claim(ctx: ServiceContext, build_id: str) -> ReportBuild | None:
    with ctx.db.transaction() as session:
        query = select(ReportBuild).where(ReportBuild.id == build_id)
        if ctx.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        build = session.scalar(query)
        if build is None or build.state == "done":
            return None  # deleted, or a redelivered task for finished work
        build.state, build.progress, build.started_at = "running", 5, utcnow()
        build.attempts += 1
        return build


def run_report_build(ctx: ServiceContext, build_id: str, render: "ReportRenderer") -> None:
    """The body of the `documents.build_report` task; safe to run twice for one build."""
    build = _claim(ctx, build_id)
    if build is None:
        return
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationView, build.consultation_id)
        comments = list(session.scalars(select(CommentView).where(CommentView.consultation_id == build.consultation_id)))
    data = report_input(consultation, comments)
    digest = inputs_digest(data, build.language, build.internal)
    try:
        content = render(data, language=build.language, internal=build.internal)
    except Exception as exc:  # a renderer bug is permanent for these inputs: record it, do not retry
        log.exception("report build %s failed", build_id)
        _finish(ctx, build_id, state="failed", error=f"{type(exc).__name__}: {exc}", inputs=digest)
        return
    _set_progress(ctx, build_id, 80)
    # Content-addressed key: the same inputs give the same bytes and the same key.
    stored = ctx.store.put(f"reports/{build.consultation_id}/{digest[:16]}-{build.language}"
                           f"{'-internal' if build.internal else ''}.docx", content, DOCX)
    with ctx.transaction() as session:
        row = session.get(ReportBuild, build_id)
        row.state, row.progress, row.finished_at = "done", 100, utcnow()
        row.sha256, row.size, row.object_key, row.version_id = stored.sha256, stored.size, stored.key, stored.version_id
        row.inputs_sha256, row.comment_count, row.error = digest, len(data["comments"]), None
        if not row.internal:
            ctx.emit(session, "report.published", {
                "consultation_id": row.consultation_id, "build_id": row.id, "sha256": row.sha256,
                "download_url": download_url(ctx, row),
            })


def _set_progress(ctx: ServiceContext, build_id: str, progress: int) -> None:
    with ctx.db.transaction() as session:
        row = session.get(ReportBuild, build_id)
        if row is not None:
            row.progress = progress


def _finish(ctx: ServiceContext, build_id: str, *, state: str, error: str, inputs: str | None = None) -> None:
    with ctx.db.transaction() as session:
        row = session.get(ReportBuild, build_id)
        row.state, row.error, row.finished_at, row.inputs_sha256 = state, error[:2000], utcnow(), inputs


def mark_failed(ctx: ServiceContext, build_id: str, error: str) -> None:
    _finish(ctx, build_id, state="failed", error=error)


def requeue_stalled_builds(ctx: ServiceContext) -> None:
    """Sweep: re-enqueue builds whose task was lost (pending too long, or a worker died mid-build)."""
    now = utcnow()
    with ctx.db.transaction() as session:
        stalled = list(session.scalars(select(ReportBuild.id).where(
            ((ReportBuild.state == "pending") & (ReportBuild.created_at < now - timedelta(seconds=30)))
            | ((ReportBuild.state == "running") & (ReportBuild.started_at < now - timedelta(minutes=10))))))
    for build_id in stalled:
        ctx.enqueue("build_report", build_id)


# --- event handlers: the read model -----------------------------------------------------


def on_consultation_published(event: Event, session: Session) -> None:
    data = event.data
    view = session.get(ConsultationView, data["consultation_id"]) or ConsultationView(id=data["consultation_id"])
    view.title, view.stage, view.opens_at, view.closes_at = data["title"], data["stage"], data["opens_at"], data["closes_at"]
    view.channels, view.topics, view.duty_days = list(data["channels"]), list(data["topics"]), list(data["duty_days"])
    view.contact_email = data["contact_email"]
    session.add(view)


def on_submission_received(event: Event, session: Session) -> None:
    data = event.data
    submitter = data["submitter"]
    for item in data["comments"]:
        if session.get(CommentView, item["comment_id"]) is not None:
            continue
        session.add(CommentView(
            id=item["comment_id"], consultation_id=data["consultation_id"], reference=data["reference"],
            number=item["number"], channel=data["channel"], received_at=data["received_at"], late=data["late"],
            submitter_name=submitter["name"], organization=submitter.get("organization"),
            submitter_kind=submitter["kind"], publish_consent=submitter["publish_consent"],
            section=item["section"], current_text=item["current_text"], proposal=item["proposal"],
            justification=item["justification"], topic=item.get("topic"),
        ))


def on_comment_decided(event: Event, session: Session) -> None:
    data = event.data
    comment = session.get(CommentView, data["comment_id"])
    if comment is None:
        # Decisions can overtake the submission on the bus; retrying lets it land first.
        raise TransientError(f"comment {data['comment_id']} not known yet")
    if comment.decision_revision >= data["revision"]:
        return
    comment.decision, comment.position, comment.final_text = data["decision"], data["justification"], data["final_text"]
    comment.decision_revision, comment.decided_at = data["revision"], data["decided_at"]


def on_review_completed(event: Event, session: Session) -> None:
    view = session.get(ConsultationView, event.data["consultation_id"])
    if view is not None:
        view.review_completed_at = event.data["completed_at"]


EVENT_HANDLERS = {
    "consultation.published": [on_consultation_published],
    "submission.received": [on_submission_received],
    "comment.decided": [on_comment_decided],
    "consultation.review_completed": [on_review_completed],
}


class ReportRenderer(Protocol):
    def __call__(self, data: dict, *, language: str, internal: bool) -> bytes: ...

