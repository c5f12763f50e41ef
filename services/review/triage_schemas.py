"""Marshmallow schemas at the edge of the triage queue: filters, paging, assignment, re-anchoring, notes."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, pre_load, validate

from services.common.events import CHANNELS
from services.review import triage
from services.review.schemas import CommentOut

_ID = validate.Length(min=1, max=64)
_SLUG = validate.Regexp(r"^[a-z_]{1,30}$", error="lower-case letters and _ only")


class QueueFilterArgs(Schema):
    """The queue's filters. Empty strings count as "any", so plain HTML forms can submit every control."""

    class Meta:
        unknown = EXCLUDE  # paging and form buttons travel in the same query string

    consultation = fields.String(load_default=None, validate=_ID)
    status = fields.String(load_default=None, validate=_SLUG)
    topic = fields.String(load_default=None, validate=validate.Length(max=200))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    unit = fields.String(load_default=None, validate=_ID)
    assignee = fields.String(load_default=None, validate=validate.Length(max=254))
    late = fields.Boolean(load_default=None, allow_none=True)
    group = fields.String(load_default=None, validate=_ID)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    mine = fields.Boolean(load_default=False)
    sort = fields.String(load_default=triage.DEFAULT_SORT, validate=validate.OneOf(list(triage.SORTS)))

    @pre_load
    def _blank_means_any(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "keys"):
            return {k: data[k] for k in data.keys() if not (isinstance(data[k], str) and data[k].strip() == "")}
        return data


class QueueArgs(QueueFilterArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=triage.MAX_PAGE))
    per_page = fields.Integer(load_default=triage.DEFAULT_PER_PAGE,
                              validate=validate.OneOf(triage.PER_PAGE_CHOICES))


class QueueItemOut(CommentOut):
    assignee = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    chapter_id = fields.String(allow_none=True)


class QueuePageOut(Schema):
    items = fields.List(fields.Nested(QueueItemOut))
    total = fields.Integer()
    capped = fields.Boolean(metadata={"description": "more than `total` match (a broad text search stops counting)"})
    mine_total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()
    filters = fields.Dict()


class AssigneeIn(Schema):
    """The page forms' reviewer choice; empty means no one."""

    assignee = fields.Email(load_default=None, allow_none=True)


class ChapterAssignIn(Schema):
    class Meta:
        unknown = RAISE

    assignee = fields.Email(required=True, allow_none=True)


class ChapterAssignOut(Schema):
    consultation_id = fields.String()
    chapter_id = fields.String()
    assignee = fields.String(allow_none=True)
    changed = fields.Integer()


class ReanchorIn(Schema):
    class Meta:
        unknown = RAISE

    unit = fields.String(required=True, validate=_ID)


class NoteIn(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class NoteOut(Schema):
    id = fields.Integer()
    comment_id = fields.String()
    author = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
