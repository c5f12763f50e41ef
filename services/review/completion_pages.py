"""Completing and reopening a review from the console (forms on the review dashboard)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request
from flask_babel import gettext

from services.common.auth import current_staff, requires_role
from services.common.ui import N_
from services.common.web import Conflict, Invalid, NotFound
from services.review import handlers

blp = Blueprint("review_completion_pages", __name__, url_prefix="/review/consultations")

COMPLETION_REFUSALS = {
    "not_closed": N_("The consultation is still open for comments; complete the review after it closes."),
    "undecided": N_("Some comments still have no decision."),
    "completed": N_("The review is already completed."),
}


def _back(consultation_id: str) -> Any:
    return redirect(f"/review/?consultation={consultation_id}", code=303)


@blp.post("/<consultation_id>/complete")
@requires_role("coordinator")
def complete(consultation_id: str) -> Any:
    try:
        handlers.complete_review(current_app.extensions["uwagi"], consultation_id, current_staff())
    except NotFound:
        flash(gettext("There is no such consultation."), "error")
        return redirect("/review/", code=303)
    except Conflict as exc:
        reasons = (exc.details or {}).get("reasons") if isinstance(exc.details, dict) else None
        if reasons:
            flash(" ".join(gettext(COMPLETION_REFUSALS[r]) for r in reasons if r in COMPLETION_REFUSALS), "error")
        else:
            flash(gettext("Some decisions still wait for approval."), "error")
        return _back(consultation_id)
    flash(gettext("The review is completed. You can now build and publish the report."), "success")
    return _back(consultation_id)


@blp.post("/<consultation_id>/reopen")
@requires_role("coordinator")
def reopen(consultation_id: str) -> Any:
    try:
        handlers.reopen_review(current_app.extensions["uwagi"], consultation_id, request.form.get("reason", ""),
                               current_staff())
    except NotFound:
        flash(gettext("There is no such consultation."), "error")
        return redirect("/review/", code=303)
    except Invalid:
        flash(gettext("Give the reason for reopening the review (at least a few words); it is kept in the audit log."),
              "error")
        return _back(consultation_id)
    except Conflict:
        flash(gettext("The review is not completed; there is nothing to reopen."), "error")
        return _back(consultation_id)
    flash(gettext("The review is reopened. Decisions can be changed; submitters who were told the outcome get a correction."),
          "success")
    return _back(consultation_id)
