"""Intake's JSON API: thin views that parse, call one handler and shape the answer."""

from __future__ import annotations

from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint

from services.common.idempotency import idempotent
from services.common.ratelimit import limit_public_call
from services.common.auth import current_staff, public, requires_role
from services.common.web import file_response
from services.intake import domain, handlers
from services.intake.comment_form import MEDIA_TYPE as FORM_MEDIA_TYPE
from services.intake.comment_form import sha256
from services.intake.schemas import (
    ConsultationIn,
    ConsultationOut,
    ConsultationPatch,
    LogEntryOut,
    StepIn,
    details_fields,
    StatusQuery,
    SubmissionIn,
    SubmissionReceipt,
    SubmissionStatusOut,
)

blp = Blueprint("intake", __name__, description="Consultations and the comments people send")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/consultations", methods=["POST"])
@requires_role("coordinator")
@idempotent
@blp.arguments(ConsultationIn)
@blp.response(201, ConsultationOut)
def create_consultation(data: dict) -> Any:
    ctx = _ctx()
    cmd = domain.OpenConsultation(**details_fields(data, ctx.settings.timezone))
    return handlers.create_consultation(ctx, cmd, actor=_actor())


@blp.route("/consultations/<consultation_id>", methods=["PATCH"])
@requires_role("coordinator")
@blp.arguments(ConsultationPatch)
@blp.response(200, ConsultationOut)
def edit_consultation(data: dict, consultation_id: str) -> Any:
    """Change some details; what may change depends on the state (see the domain's edit rules)."""
    ctx = _ctx()
    return handlers.edit_consultation(ctx, consultation_id, details_fields(data, ctx.settings.timezone),
                                      actor=_actor())


@blp.route("/consultations/<consultation_id>/open", methods=["POST"])
@requires_role("coordinator")
@blp.arguments(StepIn, required=False)
@blp.response(200, ConsultationOut)
def open_draft(data: dict | None, consultation_id: str) -> Any:
    """Open (announce) a draft: emits consultation.published. Its closing date must lie ahead."""
    return _step(consultation_id, domain.Step.OPEN, data)


@blp.route("/consultations/<consultation_id>/close", methods=["POST"])
@requires_role("coordinator")
@blp.arguments(StepIn, required=False)
@blp.response(200, ConsultationOut)
def close_consultation(data: dict | None, consultation_id: str) -> Any:
    """Close an open consultation; before its deadline only with a reason (the deadline becomes now)."""
    return _step(consultation_id, domain.Step.CLOSE, data)


@blp.route("/consultations/<consultation_id>/start-review", methods=["POST"])
@requires_role("coordinator")
@blp.arguments(StepIn, required=False)
@blp.response(200, ConsultationOut)
def start_review(data: dict | None, consultation_id: str) -> Any:
    """Move a closed consultation into review."""
    return _step(consultation_id, domain.Step.START_REVIEW, data)


def _step(consultation_id: str, step: domain.Step, data: dict | None) -> Any:
    return handlers.take_step(_ctx(), consultation_id, step, actor=_actor(), reason=(data or {}).get("reason", ""))


@blp.route("/staff/consultations", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, ConsultationOut(many=True))
def list_all_consultations() -> Any:
    """Every consultation in any state, drafts included."""
    return handlers.list_all_consultations(_ctx())


@blp.route("/staff/consultations/<consultation_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, ConsultationOut)
def read_any_consultation(consultation_id: str) -> Any:
    return handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)


@blp.route("/staff/consultations/<consultation_id>/log", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, LogEntryOut(many=True))
def consultation_log(consultation_id: str) -> Any:
    """Who created, edited, opened, closed … the consultation, when and why."""
    return handlers.consultation_log(_ctx(), consultation_id)


def _actor() -> str:
    staff = current_staff()
    return staff.email if staff else ""


@blp.route("/consultations", methods=["GET"])
@public
@blp.response(200, ConsultationOut(many=True))
def list_consultations() -> Any:
    return handlers.list_open_consultations(_ctx())


@blp.route("/consultations/<consultation_id>", methods=["GET"])
@public
@blp.response(200, ConsultationOut)
def read_consultation(consultation_id: str) -> Any:
    return handlers.get_consultation(_ctx(), consultation_id)


@blp.route("/consultations/<consultation_id>/form.docx", methods=["GET"])
@public
@blp.doc(summary="The consultation's comment form (DOCX)", responses={"200": {
    "description": "The form, to fill in and send by e-mail or post.",
    "content": {FORM_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}, description=(
    "Generated from the announcement and the draft's units, after the city's paper form; filled in and "
    "mailed back, it is read by e-mail intake. Deterministic: the ETag is the file's sha256."))
def comment_form(consultation_id: str) -> Any:
    content = handlers.comment_form(_ctx(), consultation_id)
    return file_response(content, FORM_MEDIA_TYPE, "formularz-uwag.docx", sha256(content), cache_control="no-cache")


@blp.route("/consultations/<consultation_id>/submissions", methods=["POST"])
@public
@idempotent
@blp.arguments(SubmissionIn())  # an instance: webargs would build the class (and its nested schemas) per request
@blp.response(201, SubmissionReceipt)
@blp.alt_response(429, description="too many submissions from this client or to this e-mail address; see Retry-After")
def submit(data: dict, consultation_id: str) -> Any:
    limit_public_call("submission", recipient=data["submitter"].get("email"))
    submitter = domain.Submitter(**data["submitter"])
    comments = tuple(domain.CommentDraft(**c) for c in data["comments"])
    receipt = handlers.submit_comments(_ctx(), domain.SubmitComments(
        consultation_id=consultation_id, submitter=submitter, comments=comments, channel="web",
        language=data["language"]))
    return receipt.__dict__


@blp.route("/submissions/<path:reference>", methods=["GET"])
@public
@blp.arguments(StatusQuery, location="query")
@blp.response(200, SubmissionStatusOut)
def submission_status(query: dict, reference: str) -> Any:
    return handlers.submission_status(_ctx(), reference, query["token"])
