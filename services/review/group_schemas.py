"""Marshmallow schemas of the groups API (duplicate and campaign comments)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.web import paging_offset
from services.review.decision_schemas import BulkDecideIn
from services.review.groups import MAX_SELECTION

MAX_GROUPS_PER_PAGE = 200


class GroupQuery(Schema):
    consultation = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_GROUPS_PER_PAGE))
    offset = paging_offset()


class GroupOut(Schema):
    id = fields.String()
    consultation_id = fields.String()
    created_at = fields.DateTime()
    curated = fields.Boolean(metadata={"description": "split or merged by hand; never merged automatically"})
    size = fields.Integer()
    decided = fields.Integer(metadata={"description": "members with a decision"})
    member_ids = fields.List(fields.String(), metadata={"description": "member comment ids, oldest first"})
    sample = fields.String(metadata={"description": "the proposal of the oldest member"})


class GroupPage(Schema):
    items = fields.List(fields.Nested(GroupOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


def _ids(what: str) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=36)), required=True,
                       validate=validate.Length(min=1, max=MAX_SELECTION),
                       metadata={"description": f"{what} ids"})


class SplitIn(Schema):
    class Meta:
        unknown = RAISE

    comment_ids = _ids("member comment")


class SplitOut(Schema):
    group_id = fields.String(allow_none=True, metadata={"description": "the rest of the group (null: dissolved)"})
    new_group_id = fields.String(allow_none=True, metadata={"description": "the selected comments' group "
                                                                           "(null: a single comment, ungrouped)"})


class MergeIn(Schema):
    class Meta:
        unknown = RAISE

    group_ids = _ids("group")


class GroupDecisionIn(BulkDecideIn):
    """The bulk decision without a selection: the group's members are the selection."""

    class Meta:
        unknown = RAISE
        exclude = ("comment_ids",)


class GroupDecisionOut(Schema):
    group_id = fields.String()
    decided = fields.List(fields.String(), metadata={"description": "the member comments decided"})
