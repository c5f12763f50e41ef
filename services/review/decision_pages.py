"""Console pages of decisions: the progress dashboard, approvals, the decision form, bulk steps,
standard justifications and the audit log.

Thin views: parse the form with a schema, call one handler, then redirect with a
message (or show the form again with its errors). Every page works without
JavaScript; every form carries its CSRF token.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext, ngettext
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from services.common.auth import current_staff, requires_role
from services.common.events import DECISIONS
from services.common.ui import N_, safe_next
from services.common.web import DomainError
from services.review import approval, audit, decisions, triage_pages
from services.review.domain import Decide

blp = Blueprint("review_decision_pages", __name__, url_prefix="/review")

PER_PAGE = 50

DECISION_LABELS = {
    "accepted": N_("Accepted"),
    "partially_accepted": N_("Partially accepted"),
    "rejected": N_("Not accepted"),
    "not_considered": N_("Not considered"),
}
STATE_LABELS = {
    None: N_("Undecided"),
    "": N_("Undecided"),
    approval.PROPOSED: N_("Proposed, awaiting approval"),
    approval.RETURNED: N_("Returned for correction"),
    approval.APPROVED: N_("Approved (final)"),  # a decision: feminine in Polish, where the tallies' column is plural
    approval.SUPERSEDED: N_("Superseded"),
}
ACTION_LABELS = {
    "comment.decided": N_("Decision taken"),
    "comment.decision_approved": N_("Decision approved"),
    "comment.decision_returned": N_("Decision returned"),
    "comment.assigned": N_("Comment assigned"),
    "comment.reanchored": N_("Comment re-anchored"),
    "comment.note_added": N_("Internal note added"),
    "comment.transcribed": N_("Transcribed from the e-mail"),
    "comment.corrected": N_("Transcription corrected"),
    "comment.removed": N_("Removed by a correction of the transcription"),
    "comment.dismissed": N_("E-mail closed as holding no comments"),
    "comment.reopened": N_("E-mail reopened for transcription"),
    "chapter.assigned": N_("Chapter assigned"),
    "chapter.unassigned": N_("Chapter unassigned"),
    "consultation.review_completed": N_("Review completed"),
    "consultation.review_reopened": N_("Review reopened"),
    "standard_justification.created": N_("Standard justification added"),
    "standard_justification.changed": N_("Standard justification changed"),
    "group.merged": N_("Groups merged"),
    "group.split": N_("Group split"),
    "user.created": N_("User created"),
    "user.updated": N_("User changed"),
    "user.invited": N_("User invited"),
    "user.role_changed": N_("Role changed"),
    "user.activated": N_("User activated"),
    "user.deactivated": N_("User deactivated"),
    "user.locked_out": N_("Account locked after failed log-ins"),
    "user.password_reset_requested": N_("Password reset requested"),
    "user.password_set": N_("Password set"),
}
FIELD_LABELS = {
    "decision": N_("Decision"),
    "justification": N_("Justification"),
    "final_text": N_("Final wording"),
    "approval_state": N_("Approval"),
    "approved_revision": N_("Approved revision"),
    "revision": N_("Revision"),
    "assignee": N_("Assignee"),
    "title": N_("Title"),
    "text": N_("Text"),
    "active": N_("In use"),
    "copied_from": N_("Copied from"),
    "notes": N_("Internal notes"),
    "role": N_("Role"),
    "email": N_("E-mail"),
    "name": N_("Name"),
    "completed_at": N_("Completed"),
    "unit": N_("Unit"),
    "chapter": N_("Chapter"),
    "section": N_("Part of the document"),
    "current_text": N_("Current text"),
    "proposal": N_("Proposed change"),
    "topic": N_("Topic"),
    "reference": N_("Reference"),
    "number": N_("No."),
}
# Field errors of the decision form, in words a reviewer can act on.
DECISION_FIELD_ERRORS = {
    "decision": N_("Choose one of the four outcomes."),
    "justification": N_("Give a justification: it is required unless the comment is accepted."),
    "final_text": N_("The final wording goes only with an accepted or partially accepted comment."),
    "standard_justification_id": N_("The standard justification does not belong to this consultation or is archived."),
}
CHECK_FIELD = N_("Check this field.")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _message(exc: DomainError) -> str:
    return gettext(exc.message)


def _back(default: str) -> str:
    # `back` is what the triage pages call it; both stay local paths.
    target = request.form.get("next") or request.form.get("back") or request.args.get("next")
    return safe_next(target, default=default)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _page_url(page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    args["page"] = str(page)
    return f"{request.path}?{urlencode(args)}"


@blp.app_template_global()
def decision_panel_for(comment_id: str) -> decisions.DecisionPanel:
    """The decision panel's data, for pages of other blueprints that include `_comment_panel.html`."""
    return decisions.decision_panel(_ctx(), comment_id)


@blp.app_template_global()
def decision_label(value: str | None) -> str:
    return gettext(DECISION_LABELS[value]) if value in DECISION_LABELS else (value or "—")


@blp.app_template_global()
def approval_label(value: str | None) -> str:
    return gettext(STATE_LABELS[value]) if value in STATE_LABELS else str(value)


@blp.app_template_global()
def audit_action_label(value: str) -> str:
    return gettext(ACTION_LABELS[value]) if value in ACTION_LABELS else value


@blp.app_template_global()
def audit_field_label(value: str) -> str:
    return gettext(FIELD_LABELS[value]) if value in FIELD_LABELS else value


@blp.app_template_global()
def audit_value(field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field == "decision":
        return decision_label(value)
    if field == "approval_state":
        return approval_label(value)
    if field == "role":  # reviewer, coordinator, admin: the account pages' words (views_auth.ROLE_LABELS)
        return gettext(str(value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if field == "notes" and isinstance(value, list):  # a dropped comment's notes: who wrote what
        return " · ".join(f"{note.get('author', '')}: {note.get('body', '')}" for note in value
                          if isinstance(note, dict))
    return str(value)


# --- forms ------------------------------------------------------------------------------------


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data: Any, **_: Any) -> dict:
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


class DecisionForm(_Form):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    justification = fields.String(load_default="", validate=validate.Length(max=20_000))
    final_text = fields.String(load_default=None, validate=validate.Length(max=50_000))
    standard_justification_id = fields.Integer(load_default=None)
    # Coordinators choose: approve at once (the default) or leave it as a proposal.
    approval = fields.String(load_default=None, validate=validate.OneOf(["now", "later"]))


class ReturnForm(_Form):
    note = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class BulkForm(_Form):
    action = fields.String(required=True, validate=validate.OneOf(["assign", "decide", "approve"]))
    assignee = fields.Email(load_default=None)
    decision = fields.String(load_default=None, validate=validate.OneOf(DECISIONS))
    justification = fields.String(load_default="", validate=validate.Length(max=20_000))
    final_text = fields.String(load_default=None, validate=validate.Length(max=50_000))
    standard_justification_id = fields.Integer(load_default=None)


class StandardForm(_Form):
    title = fields.String(load_default="", validate=validate.Length(max=200))
    text = fields.String(load_default="", validate=validate.Length(max=20_000))
    active = fields.String(load_default=None)


class AuditFilterForm(_Form):
    actor = fields.String(load_default=None, validate=validate.Length(max=254))
    action = fields.String(load_default=None, validate=validate.Length(max=60))
    subject = fields.String(load_default=None, validate=validate.Length(max=60))
    consultation = fields.String(load_default=None, validate=validate.Length(max=36))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)


def _form(schema: Schema) -> tuple[dict, dict[str, list[str]]]:
    try:
        return schema.load(request.form.to_dict()), {}
    except ValidationError as exc:
        return {}, {k: v if isinstance(v, list) else [str(v)] for k, v in exc.messages.items()}


# --- the dashboard ------------------------------------------------------------------------------


@blp.get("/")
def dashboard() -> Any:
    consultation = request.args.get("consultation") or None
    try:
        reports = decisions.progress(_ctx(), consultation)
    except DomainError as exc:
        flash(_message(exc), "error")
        return redirect("/review/")
    return render_template("review/decisions/dashboard.html", reports=reports, selected=consultation,
                           consultations=decisions.consultation_titles(_ctx()))


# --- approvals ------------------------------------------------------------------------------------


@blp.get("/approvals")
def approvals() -> Any:
    state = request.args.get("state", approval.PROPOSED)
    if state not in approval.APPROVAL_STATES:
        state = approval.PROPOSED
    consultation = request.args.get("consultation") or None
    page = _page_number()
    items, total = decisions.list_by_approval(_ctx(), consultation_id=consultation, state=state, limit=PER_PAGE,
                                              offset=(page - 1) * PER_PAGE)
    return render_template("review/decisions/approvals.html", items=items, total=total, page=page,
                           per_page=PER_PAGE, page_url=_page_url, state=state, selected=consultation,
                           consultations=decisions.consultation_titles(_ctx()), states=approval.APPROVAL_STATES)


# --- one comment's decision ------------------------------------------------------------------------


def _decision_page(comment_id: str, *, form: dict | None = None, errors: dict | None = None,
                   status: int = 200) -> Any:
    back = _back(f"/review/comments/{comment_id}/decision")
    parts = urlsplit(back)
    if errors and parts.path == f"/review/comments/{comment_id}":  # sent from the comment's page: errors shown there
        return triage_pages.comment_page(comment_id, (parse_qs(parts.query).get("pos") or [None])[0], here=back,
                                         decision_form=form, decision_errors=errors), status
    panel = decisions.decision_panel(_ctx(), comment_id)
    return render_template("review/decisions/decision.html", panel=panel, form=form or {}, errors=errors or {},
                           next_url=_back(f"/review/comments/{comment_id}/decision")), status


@blp.get("/comments/<comment_id>/decision")
def decision_page(comment_id: str) -> Any:
    return _decision_page(comment_id)


def _field_errors(details: Any) -> dict[str, list[str]]:
    fields_with_errors = (details or {}).get("json", {}) if isinstance(details, dict) else {}
    return {name: [gettext(DECISION_FIELD_ERRORS.get(name, CHECK_FIELD))] for name in fields_with_errors}


@blp.post("/comments/<comment_id>/decision")
def decide(comment_id: str) -> Any:
    data, errors = _form(DecisionForm())
    if errors:
        return _decision_page(comment_id, form=request.form.to_dict(), status=422,
                              errors={name: [gettext(DECISION_FIELD_ERRORS.get(name, CHECK_FIELD))]
                                      for name in errors})
    approve = {"now": True, "later": False}.get(data.pop("approval") or "")
    standard = data.pop("standard_justification_id")
    try:
        comment = decisions.decide(_ctx(), Decide(comment_id=comment_id, **data), current_staff(), approve=approve,
                                   standard_justification_id=standard)
    except DomainError as exc:
        if exc.status == 404:
            raise
        field_errors = _field_errors(exc.details) or {"decision": [_message(exc)]}
        return _decision_page(comment_id, form=request.form.to_dict(), errors=field_errors, status=exc.status)
    if comment.approval_state == approval.APPROVED:
        flash(gettext("The decision is saved and approved."), "success")
    else:
        flash(gettext("The decision is saved as a proposal; a coordinator will approve it."), "success")
    return redirect(_back(f"/review/comments/{comment_id}/decision"))


@blp.post("/comments/<comment_id>/approval")
@requires_role("coordinator")
def approve(comment_id: str) -> Any:
    try:
        decisions.approve(_ctx(), comment_id, current_staff())
        flash(gettext("The decision is approved."), "success")
    except DomainError as exc:
        flash(_message(exc), "error")
    return redirect(_back(f"/review/comments/{comment_id}/decision"))


@blp.post("/comments/<comment_id>/return")
@requires_role("coordinator")
def return_decision(comment_id: str) -> Any:
    data, errors = _form(ReturnForm())
    if errors:
        flash(gettext("Say what should change: a returned decision needs a note."), "error")
        return redirect(_back(f"/review/comments/{comment_id}/decision"))
    try:
        decisions.return_decision(_ctx(), comment_id, current_staff(), data["note"])
        flash(gettext("The decision is returned to the reviewer with your note."), "success")
    except DomainError as exc:
        flash(_message(exc), "error")
    return redirect(_back(f"/review/comments/{comment_id}/decision"))


# --- bulk steps on a selection ----------------------------------------------------------------------


@blp.post("/bulk")
def bulk() -> Any:
    """One step on the comments ticked in a list (`comment_ids`): assign, decide or approve."""
    target = _back("/review/approvals")
    data, errors = _form(BulkForm())
    if errors:
        flash(gettext("The bulk action could not be read: check the chosen action and its fields."), "error")
        return redirect(target)
    if data["action"] == "decide" and not data["decision"]:
        flash(gettext("Choose the decision to apply to the selected comments."), "error")
        return redirect(target)
    # The queue's selection boxes are named `comment`; the approvals page's `comment_ids`.
    ids = request.form.getlist("comment_ids") or request.form.getlist("comment")
    ctx, staff = _ctx(), current_staff()
    try:
        if data["action"] == "approve":
            outcome = decisions.approve_many(ctx, ids, staff, group_id=request.form.get("group_id") or None)
            message = gettext("Approved: %(done)d. Skipped (not proposals): %(skipped)d.", done=len(outcome.done),
                              skipped=len(outcome.skipped))
        elif data["action"] == "assign":
            outcome = decisions.assign_many(ctx, ids, data["assignee"], staff)
            message = gettext("Assigned: %(done)d. Unchanged: %(skipped)d.", done=len(outcome.done),
                              skipped=len(outcome.skipped))
        else:
            done = decisions.decide_many(ctx, ids, data["decision"], data["justification"], data["final_text"],
                                         staff, standard_justification_id=data["standard_justification_id"])
            message = gettext("Decided: %(done)d.", done=len(done))
    except DomainError as exc:
        field_messages = [m for ms in _field_errors(exc.details).values() for m in ms]
        flash(" ".join([_message(exc), *field_messages]), "error")
        return redirect(target)
    flash(message, "success")
    return redirect(target)


# --- standard justifications -------------------------------------------------------------------------


@blp.get("/consultations/<consultation_id>/justifications")
@requires_role("coordinator")
def standard_justifications(consultation_id: str) -> Any:
    return _standards_page(consultation_id)


def _standards_page(consultation_id: str, *, form: dict | None = None, errors: dict | None = None,
                    status: int = 200) -> Any:
    title = decisions.consultation_title(_ctx(), consultation_id)
    items = decisions.standard_justifications(_ctx(), consultation_id, include_archived=True)
    return render_template("review/decisions/justifications.html", consultation_id=consultation_id,
                           consultation_title=title, items=items, form=form or {}, errors=errors or {},
                           sources=decisions.standard_sources(_ctx(), consultation_id)), status


@blp.post("/consultations/<consultation_id>/justifications/copy")
@requires_role("coordinator")
def copy_standard_justifications(consultation_id: str) -> Any:
    try:
        copied, skipped = decisions.copy_standard_justifications(
            _ctx(), consultation_id, request.form.get("source", "")[:64], current_staff())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(_message(exc), "error")
        return redirect(f"/review/consultations/{consultation_id}/justifications")
    message = ngettext("%(num)d standard justification copied.", "%(num)d standard justifications copied.", copied)
    if skipped:
        message += " " + ngettext("%(num)d was already here under the same title and was left as it is.",
                                  "%(num)d were already here under the same titles and were left as they are.",
                                  skipped)
    flash(message, "success" if copied else "info")
    return redirect(f"/review/consultations/{consultation_id}/justifications")


@blp.post("/consultations/<consultation_id>/justifications")
@requires_role("coordinator")
def create_standard_justification(consultation_id: str) -> Any:
    data, _errors = _form(StandardForm())
    try:
        decisions.create_standard_justification(_ctx(), consultation_id, data.get("title", ""), data.get("text", ""),
                                                current_staff())
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = {k: [gettext(m) for m in v] for k, v in ((exc.details or {}).get("json") or {}).items()}
        return _standards_page(consultation_id, form=request.form.to_dict(), errors=errors, status=exc.status)
    flash(gettext("The standard justification is added."), "success")
    return redirect(f"/review/consultations/{consultation_id}/justifications")


@blp.post("/justifications/<int:standard_id>")
@requires_role("coordinator")
def update_standard_justification(standard_id: int) -> Any:
    data, _errors = _form(StandardForm())
    changes: dict[str, Any] = {}
    if "title" in request.form:
        changes["title"] = data.get("title", "")
    if "text" in request.form:
        changes["text"] = data.get("text", "")
    if data.get("active") in ("yes", "no"):
        changes["active"] = data["active"] == "yes"
    try:
        standard = decisions.update_standard_justification(_ctx(), standard_id, current_staff(), **changes)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(_message(exc), "error")
        return redirect(_back("/review/"))
    flash(gettext("The standard justification is saved."), "success")
    return redirect(f"/review/consultations/{standard.consultation_id}/justifications")


# --- the audit log ---------------------------------------------------------------------------------


def _local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_ctx().settings.timezone)


@blp.get("/audit")
def audit_log() -> Any:
    try:
        data = AuditFilterForm().load(request.args.to_dict())
        errors: dict = {}
    except ValidationError as exc:
        data, errors = AuditFilterForm().load({}), {k: [gettext("Give a date as YYYY-MM-DD.")] for k in exc.messages}
    filters = audit.AuditFilter(
        actor=data["actor"], action=data["action"], subject=data["subject"], consultation_id=data["consultation"],
        since=_local_day_start(data["since"]) if data["since"] else None,
        until=_local_day_start(data["until"] + timedelta(days=1)) if data["until"] else None)
    page = _page_number()
    items, total = audit.read(_ctx(), filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    actions = audit.actions(_ctx())
    return render_template("review/decisions/audit.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           labels=audit.comment_labels(_ctx(), items),
                           page_url=_page_url, filters=request.args, errors=errors, actions=actions,
                           consultations=decisions.consultation_titles(_ctx()))
