"""Review's JSON API: thin views over the handlers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint

from services.common.auth import current_staff, requires_role
from services.review import handlers
from services.review.schemas import CommentOut, CommentPage, CommentQuery, CompletionOut, ReopenIn, ReopenOut

blp = Blueprint("review", __name__, description="Triage and decisions on comments (staff only)")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/comments", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(CommentQuery, location="query")
@blp.response(200, CommentPage)
def list_comments(query: dict) -> Any:
    items, total = handlers.list_comments(
        _ctx(), consultation_id=query["consultation"], status=query["status"], decision=query["decision"],
        limit=query["limit"], offset=query["offset"])
    return {"items": items, "total": total, "limit": query["limit"], "offset": query["offset"]}


@blp.route("/comments/<comment_id>", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, CommentOut)
def read_comment(comment_id: str) -> Any:
    return handlers.get_comment(_ctx(), comment_id)


@blp.route("/consultations/<consultation_id>/complete", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key here nor on /reopen: steps of the review's state, not creations; a retry gets 409.
@blp.response(200, CompletionOut)
def complete(consultation_id: str) -> Any:
    return handlers.complete_review(_ctx(), consultation_id, current_staff())


@blp.route("/consultations/<consultation_id>/reopen", methods=["POST"])
@requires_role("coordinator")
@blp.arguments(ReopenIn)
@blp.response(200, ReopenOut)
def reopen(data: dict, consultation_id: str) -> Any:
    return handlers.reopen_review(_ctx(), consultation_id, data["reason"], current_staff())
