"""The end of a consultation in the documents console: `/documents/consultations/...` and the build pages.

From here the coordinator builds the next version of the document from the
approved decisions (seeing what was applied and what could not be placed),
builds the report, and publishes both. Build pages show progress: a plain
reload works, and a few lines of JS poll the build's JSON and refresh the page
when it has finished. Thin views: every rule lives in `drafts`, `handlers` and
`publishing`.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file
from flask_babel import gettext
from sqlalchemy import func, select

from services.common.auth import current_staff, requires_role
from services.common.ui import N_
from services.common.web import Conflict, DomainError, Invalid, NotFound
from services.documents import council, drafts, handlers, publishing
from services.documents.models import ConsultationView, CouncilHandover, Document, Publication, VersionBuild

blp = Blueprint("documents_closing", __name__, url_prefix="/documents")

STATE_LABELS = {"pending": N_("queued"), "running": N_("running"), "done": N_("done"), "failed": N_("failed")}
REASON_LABELS = {"not_anchored": N_("no matching part of the document was found"),
                 "unit_removed": N_("that part of the document no longer exists")}
PUBLISH_REFUSALS = {
    "review_not_completed": N_("The review is not completed yet."),
    "build_not_done": N_("The report is not built yet."),
    "internal_edition": N_("The internal edition is never published."),
    "working_draft": N_("This is a working draft, built before the review was completed; build the report again."),
}
OPS = {"replace": N_("new wording"), "insert_after": N_("inserted after"), "delete": N_("deleted")}
PUBLISHED_FILES = {
    "report_docx": N_("Report (DOCX)"), "report_xlsx": N_("Report (XLSX)"), "report_csv": N_("Report (CSV)"),
    "version_clean": N_("Document after the consultation (DOCX)"),
    "version_tracked": N_("Document after the consultation, with tracked changes (DOCX)"),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _state(value: str) -> str:
    return gettext(STATE_LABELS.get(value, value))


@blp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"build_state": _state, "unanchored_reason": lambda r: gettext(REASON_LABELS.get(r, r)),
            "change_op": lambda op: gettext(OPS.get(op, op)),
            "published_file": lambda kind: gettext(PUBLISHED_FILES[kind]) if kind in PUBLISHED_FILES else kind}


@blp.get("/consultations")
def index() -> Any:
    with _ctx().db.transaction() as session:
        consultations = list(session.scalars(select(ConsultationView).order_by(ConsultationView.closes_at.desc())))
        documents = {d.consultation_id: d for d in session.scalars(select(Document))}
        published = dict(session.execute(select(Publication.consultation_id, func.max(Publication.published_at))
                                         .group_by(Publication.consultation_id)).all())
        handovers = {h.consultation_id: h for h in session.scalars(select(CouncilHandover))}
    return render_template("documents/closing/index.html", consultations=consultations, documents=documents,
                           published=published, handovers=handovers)


def _consultation(consultation_id: str) -> ConsultationView:
    with _ctx().db.transaction() as session:
        consultation = session.get(ConsultationView, consultation_id)
    if consultation is None:
        raise NotFound(gettext("There is no such consultation, or its announcement has not reached this service yet."))
    return consultation


HANDOVER_FIELDS = ("handed_over_on", "letter_reference", "print_number", "note", "adopted_on", "resolution_number")
HANDOVER_PROBLEMS = {
    "future": N_("The date cannot lie in the future."),
    "before_closing": N_("The date of the hand-over cannot come before the consultation ended."),
    "before_handover": N_("The council cannot adopt the document before it was handed over."),
    "required_with_date": N_("Enter the number of the resolution passed on that day."),
    "required_with_number": N_("Enter the date on which the council passed the resolution."),
    "invalid": N_("Enter the date as day, month and year."),
    "too_long": N_("This text is too long."),
}


@blp.get("/consultations/<consultation_id>")
def consultation_page(consultation_id: str) -> Any:
    return _consultation_page(consultation_id)


def _consultation_page(consultation_id: str, *, handover_form: dict[str, str] | None = None,
                       handover_errors: dict[str, list[str]] | None = None) -> Any:
    consultation = _consultation(consultation_id)
    with _ctx().db.transaction() as session:
        document = drafts.consultation_document(session, consultation_id)
    versions = drafts.list_versions(_ctx(), document.id) if document is not None else []
    version_builds = drafts.list_version_builds(_ctx(), document.id) if document is not None else []
    reports = handlers.list_reports(_ctx(), consultation_id)
    publications = publishing.list_publications(_ctx(), consultation_id)
    publishable = [r for r in reports if not publishing.publish_blockers(
        review_completed=consultation.review_completed_at is not None, build_state=r.state, internal=r.internal,
        working_draft=r.working_draft)]
    handover = council.recorded_handover(_ctx(), consultation_id)
    if handover_form is None:  # the form shows the record as it stands (str of a date is its ISO form)
        handover_form = {name: "" if getattr(handover, name, None) is None else str(getattr(handover, name))
                         for name in HANDOVER_FIELDS}
    html = render_template("documents/closing/consultation.html", consultation=consultation, document=document,
                           versions=versions, version_builds=version_builds, reports=reports,
                           publications=publications, publishable=publishable,
                           withdrawn=publishing.withdrawn_since_publication(_ctx(), consultation_id),
                           council_text=council.council_text(_ctx(), publications[0])[1] if publications else None,
                           public_url=lambda f: publishing.public_url(_ctx(), f.artifact_id, f.kind),
                           handover=handover, handover_form=handover_form, handover_errors=handover_errors or {},
                           today=datetime.now(_ctx().settings.timezone).date().isoformat())
    return (html, 422) if handover_errors else html


@blp.get("/consultations/<consultation_id>/council-package.zip")
def council_package(consultation_id: str) -> Any:
    """The package for the City Council's office: the information sheet and the published files."""
    _consultation(consultation_id)
    try:
        name, package = council.council_package(_ctx(), consultation_id)
    except NotFound:
        raise NotFound(gettext("The results of this consultation are not published yet.")) from None
    return send_file(io.BytesIO(package), mimetype="application/zip", as_attachment=True, download_name=name,
                     max_age=0)


def _handover_messages(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {field: [gettext(HANDOVER_PROBLEMS[code]) for code in codes] for field, codes in problems.items()}


@blp.post("/consultations/<consultation_id>/council-handover")
@requires_role("coordinator")
def record_handover(consultation_id: str) -> Any:
    """The coordinator records when the draft resolution went to the City Council (or corrects the record)."""
    form = {name: request.form.get(name, "").strip() for name in HANDOVER_FIELDS}
    dates: dict[str, date | None] = {}
    for name in ("handed_over_on", "adopted_on"):
        try:
            dates[name] = date.fromisoformat(form[name]) if form[name] or name == "handed_over_on" else None
        except ValueError:
            return _consultation_page(consultation_id, handover_form=form,
                                      handover_errors=_handover_messages({name: ["invalid"]}))
    entry = council.HandoverEntry(dates["handed_over_on"], form["letter_reference"], form["print_number"], form["note"],
                                  dates["adopted_on"], form["resolution_number"])
    back = f"/documents/consultations/{consultation_id}"
    try:
        _handover, changed = council.record_handover(_ctx(), consultation_id, entry, actor=current_staff().email)
    except Invalid as exc:
        return _consultation_page(consultation_id, handover_form=form, handover_errors=_handover_messages(exc.details))
    except Conflict as exc:
        reasons = (exc.details or {}).get("reasons", [])
        flash(gettext("The results are not published yet, so the hand-over cannot be recorded.")
              if "not_published" in reasons else
              gettext("A colleague recorded the hand-over at the same moment; check it below."), "error")
        return redirect(back, code=303)
    flash(gettext("The hand-over to the City Council is recorded; the public results page shows it.") if changed
          else gettext("Nothing changed in the record of the hand-over."), "success")
    return redirect(back, code=303)


def _refusal(exc: DomainError) -> str:
    reasons = (exc.details or {}).get("reasons") if isinstance(exc.details, dict) else None
    if reasons:
        return " ".join(gettext(PUBLISH_REFUSALS.get(r, r)) for r in reasons)
    return exc.message


@blp.post("/consultations/<consultation_id>/versions")
@requires_role("coordinator")
def build_version(consultation_id: str) -> Any:
    _consultation(consultation_id)
    with _ctx().db.transaction() as session:
        document = drafts.consultation_document(session, consultation_id)
    back = f"/documents/consultations/{consultation_id}"
    if document is None:
        flash(gettext("This consultation has no document to build a version of."), "error")
        return redirect(back, code=303)
    try:
        build = drafts.request_version(_ctx(), document.id, explicit=None, actor=current_staff().email)
    except drafts.NoChanges as exc:
        unanchored = (exc.details or {}).get("unanchored", [])
        flash(gettext("No approved change can be applied, so no new version was built.") + (
            " " + gettext("Comments that could not be placed: %(refs)s.", refs=", ".join(u["ref"] for u in unanchored))
            if unanchored else ""), "error")
        return redirect(back, code=303)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back, code=303)
    return redirect(f"/documents/builds/versions/{build.id}", code=303)


@blp.post("/consultations/<consultation_id>/reports")
@requires_role("coordinator")
def build_report(consultation_id: str) -> Any:
    language = request.form.get("language", "pl")
    if language not in ("pl", "en"):
        language = "pl"
    internal = request.form.get("internal") == "1"
    build = handlers.request_report(_ctx(), consultation_id, language=language, internal=internal,
                                    actor=current_staff().email)
    return redirect(f"/documents/builds/reports/{build.id}", code=303)


@blp.post("/consultations/<consultation_id>/publications")
@requires_role("coordinator")
def publish(consultation_id: str) -> Any:
    back = f"/documents/consultations/{consultation_id}"
    report_build_id = request.form.get("report_build_id", "")
    if not report_build_id:
        flash(gettext("Choose the report to publish."), "error")
        return redirect(back, code=303)
    try:
        publishing.publish(_ctx(), consultation_id, report_build_id, actor=current_staff().email)
    except publishing.PublishRefused as exc:
        flash(_refusal(exc), "error")
        return redirect(back, code=303)
    except NotFound:
        flash(gettext("There is no such report."), "error")
        return redirect(back, code=303)
    flash(gettext("Published. The results page and the e-mails to submitters follow in a moment."), "success")
    return redirect(back, code=303)


def _version_labels(build: VersionBuild) -> dict[str, str]:
    parent = drafts.load_version(_ctx(), build.document_id, build.parent_number)
    return {unit.id: unit.label for unit in parent.units}


@blp.get("/builds/versions/<build_id>")
def version_build(build_id: str) -> Any:
    build = drafts.builds.fetch(_ctx(), VersionBuild, build_id, gettext("There is no such build."))
    document = drafts.get_document(_ctx(), build.document_id)
    return render_template("documents/closing/version_build.html", build=build, document=document,
                           labels=_version_labels(build),
                           status_url=f"/documents/api/v1/documents/{build.document_id}/builds/{build.id}")


@blp.get("/builds/reports/<build_id>")
def report_build(build_id: str) -> Any:
    build = handlers.get_report(_ctx(), build_id)
    return render_template("documents/closing/report_build.html", build=build,
                           status_url=f"/documents/api/v1/reports/{build.id}")
