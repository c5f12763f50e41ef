"""Intake's JSON API: thin views that parse, call one handler and shape the answer."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from services.common.auth import current_staff, public, requires_role
from services.intake import domain, handlers
from services.intake.schemas import (
    ConsultationIn,
    ConsultationOut,
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
@blp.arguments(ConsultationIn)
@blp.response(201, ConsultationOut)
def create_consultation(data: dict) -> Any:
    ctx = _ctx()
    closes_at = data["closes_at"] or domain.end_of_day(data["deadline"], ctx.settings.timezone)
    cmd = domain.OpenConsultation(
        title=data["title"], stage=data["stage"], description=data["description"], opens_at=data["opens_at"],
        closes_at=closes_at, channels=tuple(data["channels"]), topics=tuple(data["topics"]),
        duty_days=tuple(domain.DutyDay(**d) for d in data["duty_days"]), contact_email=data["contact_email"],
        late_policy=domain.LatePolicy(data["late_policy"]),
    )
    staff = current_staff()
    return handlers.open_consultation(ctx, cmd, actor=staff.email if staff else "")


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


@blp.route("/consultations/<consultation_id>/submissions", methods=["POST"])
@public
@blp.arguments(SubmissionIn)
@blp.response(201, SubmissionReceipt)
def submit(data: dict, consultation_id: str) -> Any:
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
