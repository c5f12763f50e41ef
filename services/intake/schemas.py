"""Marshmallow schemas at the HTTP edge of intake. Handlers never see raw request dicts."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common.events import CHANNELS, OUTCOME_NOTICES, utcnow
from services.intake import domain

TEXT = 10_000


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SubmitterIn(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organization = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254), metadata={
        "description": "Optional: without it no receipt or outcome e-mail is sent; keep the reference."})
    publish_consent = fields.Boolean(required=True)


class CommentIn(_Strict):
    section = fields.String(required=True, validate=validate.Length(min=1, max=500))
    current_text = fields.String(load_default="", validate=validate.Length(max=TEXT))
    proposal = fields.String(required=True, validate=validate.Length(min=1, max=TEXT))
    justification = fields.String(load_default="", validate=validate.Length(max=TEXT))
    topic = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SubmissionIn(_Strict):
    submitter = fields.Nested(SubmitterIn, required=True)
    comments = fields.List(fields.Nested(CommentIn), required=True, validate=validate.Length(min=1, max=100))
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))


class SubmissionReceipt(Schema):
    reference = fields.String()
    status_token = fields.String()
    status_url = fields.String()
    submission_id = fields.String()
    comment_ids = fields.List(fields.String())
    late = fields.Boolean()
    received_at = fields.DateTime()


class CommentStatusOut(Schema):
    id = fields.String()
    number = fields.Integer()
    section = fields.String()
    proposal = fields.String()
    status = fields.String(metadata={"description": "received (registered), accepted, partially_accepted, rejected, "
                                                    "not_considered, or dismissed (staff found no comment on the "
                                                    "draft in the e-mail)"})
    justification = fields.String(attribute="decision_justification")
    final_text = fields.String(metadata={"description": "The adopted wording, when the decision gives one."})


class SubmissionStatusOut(Schema):
    reference = fields.String()
    consultation_id = fields.String()
    received_at = fields.DateTime()
    late = fields.Boolean()
    channel = fields.String()
    comments = fields.List(fields.Nested(CommentStatusOut))


class StatusQuery(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DutyDayIn(_Strict):
    date = fields.Date(required=True)
    starts = fields.Time(required=True, metadata={"description": "Local time."})
    ends = fields.Time(required=True, metadata={"description": "Local time."})
    place = fields.String(required=True, validate=validate.Length(min=1, max=300))
    room = fields.String(load_default="", validate=validate.Length(max=100))
    booking_deadline = fields.AwareDateTime(required=True)
    slot_minutes = fields.Integer(load_default=30, validate=validate.Range(min=5, max=240))


class ConsultationPatch(_Strict):
    """Any of a consultation's details; what is left out stays as it is."""

    title = fields.String(validate=validate.Length(min=3, max=300))
    stage = fields.String(validate=validate.Length(max=100))
    description = fields.String(validate=validate.Length(max=20_000))
    organiser = fields.String(validate=validate.Length(max=300), metadata={"description": "The department."})
    legal_basis = fields.String(validate=validate.Length(max=2000))
    resolution = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "The resolution that governs consultations."})
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    deadline = fields.Date(metadata={"description": "Last day for comments; closes at its local end of day."})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)))
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=200)))
    duty_days = fields.List(fields.Nested(DutyDayIn))
    contact_email = fields.Email(allow_none=True)
    contact_phone = fields.String(validate=validate.Length(max=50))
    postal_address = fields.String(validate=validate.Length(max=1000))
    late_policy = fields.String(validate=validate.OneOf(["flag", "refuse"]))
    decisions_need_approval = fields.Boolean()
    outcome_notice = fields.String(validate=validate.OneOf(OUTCOME_NOTICES))

    @validates_schema
    def _one_deadline(self, data: dict, **kwargs: object) -> None:
        if data.get("closes_at") is not None and data.get("deadline") is not None:
            raise ValidationError("give at most one of closes_at or deadline", "closes_at")


class ConsultationIn(ConsultationPatch):
    title = fields.String(required=True, validate=validate.Length(min=3, max=300))
    stage = fields.String(load_default="", validate=validate.Length(max=100))
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(load_default=None)
    deadline = fields.Date(load_default=None, metadata={"description": "Last day for comments; closes at its local end of day."})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), load_default=lambda: list(CHANNELS))
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    duty_days = fields.List(fields.Nested(DutyDayIn), load_default=list)
    contact_email = fields.Email(load_default=None, allow_none=True)
    late_policy = fields.String(load_default="flag", validate=validate.OneOf(["flag", "refuse"]))
    draft = fields.Boolean(load_default=False, metadata={
        "description": "Keep it as a draft (not public) to open later; by default it is opened at once."})

    @validates_schema
    def _one_deadline(self, data: dict, **kwargs: object) -> None:
        if (data.get("closes_at") is None) == (data.get("deadline") is None):
            raise ValidationError("give exactly one of closes_at or deadline", "closes_at")


def details_fields(data: dict, tz: object) -> dict:
    """Loaded API data as ConsultationDetails fields: a deadline day becomes its local end of day."""
    fields_ = {name: value for name, value in data.items() if name in domain.EDITABLE_FIELDS or name == "draft"}
    if data.get("deadline") is not None:
        fields_["closes_at"] = domain.end_of_day(data["deadline"], tz)  # type: ignore[arg-type]
    if fields_.get("closes_at") is None:
        fields_.pop("closes_at", None)
    for name in ("channels", "topics"):
        if name in fields_:
            fields_[name] = tuple(fields_[name])
    if "duty_days" in fields_:
        fields_["duty_days"] = tuple(domain.DutyDay(**day) for day in fields_["duty_days"])
    return fields_


class StepIn(_Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=2000), metadata={
        "description": "Required to close before the deadline."})


class LogEntryOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String()
    changes = fields.Dict()


class DutyDayOut(Schema):
    date = fields.String()
    starts = fields.String()
    ends = fields.String()
    place = fields.String()
    room = fields.String()
    booking_deadline = fields.String()
    slot_minutes = fields.Integer()


class ConsultationOut(Schema):
    id = fields.String()
    title = fields.String()
    stage = fields.String()
    description = fields.String()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    channels = fields.List(fields.String())
    topics = fields.List(fields.String())
    duty_days = fields.List(fields.Nested(DutyDayOut))
    contact_email = fields.String(allow_none=True)
    contact_phone = fields.String()
    postal_address = fields.String()
    organiser = fields.String()
    legal_basis = fields.String()
    resolution = fields.String()
    late_policy = fields.String()
    decisions_need_approval = fields.Boolean()
    outcome_notice = fields.String()
    state = fields.Method("_state", metadata={"description": "draft, open, closed, in_review or report_published"})
    is_open = fields.Method("_is_open")
    document_id = fields.String(allow_none=True)
    document_sections = fields.List(fields.Dict())
    document_url = fields.String(metadata={"description": "The announced draft's clean DOCX, public (no token)."})

    def _state(self, consultation: object) -> str:
        return domain.effective_state(consultation.state, consultation.closes_at, utcnow()).value  # type: ignore[attr-defined]

    def _is_open(self, consultation: object) -> bool:
        return (consultation.state != domain.State.DRAFT.value  # type: ignore[attr-defined]
                and consultation.opens_at <= utcnow() <= consultation.closes_at)  # type: ignore[attr-defined]
