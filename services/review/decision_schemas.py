"""Marshmallow schemas at the HTTP edge of decisions, approvals, bulk steps, standard justifications and audit."""

from __future__ import annotations

from datetime import timezone

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common.events import DECISIONS
from services.common.web import paging_offset
from services.review.approval import APPROVAL_STATES, RECORD_STATES
from services.review.decisions import MAX_BULK
from services.review.schemas import CommentOut

PAGE_MAX = 500


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ApprovalQuery(Schema):
    consultation = fields.String(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(APPROVAL_STATES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))
    offset = paging_offset()


class ApprovalPage(Schema):
    items = fields.List(fields.Nested(CommentOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class ApproveIn(_Strict):
    note = fields.String(load_default="", validate=validate.Length(max=5000))


class ReturnIn(_Strict):
    note = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class DecisionRecordOut(Schema):
    revision = fields.Integer()
    decision = fields.String()
    justification = fields.String()
    final_text = fields.String(allow_none=True)
    decided_by = fields.String()
    decided_at = fields.DateTime()
    state = fields.String(metadata={"description": ", ".join(RECORD_STATES)})
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_note = fields.String()
    standard_justification_id = fields.Integer(allow_none=True)


class RevisionList(Schema):
    items = fields.List(fields.Nested(DecisionRecordOut))


_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), required=True,
                   validate=validate.Length(min=1, max=MAX_BULK))


class BulkApproveIn(_Strict):
    comment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                              validate=validate.Length(min=1, max=MAX_BULK))
    group_id = fields.String(validate=validate.Length(min=1, max=36),
                             metadata={"description": "approve the proposals of a duplicate group's members"})

    @validates_schema
    def _one_selection(self, data: dict, **_: object) -> None:
        if ("comment_ids" in data) == ("group_id" in data):
            raise ValidationError("give either `comment_ids` or `group_id`", "comment_ids")


class BulkDecideIn(_Strict):
    comment_ids = _ids
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    justification = fields.String(load_default="", validate=validate.Length(max=20_000))
    final_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50_000))
    approve = fields.Boolean(load_default=None, allow_none=True)
    standard_justification_id = fields.Integer(load_default=None, allow_none=True)


class BulkAssignIn(_Strict):
    comment_ids = _ids
    assignee = fields.Email(required=True, allow_none=True, metadata={"description": "null takes the comments back"})


class BulkOut(Schema):
    done = fields.List(fields.String())
    skipped = fields.Dict(keys=fields.String(), values=fields.String())


class StandardJustificationIn(_Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class StandardJustificationPatch(_Strict):
    title = fields.String(validate=validate.Length(min=1, max=200))
    text = fields.String(validate=validate.Length(min=1, max=20_000))
    active = fields.Boolean()


class StandardJustificationOut(Schema):
    id = fields.Integer()
    consultation_id = fields.String()
    title = fields.String()
    text = fields.String()
    active = fields.Boolean()
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class StandardJustificationQuery(Schema):
    archived = fields.Boolean(load_default=False)


class StandardJustificationList(Schema):
    items = fields.List(fields.Nested(StandardJustificationOut))


class AuditQuery(Schema):
    actor = fields.String(load_default=None, validate=validate.Length(max=254))
    action = fields.String(load_default=None, validate=validate.Length(max=60))
    subject = fields.String(load_default=None, validate=validate.Length(max=60))
    consultation = fields.String(load_default=None, validate=validate.Length(max=36))
    # A time without an offset is read as UTC.
    since = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    until = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))
    offset = paging_offset()

    @validates_schema
    def _ordered(self, data: dict, **_: object) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("`since` must come before `until`", "until")


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    subject = fields.String()
    consultation_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    details = fields.Dict()


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditEntryOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class TallyOut(Schema):
    total = fields.Integer()
    undecided = fields.Integer()
    proposed = fields.Integer()
    returned = fields.Integer()
    approved = fields.Integer()
    unapproved = fields.Integer()


class ProgressOut(Schema):
    consultation_id = fields.String()
    title = fields.String()
    needs_approval = fields.Boolean()
    completed = fields.Boolean()
    overall = fields.Nested(TallyOut)
    by_decision = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_reviewer = fields.Dict(keys=fields.String(), values=fields.Nested(TallyOut),
                              metadata={"description": "by assignee; the empty key holds unassigned comments"})
    by_chapter = fields.Dict(keys=fields.String(), values=fields.Nested(TallyOut))


class ProgressQuery(Schema):
    consultation = fields.String(load_default=None)


class ProgressList(Schema):
    items = fields.List(fields.Nested(ProgressOut))
