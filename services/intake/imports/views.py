"""The console's bulk import page: upload a CSV or XLSX file, see every row's problems, or the result.

A successful import redirects to the page with the import's id (post/redirect/get), so reloading the result
does not import the file a second time; the page lists the consultation's earlier imports too.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.common.ui import N_, local_datetime
from services.common.web import Invalid
from services.intake import handlers as intake_handlers
from services.intake.imports import handlers
from services.intake.imports.plan import COLUMNS, POLISH_HEADERS, REQUIRED_HEADERS

blp = Blueprint("intake_imports_pages", __name__, url_prefix="/intake/staff/consultations")

# Problem codes of services.intake.imports.plan and .handlers, in words.
PROBLEM_WORDS = {
    "required": N_("This cell is required."),
    "too_long": N_("This text is too long."),
    "email": N_("This is not an e-mail address."),
    "yes_no": N_("Write tak or nie."),
    "channel": N_("Unknown channel: write pismo, dyżur, e-mail or formularz (or letter, duty_hours, email, web)."),
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
# Why a whole file is refused (services.intake.imports.plan.TableError codes, and a draft consultation).
FILE_WORDS = {
    "format": N_("Only CSV and XLSX files can be imported."),
    "encoding": N_("The CSV file is not in UTF-8. In Excel choose Save as, then \"CSV UTF-8 (comma delimited)\"."),
    "csv": N_("The CSV file is malformed (for example a quotation mark is not closed)."),
    "xlsx": N_("The XLSX file cannot be read. Open it in Excel or LibreOffice and save it again."),
    "header": N_("The file has no header row. The first row must name the columns."),
    "draft": N_("The consultation is a draft: open it before importing comments."),
}
# What goes in each column (its header: plan.POLISH_HEADERS, or the column's own name).
COLUMN_WORDS = {
    "submission_key": N_("Rows with the same key are one submission; a row without a key is a submission of its own."),
    "name": N_("The sender."),
    "organization": N_("If the comments are sent on its behalf."),
    "email": N_("A receipt is sent to it; without an address, none is sent."),
    "publish_consent": N_("tak or nie (empty: nie)."),
    "section": N_("Like § 5 ust. 2."),
    "current_text": N_("The wording the comment is about."),
    "proposal": N_("The proposed change."),
    "justification": N_("Why."),
    "topic": N_("One of the consultation's topics."),
    "channel": N_("pismo, dyżur, e-mail or formularz (empty: pismo)."),
    "received_on": N_("The date of receipt, like 15.10.2024 (empty: today); it decides whether the comments came in time."),
    "language": N_("pl or en (empty: pl)."),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/<consultation_id>/import", methods=["GET", "POST"])
@requires_role("coordinator")
def import_page(consultation_id: str) -> Any:
    ctx = _ctx()
    consultation = intake_handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    problems, file_problem, status, repeated = [], None, 200, False
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            file_problem, status = _("Choose a CSV or XLSX file."), 422
        else:
            try:
                result = handlers.import_comments(ctx, consultation.id, upload.filename, upload.read(),
                                                  actor=current_staff().email,
                                                  refuse_repeat=request.form.get("import_again") != "yes")
            except handlers.ImportInvalid as exc:
                problems, status = exc.errors, 422
            except handlers.RepeatedImport as exc:
                earlier, repeated, status = exc.earlier, True, 409
                file_problem = _("This file was already imported on %(when)s by %(who)s: %(submissions)s "
                                 "submission(s), %(references)s. Nothing was imported now. Send it again only if it "
                                 "holds other comments, ticking the box below.",
                                 when=local_datetime(earlier.imported_at), who=earlier.imported_by,
                                 submissions=earlier.submissions, references=" – ".join(earlier.references[:2]))
            except Invalid as exc:
                code = ((exc.details or {}).get("file") or [""])[0]
                file_problem, status = _(FILE_WORDS[code]) if code in FILE_WORDS else exc.message, 422
            else:
                if result.survey_left_out is not None:
                    flash(_("The file was read as an online survey's answers (a row per answer, sent on the web). "
                            "Questions left out: %(questions)s.", questions="; ".join(result.survey_left_out)
                            or _("none")), "success")
                return redirect(url_for(".import_page", consultation_id=consultation.id, done=result.import_id,
                                        _anchor="result"), code=303)
    imports = handlers.list_imports(ctx, consultation.id)
    done = next((i for i in imports if i.id == request.args.get("done")), None) if request.method == "GET" else None
    return render_template(
        "intake/staff/import.html", consultation=consultation, done=done, imports=imports, problems=problems,
        file_problem=file_problem, repeated=repeated, problem_words={code: _(text) for code, text in PROBLEM_WORDS.items()},
        columns=[(key, POLISH_HEADERS[key], _(COLUMN_WORDS[key]), key in REQUIRED_HEADERS) for key in COLUMNS],
        column_names=POLISH_HEADERS), status


@blp.get("/<consultation_id>/import/template.csv")
@requires_role("coordinator")
def import_template(consultation_id: str) -> Any:
    """A file to fill in: the Polish header row, then one example row."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # what Polish Excel writes and opens by default
    writer.writerow([POLISH_HEADERS[key] for key in COLUMNS])
    example = {"name": "Jan Kowalski", "section": "§ 5 ust. 2", "proposal": "Konkursy ogłaszać dwa razy w roku.",
               "channel": "pismo"}
    writer.writerow([example.get(key, "") for key in COLUMNS])
    # With a BOM, so that Excel reads the Polish letters as UTF-8.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-uwag-{consultation.id[:8]}.csv"'})
