"""The delivery log page of the staff console: `/notify/`, with filters, search and re-sending a failed message."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext

from services.common.auth import current_staff, requires_role
from services.common.ui import N_, safe_next
from services.common.web import Conflict, NotFound
from services.notify import handlers
from services.notify.domain import STATUSES, TEMPLATES

blp = Blueprint("notify_pages", __name__, url_prefix="/notify")

PER_PAGE = 50
STATUS_LABELS = {"pending": N_("waiting to be sent"), "sending": N_("being sent"), "sent": N_("sent"),
                 "failed": N_("failed"), "bounced": N_("returned undelivered")}
TEMPLATE_LABELS = {
    "submission_receipt": N_("Receipt of a submission"),
    "comment_decision": N_("Decision on a comment"),
    "outcome_summary": N_("Outcome at publication"),
    "outcome_correction": N_("Correction of an outcome"),
    "comments_registered": N_("Comments as registered by staff"),
    "booking_confirmed": N_("Booking confirmed"),
    "booking_cancelled": N_("Booking cancelled"),
    "booking_reminder": N_("Booking reminder"),
    "staff_password_link": N_("Staff password link"),
    "staff_digest": N_("Morning summary for staff"),
    "consent_changed": N_("Consent to publish the name changed"),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _filters() -> dict[str, Any]:
    """Unknown values are ignored rather than refused: a stale bookmark still opens the log."""
    status = request.args.get("status") or None
    template = request.args.get("template") or None
    search = (request.args.get("q") or "").strip()[:200] or None
    try:
        page = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    return {"status": status if status in STATUSES else None, "template": template if template in TEMPLATES else None,
            "search": search, "page": page}


@blp.get("/")
# Coordinators only: the log shows citizens' e-mail addresses.
@requires_role("coordinator")
def delivery_log() -> Any:
    chosen = _filters()
    query = {k: chosen[k] for k in ("status", "template", "search")}
    rows = handlers.list_notifications(_ctx(), **query, limit=PER_PAGE, offset=(chosen["page"] - 1) * PER_PAGE)
    total = handlers.count_notifications(_ctx(), **query)

    def page_url(number: int) -> str:
        args = {"status": chosen["status"] or "", "template": chosen["template"] or "", "q": chosen["search"] or "",
                "page": number}
        return "/notify/?" + urlencode({k: v for k, v in args.items() if v})

    return render_template(
        "notify/delivery_log.html", rows=rows, total=total, chosen=chosen, per_page=PER_PAGE, page_url=page_url,
        statuses=[(s, gettext(STATUS_LABELS[s])) for s in STATUSES],
        templates=[(t, gettext(TEMPLATE_LABELS.get(t, t))) for t in TEMPLATES],
        status_label=lambda s: gettext(STATUS_LABELS.get(s, s)),
        template_label=lambda t: gettext(TEMPLATE_LABELS[t]) if t in TEMPLATE_LABELS else t,
        back=request.full_path.rstrip("?"))


@blp.post("/notifications/<notification_id>/resend")
@requires_role("coordinator")
def resend(notification_id: str) -> Any:
    back = safe_next(request.form.get("next"), default="/notify/")
    try:
        notification = handlers.resend_notification(_ctx(), notification_id, actor=current_staff().email)
    except NotFound:
        flash(gettext("There is no such message."), "error")
    except Conflict:
        flash(gettext("Only a failed or returned message can be sent again; this one is neither (any more)."), "error")
    else:
        flash(gettext("The message to %(recipient)s will be sent again.", recipient=notification.recipient), "success")
    return redirect(back, code=303)
