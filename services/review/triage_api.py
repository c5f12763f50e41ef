"""The triage queue's JSON API under /review/api/v1: thin views over triage_handlers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from services.common.auth import current_staff, requires_role
from services.common.idempotency import idempotent
from services.common.web import ApiBlueprint as Blueprint
from services.review import triage_handlers
from services.review.triage import FILTER_NAMES, QueueFilters
from services.review.triage_schemas import (
    ChapterAssignIn,
    ChapterAssignOut,
    NoteIn,
    NoteOut,
    QueueArgs,
    QueueFilterArgs,
    QueueItemOut,
    QueuePageOut,
    ReanchorIn,
)

blp = Blueprint("triage", __name__, description="The triage queue: filters, search, assignment, anchoring, notes")


class UnitOut(Schema):
    id = fields.String(attribute="unit_id")
    label = fields.String()
    kind = fields.String()
    parent = fields.String(attribute="parent_id", allow_none=True)
    chapter = fields.String(attribute="chapter_id", allow_none=True)
    text = fields.String()


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/queue", methods=["GET"])
@requires_role("reviewer")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueuePageOut)
def queue(args: dict) -> Any:
    """The queue, the viewer's own comments first. Filters: q, status, topic, channel, unit, assignee, late, group, mine."""
    filters = QueueFilters.from_loaded(args)
    page = triage_handlers.queue_page(_ctx(), current_staff(), filters, page=args["page"], per_page=args["per_page"])
    return {"items": page.items, "total": page.total, "capped": page.capped, "mine_total": page.mine_total, "page": page.page,
            "per_page": page.per_page, "pages": page.pages, "filters": filters.to_dict()}


@blp.route("/queue/filters", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, QueueFilterArgs)
def remembered_filters() -> Any:
    """The caller's remembered queue filters (what the queue page shows on a bare visit)."""
    return _filters(None)


@blp.route("/queue/filters", methods=["PUT"])
@requires_role("reviewer")
@blp.arguments(QueueFilterArgs)
@blp.response(200, QueueFilterArgs)
def remember_filters(data: dict) -> Any:
    """Remember these filters for the caller; omitted ones are "any"."""
    return _filters(QueueFilters.from_loaded(data))


@blp.route("/queue/filters", methods=["DELETE"])
@requires_role("reviewer")
@blp.response(204)
def forget_filters() -> None:
    """Forget the caller's filters."""
    triage_handlers.queue_filters(_ctx(), current_staff(), None, loader=QueueFilterArgs().load, reset=True)


def _filters(new: QueueFilters | None) -> dict:
    filters = triage_handlers.queue_filters(_ctx(), current_staff(), new, loader=QueueFilterArgs().load)
    return {name: getattr(filters, name) for name in FILTER_NAMES}


@blp.route("/consultations/<consultation_id>/units", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, UnitOut(many=True))
def units(consultation_id: str) -> Any:
    """The units of the consultation's draft, to anchor comments to (empty until documents announces it)."""
    return triage_handlers.queue_choices(_ctx(), consultation_id).units


@blp.route("/consultations/<consultation_id>/chapters/<chapter_id>/assignee", methods=["PUT"])
@requires_role("coordinator")
@blp.arguments(ChapterAssignIn)
@blp.response(200, ChapterAssignOut)
def assign_chapter(data: dict, consultation_id: str, chapter_id: str) -> Any:
    """Make a reviewer responsible for a chapter: its current comments and those still to come."""
    changed = triage_handlers.assign_chapter(_ctx(), consultation_id, chapter_id, data["assignee"], current_staff())
    return {"consultation_id": consultation_id, "chapter_id": chapter_id, "assignee": data["assignee"],
            "changed": changed}


@blp.route("/comments/<comment_id>/anchor", methods=["PUT"])
@requires_role("reviewer")
@blp.arguments(ReanchorIn)
@blp.response(200, QueueItemOut)
def reanchor(data: dict, comment_id: str) -> Any:
    """Anchor the comment to another unit of the draft."""
    return triage_handlers.reanchor(_ctx(), comment_id, data["unit"], current_staff())


@blp.route("/comments/<comment_id>/notes", methods=["GET"])
@requires_role("reviewer")
@blp.response(200, NoteOut(many=True))
def notes(comment_id: str) -> Any:
    """Internal notes on the comment (staff only, never published)."""
    return triage_handlers.list_notes(_ctx(), comment_id)


@blp.route("/comments/<comment_id>/notes", methods=["POST"])
@requires_role("reviewer")
@idempotent  # a new note each time
@blp.arguments(NoteIn)
@blp.response(201, NoteOut)
def add_note(data: dict, comment_id: str) -> Any:
    return triage_handlers.add_note(_ctx(), comment_id, data["body"], current_staff())
