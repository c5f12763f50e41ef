"""The console's bulk import page: upload a CSV or XLSX file, see every row's problems, or the result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.common.ui import N_
from services.common.web import Invalid
from services.intake import handlers as intake_handlers
from services.intake.imports import handlers
from services.intake.imports.plan import COLUMNS

blp = Blueprint("intake_imports_pages", __name__, url_prefix="/intake/staff/consultations")

# Problem codes of services.intake.imports.plan and .handlers, in words.
PROBLEM_WORDS = {
    "required": N_("This cell is required."),
    "too_long": N_("This text is too long."),
    "email": N_("This is not an e-mail address."),
    "yes_no": N_("Write tak or nie."),
    "channel": N_("Unknown channel: use letter, duty_hours, email or web."),
    "channel_not_accepted": N_("This consultation does not accept comments by this channel."),
    "date": N_("Write the date as 2024-10-15 or 15.10.2024."),
    "future": N_("The date lies in the future."),
    "language": N_("Write pl or en."),
    "topic": N_("Not one of the consultation's topics."),
    "differs_in_submission": N_("Differs from the first row of the same submission."),
    "too_many_comments": N_("Too many comments in one submission."),
    "unknown_column": N_("Unknown column."),
    "duplicate_column": N_("The column appears twice."),
    "missing_column": N_("A required column is missing."),
    "too_many_rows": N_("Too many rows in one file."),
    "too_many_errors": N_("Stopped after too many problems."),
    "empty": N_("The file has no rows below its header."),
    "late": N_("Received after the deadline; this consultation refuses late comments."),
    "not_yet_open": N_("Received before the consultation opened."),
}


@blp.route("/<consultation_id>/import", methods=["GET", "POST"])
@requires_role("coordinator")
def import_page(consultation_id: str) -> Any:
    ctx = current_app.extensions["uwagi"]
    consultation = intake_handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    result, problems, file_problem, status = None, [], None, 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            file_problem, status = _("Choose a CSV or XLSX file."), 422
        else:
            try:
                result = handlers.import_comments(ctx, consultation.id, upload.filename, upload.read(),
                                                  actor=current_staff().email)
            except handlers.ImportInvalid as exc:
                problems, status = exc.errors, 422
            except Invalid as exc:
                file_problem, status = _("The file could not be read: %(reason)s", reason=exc.message), 422
    words = {code: _(text) for code, text in PROBLEM_WORDS.items()}
    return render_template("intake/staff/import.html", consultation=consultation, result=result, problems=problems,
                           file_problem=file_problem, problem_words=words, columns=list(COLUMNS)), status
