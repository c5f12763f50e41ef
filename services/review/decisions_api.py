"""Review's JSON API for decisions, approvals, bulk steps, standard justifications, progress and the audit log."""

from __future__ import annotations

from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint

from services.common.auth import current_staff, requires_role
from services.common.idempotency import idempotent
from services.review import audit, decisions
from services.review.decision_schemas import (
    ApprovalPage,
    ApprovalQuery,
    ApproveIn,
    AuditPage,
    AuditQuery,
    BulkAssignIn,
    BulkDecideIn,
    BulkApproveIn,
    BulkOut,
    ProgressList,
    ProgressQuery,
    ReturnIn,
    RevisionList,
    StandardJustificationIn,
    StandardJustificationList,
    StandardJustificationOut,
    StandardJustificationPatch,
    StandardJustificationQuery,
)
from services.review.domain import Decide
from services.review.schemas import CommentOut, DecisionIn

blp = Blueprint("review_decisions", __name__,
                description="Decisions, approvals, bulk steps, standard justifications, progress and audit (staff only)")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/comments/<comment_id>/decision", methods=["POST"])
@requires_role("reviewer")
@idempotent  # a new decision revision (and comment.decided) each time
@blp.arguments(DecisionIn)
@blp.response(200, CommentOut)
def decide(data: dict, comment_id: str) -> Any:
    """Decide on a comment. Under approval a reviewer's decision is a proposal (`approval_state: proposed`)."""
    approve, standard = data.pop("approve"), data.pop("standard_justification_id")
    return decisions.decide(_ctx(), Decide(comment_id=comment_id, **data), current_staff(), approve=approve,
                            standard_justification_id=standard)


@blp.route("/comments/<comment_id>/decisions", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, RevisionList)
def list_revisions(comment_id: str) -> Any:
    """Every revision of a comment's decision, oldest first, with its approval."""
    return {"items": decisions.revisions(_ctx(), comment_id)}


@blp.route("/comments/<comment_id>/approval", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key here nor on /return: a step of the proposal, not a creation; a retry gets 409 (not proposed).
@blp.arguments(ApproveIn)
@blp.response(200, CommentOut)
def approve(data: dict, comment_id: str) -> Any:
    """Approve the proposed decision; `comment.decided` goes out now."""
    return decisions.approve(_ctx(), comment_id, current_staff(), data["note"])


@blp.route("/comments/<comment_id>/return", methods=["POST"])
@requires_role("coordinator")
@blp.arguments(ReturnIn)
@blp.response(200, CommentOut)
def return_decision(data: dict, comment_id: str) -> Any:
    """Return the proposed decision to its reviewer with a note."""
    return decisions.return_decision(_ctx(), comment_id, current_staff(), data["note"])


@blp.route("/approvals", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(ApprovalQuery, location="query")
@blp.response(200, ApprovalPage)
def list_approvals(query: dict) -> Any:
    """Decided comments by approval state; proposals first."""
    items, total = decisions.list_by_approval(_ctx(), consultation_id=query["consultation"], state=query["state"],
                                              limit=query["limit"], offset=query["offset"])
    return {"items": items, "total": total, "limit": query["limit"], "offset": query["offset"]}


@blp.route("/bulk/decide", methods=["POST"])
@requires_role("reviewer")
@idempotent  # a new revision of every selected comment each time
@blp.arguments(BulkDecideIn)
@blp.response(200, BulkOut)
def bulk_decide(data: dict) -> Any:
    """One decision on many comments, all or nothing; each keeps its own revision and event."""
    comments = decisions.decide_many(
        _ctx(), data["comment_ids"], data["decision"], data["justification"], data["final_text"], current_staff(),
        approve=data["approve"], standard_justification_id=data["standard_justification_id"])
    return {"done": [c.id for c in comments], "skipped": {}}


@blp.route("/bulk/approve", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key: approves existing proposals; a retry skips them ("approved") and creates nothing.
@blp.arguments(BulkApproveIn)
@blp.response(200, BulkOut)
def bulk_approve(data: dict) -> Any:
    """Approve the proposals in a selection or a group; the others are listed under `skipped` with their state."""
    return decisions.approve_many(_ctx(), data.get("comment_ids", []), current_staff(), group_id=data.get("group_id"))


@blp.route("/bulk/assign", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key: sets a field; a retry skips the comments as "unchanged" and creates nothing.
@blp.arguments(BulkAssignIn)
@blp.response(200, BulkOut)
def bulk_assign(data: dict) -> Any:
    return decisions.assign_many(_ctx(), data["comment_ids"], data["assignee"], current_staff())


@blp.route("/consultations/<consultation_id>/standard-justifications", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(StandardJustificationQuery, location="query")
@blp.response(200, StandardJustificationList)
def list_standard_justifications(query: dict, consultation_id: str) -> Any:
    return {"items": decisions.standard_justifications(_ctx(), consultation_id, include_archived=query["archived"])}


@blp.route("/consultations/<consultation_id>/standard-justifications", methods=["POST"])
@requires_role("coordinator")
@idempotent  # a new standard justification each time
@blp.arguments(StandardJustificationIn)
@blp.response(201, StandardJustificationOut)
def create_standard_justification(data: dict, consultation_id: str) -> Any:
    return decisions.create_standard_justification(_ctx(), consultation_id, data["title"], data["text"],
                                                   current_staff())


@blp.route("/standard-justifications/<int:standard_id>", methods=["PATCH"])
@requires_role("coordinator")
@blp.arguments(StandardJustificationPatch)
@blp.response(200, StandardJustificationOut)
def update_standard_justification(data: dict, standard_id: int) -> Any:
    """Change the title or text, or archive it (`active: false`); decisions that used it keep their text."""
    return decisions.update_standard_justification(_ctx(), standard_id, current_staff(), **data)


@blp.route("/progress", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(ProgressQuery, location="query")
@blp.response(200, ProgressList)
def read_progress(query: dict) -> Any:
    return {"items": decisions.progress(_ctx(), query["consultation"])}


@blp.route("/audit", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditPage)
def read_audit(query: dict) -> Any:
    """The audit log, newest first. `action` ending in a dot matches a prefix (`comment.`)."""
    filters = audit.AuditFilter(actor=query["actor"], action=query["action"], subject=query["subject"],
                                consultation_id=query["consultation"], since=query["since"], until=query["until"])
    items, total = audit.read(_ctx(), filters, limit=query["limit"], offset=query["offset"])
    return {"items": items, "total": total, "limit": query["limit"], "offset": query["offset"]}
