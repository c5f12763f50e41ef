"""Marshmallow schemas at the HTTP edge of review."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.events import DECISIONS
from services.common.web import paging_offset


class CommentQuery(Schema):
    consultation = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(["new", "decided"]))
    decision = fields.String(load_default=None, validate=validate.OneOf(DECISIONS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = paging_offset()


class CommentOut(Schema):
    id = fields.String()
    consultation_id = fields.String()
    reference = fields.String()
    number = fields.Integer()
    channel = fields.String()
    received_at = fields.DateTime()
    late = fields.Boolean()
    submitter_kind = fields.String()
    submitter_label = fields.String()
    section = fields.String()
    current_text = fields.String()
    proposal = fields.String()
    justification = fields.String()
    topic = fields.String(allow_none=True)
    status = fields.String()
    decision = fields.String(allow_none=True)
    decision_justification = fields.String()
    final_text = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    revision = fields.Integer()
    approval_state = fields.String(allow_none=True, metadata={
        "description": "null (undecided), proposed, returned or approved: the state of the latest revision"})
    approval_note = fields.String()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    approved_revision = fields.Integer(allow_none=True, metadata={
        "description": "the revision the other services know (the last one emitted as comment.decided)"})
    group_id = fields.String(allow_none=True, metadata={"description": "its duplicate/campaign group, if any"})


class CommentPage(Schema):
    items = fields.List(fields.Nested(CommentOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class DecisionIn(Schema):
    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    justification = fields.String(load_default="", validate=validate.Length(max=20_000))
    final_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50_000))
    approve = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "coordinators only: approve at once (the default for them) or, with false, leave a proposal"})
    standard_justification_id = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "a standard justification of the consultation; used when `justification` is empty"})


class CompletionOut(Schema):
    consultation_id = fields.String()
    completed_at = fields.DateTime()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class ReopenIn(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why the review is reopened; kept in the audit log."})


class ReopenOut(Schema):
    consultation_id = fields.String()
    reopened_at = fields.DateTime()
    reason = fields.String()
