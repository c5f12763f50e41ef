"""The groups API (duplicate and campaign comments): thin views over services.review.groups."""

from __future__ import annotations

from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint

from services.common.auth import current_staff, requires_role
from services.common.idempotency import idempotent
from services.review import groups
from services.review.group_schemas import (GroupDecisionIn, GroupDecisionOut, GroupOut, GroupPage, GroupQuery, MergeIn,
                                           SplitIn, SplitOut)

blp = Blueprint("review_groups", __name__, description="Groups of identical and near-identical comments")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/groups", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(GroupQuery, location="query")
@blp.response(200, GroupPage)
def list_groups(query: dict) -> Any:
    items, total = groups.list_groups(_ctx(), consultation_id=query["consultation"], limit=query["limit"],
                                      offset=query["offset"])
    return {"items": items, "total": total, "limit": query["limit"], "offset": query["offset"]}


@blp.route("/groups/<group_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, GroupOut)
def read_group(group_id: str) -> Any:
    return groups.get_group(_ctx(), group_id).summary


@blp.route("/groups/<group_id>/split", methods=["POST"])
@requires_role("reviewer")
@idempotent  # creates the group of the selected comments; a retry would refuse them as no longer members
@blp.arguments(SplitIn)
@blp.response(200, SplitOut)
def split_group(data: dict, group_id: str) -> Any:
    return groups.split_group(_ctx(), group_id, data["comment_ids"], current_staff())


@blp.route("/groups/<group_id>/merge", methods=["POST"])
@requires_role("reviewer")
# No Idempotency-Key: merging creates nothing (the other groups disappear); a retry names groups that are gone.
@blp.arguments(MergeIn)
@blp.response(200, GroupOut)
def merge_groups(data: dict, group_id: str) -> Any:
    groups.merge_groups(_ctx(), group_id, data["group_ids"], current_staff())
    return groups.get_group(_ctx(), group_id).summary


@blp.route("/groups/<group_id>/decision", methods=["POST"])
@requires_role("reviewer")
@idempotent  # a new revision of every member each time
@blp.arguments(GroupDecisionIn)
@blp.response(200, GroupDecisionOut)
def decide_group(data: dict, group_id: str) -> Any:
    """One decision for every member; each keeps its own revision, event and e-mail."""
    return groups.decide_group(_ctx(), group_id, data["decision"], data["justification"], data["final_text"],
                               current_staff(), approve=data["approve"],
                               standard_justification_id=data["standard_justification_id"])
