"""Notify's JSON API: the delivery log, for staff."""

from __future__ import annotations

from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint

from services.common.auth import current_staff, requires_role
from services.notify import handlers
from services.notify.schemas import NotificationOut, NotificationQuery

blp = Blueprint("notify", __name__, description="The log of e-mails sent to submitters and bookers")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/notifications", methods=["GET"])
# Coordinators only: the log shows citizens' e-mail addresses.
@requires_role("coordinator")
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, NotificationOut(many=True))
def list_notifications(query: dict) -> Any:
    """Newest first; filter by status and template, page with limit and offset."""
    return handlers.list_notifications(_ctx(), **query)


@blp.route("/notifications/<notification_id>/resend", methods=["POST"])
@requires_role("coordinator")
# No Idempotency-Key: a new attempt of an existing message, not a creation; a retry gets 409 (no longer failed).
@blp.response(200, NotificationOut)
def resend(notification_id: str) -> Any:
    """Send a failed message again, as a new attempt of the same notification (409 unless it failed)."""
    return handlers.resend_notification(_ctx(), notification_id, actor=current_staff().email)
