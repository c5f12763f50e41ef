"""The public pages of intake: consultations, the comment form, the thank-you page and the status page.

Thin views: parse the form (`web_ui.CommentForm`), call one handler, render.
Server-rendered HTML that works without JavaScript; Polish first, English with `?lang=en`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.common.auth import public
from services.common.events import utcnow
from services.common.sealing import Sealer
from services.common.ui import switch_language as same_page_in
from services.common.web import Conflict, DomainError, NotFound, Refused
from services.intake import accessibility, consent, domain, handlers, privacy
from services.intake.accessibility_views import status_words
from services.intake.mail import transcribe
from services.intake.web_ui import (
    HONEYPOT,
    MAX_ROWS,
    CommentForm,
    current_language,
    deadline_text,
)

log = logging.getLogger(__name__)

blp = Blueprint("intake_pages", __name__, url_prefix="/intake")

# What a comment's status means, in words (statuses come from `comment.decided`).
def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


STATUS_WORDS = {
    "received": N_("registered"),
    "accepted": N_("accepted"),
    "partially_accepted": N_("partially accepted"),
    "rejected": N_("not accepted"),
    "not_considered": N_("not considered"),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.before_request
def _check_csrf() -> None:
    if request.method == "POST":
        current_app.extensions["csrf"].protect()


@blp.after_request
def _headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint in {"intake_pages.status", "intake_pages.thanks"}:
        # These pages carry the secret status token: keep them out of caches and Referer headers.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.app_context_processor
def _page_globals() -> dict:
    def switch_language(language: str) -> str:
        """The same page in `language` (a GET: a form being filled in is not re-sent)."""
        endpoint = request.endpoint or ""
        if not endpoint.startswith("intake_pages."):
            if request.method == "GET":  # a staff page: the same page, as every other service's pages do
                return same_page_in(language)
            return url_for("intake_console.index" if request.path.startswith("/intake/staff/") else "intake_pages.index",
                           lang=language)
        args = request.args.to_dict() if request.method == "GET" else {}
        return url_for(endpoint, **{**args, **(request.view_args or {}), "lang": language})

    return {"switch_language": switch_language, "status_words": _status_words, "error_message": error_message,
            "lang": current_language()}


def error_message(name: str, code: str | None) -> str | None:
    """A form error code (see `web_ui.CommentForm`) in words, for the field it belongs to."""
    if not code:
        return None
    specific = {
        ("name", "required"): _("Enter your first name and surname."),
        ("email", "email"): _("Enter an e-mail address in the right format, like jan.kowalski@example.pl."),
        ("section", "required"): _("Say which part of the document the comment concerns."),
        ("proposal", "required"): _("Enter the change you propose."),
        ("proposal", "no_comment"): _("Enter at least one comment."),
        ("topic", "invalid"): _("Choose a topic from the list."),
    }
    generic = {
        "required": _("This field is required."),
        "too_long": _("This text is too long."),
        "email": _("Enter an e-mail address in the right format, like jan.kowalski@example.pl."),
    }
    return specific.get((name, code)) or generic.get(code) or _("Check this field.")


def _status_words(status: str) -> str:
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


# --- pages -------------------------------------------------------------------------


@blp.get("/")
@public
def index() -> Any:
    return render_template("intake/index.html", consultations=handlers.list_open_consultations(_ctx()),
                           past=handlers.list_past_consultations(_ctx()))


@blp.route("/c/<consultation_id>", methods=["GET", "POST"])
@public
def consultation(consultation_id: str) -> Any:
    found = handlers.get_consultation(_ctx(), consultation_id)
    if request.method == "GET":
        unit = domain.find_unit(found.document_sections or [], request.args.get("unit", ""))
        if unit is None:
            return _consultation_page(found, CommentForm())
        # "Zgłoś uwagę do tego zapisu" on the draft page: the first comment starts at that unit.
        form = CommentForm()
        form.rows[0].update(section=unit.get("label") or "", current_text=unit.get("text") or "")
        return _consultation_page(found, form, focus_field="c-0-proposal")
    form = CommentForm.from_request(request.form)
    action = request.form.get("action", "send")
    if action == "add_row":
        form.add_row()
        return _consultation_page(found, form, focus_row=len(form.rows))
    if action == "remove_row":
        form.remove_row()
        return _consultation_page(found, form, focus_row=len(form.rows))
    if form.honeypot_filled:
        log.info("honeypot filled on the comment form of %s; nothing stored", found.id)
        return _consultation_page(found, form, problem=_("The form could not be sent. Please check it and send it again."),
                                  status=400)
    command = form.validate(list(found.topics or []))
    if command is None:
        return _consultation_page(found, form, status=422)
    try:
        receipt = handlers.submit_comments(_ctx(), replace(command, consultation_id=found.id))
    except Refused as exc:
        return _consultation_page(found, form, problem=_refusal_words(exc, found), status=403)
    except Conflict:
        return _consultation_page(found, form, problem=_("This consultation has not opened yet."), status=409)
    # The cookie is signed, not encrypted: the status token and the address travel sealed.
    session["receipt"] = {"consultation_id": found.id, "reference": receipt.reference, "late": receipt.late,
                          "comments": len(receipt.comment_ids),
                          "sealed": _receipt_sealer().seal({"token": receipt.status_token,
                                                            "email": command.submitter.email})}
    return redirect(url_for(".thanks", consultation_id=found.id), code=303)


@blp.get("/c/<consultation_id>/draft")
@public
def draft(consultation_id: str) -> Any:
    """The draft put out for consultation, unit by unit, each with its anchor and a link to comment on it."""
    found = handlers.get_consultation(_ctx(), consultation_id)
    units = domain.draft_outline(found.document_sections or [])
    if not units:
        return error_page(404, _("The draft of this consultation has not been published yet."))
    return render_template("intake/draft.html", consultation=found, units=units, form_state=_form_state(found),
                           deadline=deadline_text(found.closes_at))


@blp.get("/c/<consultation_id>/thanks")
@public
def thanks(consultation_id: str) -> Any:
    receipt = session.get("receipt")
    secrets = _receipt_sealer().open(receipt.get("sealed")) if isinstance(receipt, dict) else None
    if not secrets or receipt.get("consultation_id") != consultation_id:
        return redirect(url_for(".consultation", consultation_id=consultation_id))
    receipt = {**receipt, **secrets}
    found = handlers.get_consultation(_ctx(), consultation_id)
    status_link = url_for(".status", reference=receipt["reference"], token=receipt["token"])
    return render_template("intake/thanks.html", consultation=found, receipt=receipt, status_link=status_link,
                           deadline=deadline_text(found.closes_at))


RESULT_FILES = {
    "report_docx": N_("Consultation report (DOCX)"),
    "report_xlsx": N_("Table of comments (XLSX)"),
    "report_csv": N_("Table of comments (CSV)"),
    "version_clean": N_("The document after the consultation (DOCX)"),
    "version_tracked": N_("The document with the changes marked (DOCX)"),
}


@blp.get("/c/<consultation_id>/results")
@public
def results(consultation_id: str) -> Any:
    found = handlers.get_consultation(_ctx(), consultation_id)
    published = handlers.latest_results(_ctx(), consultation_id)
    if published is None:  # nothing to show yet (404 for robots), said on the consultation's own page for people
        return render_template("intake/results.html", consultation=found, published=None, files=[], file_names={},
                               handover=None), 404
    order = list(RESULT_FILES)
    files = sorted(published.files, key=lambda f: order.index(f["kind"]) if f["kind"] in order else len(order))
    return render_template("intake/results.html", consultation=found, published=published, files=files,
                           file_names={kind: _(label) for kind, label in RESULT_FILES.items()},
                           handover=handlers.council_handover(_ctx(), consultation_id))


@blp.get("/status")
@public
def status() -> Any:
    reference = request.args.get("reference", "").strip()[:40]
    token = request.args.get("token", "").strip()[:200]
    if not reference or not token:
        # Sent with a value missing: each missing one is named (opened without any: just the form)
        sent = "reference" in request.args or "token" in request.args
        errors = {name: message for name, value, message in (
            ("reference", reference, _("Type the reference number from the confirmation e-mail.")),
            ("token", token, _("Type the access code from the link in the confirmation e-mail."))) if sent and not value}
        return render_template("intake/status_lookup.html", reference=reference, not_found=False, errors=errors,
                               this_year=_this_year())
    try:
        submission = handlers.submission_status(_ctx(), reference, token)
    except NotFound:
        return render_template("intake/status_lookup.html", reference=reference, not_found=True,
                               this_year=_this_year()), 404
    try:
        found = handlers.get_consultation(_ctx(), submission.consultation_id)
    except NotFound:
        found = None
    results = handlers.latest_results(_ctx(), submission.consultation_id)
    return render_template("intake/status.html", submission=submission, consultation=found, results=results,
                           awaiting_transcription=transcribe.awaiting_transcription(_ctx(), submission.id),
                           handover=handlers.council_handover(_ctx(), submission.consultation_id) if results else None,
                           token=token, consent_changed=request.args.get("consent") == "changed")


def _this_year() -> int:
    return utcnow().astimezone(_ctx().settings.timezone).year  # references are numbered per year


@blp.get("/accessibility")
@public
def accessibility_statement() -> Any:
    """The accessibility statement (deklaracja dostępności), linked from every public page's footer."""
    saved = accessibility.current(_ctx())
    return render_template("intake/accessibility.html", statement=saved[0] if saved else None,
                           status=status_words(saved[0].status) if saved else None,
                           site_url=f"{_ctx().settings.public_url}/intake/")


@blp.get("/privacy")
@public
def privacy_notice() -> Any:
    """The information on personal data (GDPR art. 13), linked from the forms and every public page's footer."""
    saved = privacy.current(_ctx())
    return render_template("intake/privacy.html", notice=saved[0] if saved else None)


@blp.post("/status/consent")
@public
def change_consent() -> Any:
    """The submitter withdraws (or gives) their consent to publish their name, from their status page."""
    reference = request.form.get("reference", "").strip()[:40]
    token = request.form.get("token", "").strip()[:200]
    wanted = request.form.get("publish_consent")
    if wanted not in ("yes", "no") or not reference or not token:
        return error_page(400, _("The form could not be sent. Please open the status page again from your receipt."))
    try:
        consent.change_by_submitter(_ctx(), reference, token, wanted == "yes")
    except NotFound:
        return render_template("intake/status_lookup.html", reference=reference, not_found=True,
                               this_year=_this_year()), 404
    return redirect(url_for(".status", reference=reference, token=token, consent="changed") + "#consent", code=303)


# --- helpers -----------------------------------------------------------------------


def _receipt_sealer() -> Sealer:
    return Sealer(current_app.config["SECRET_KEY"], "intake.receipt")


def _form_state(found: Any) -> str:
    if "web" not in (found.channels or []):
        return "no_web"
    timing = domain.classify_timing(utcnow(), found.opens_at, found.closes_at)
    if timing is domain.Timing.NOT_YET_OPEN:
        return "not_open"
    if timing is domain.Timing.LATE:
        return "closed" if found.late_policy == domain.LatePolicy.REFUSE.value else "late"
    return "open"


def _consultation_page(found: Any, form: CommentForm, *, problem: str | None = None, status: int = 200,
                       focus_row: int | None = None, focus_field: str | None = None) -> Any:
    now = utcnow()
    duty_days = [{**day, "booking_closed": datetime.fromisoformat(day["booking_deadline"]) < now}
                 for day in (found.duty_days or [])]
    sections = [s.get("label") or s.get("id") for s in (found.document_sections or []) if s.get("label") or s.get("id")]
    html = render_template(
        "intake/consultation.html", consultation=found, form=form, problem=problem, form_state=_form_state(found),
        deadline=deadline_text(found.closes_at), sections=sections, topics=list(found.topics or []),
        duty_days=duty_days, honeypot=HONEYPOT, max_rows=MAX_ROWS,
        focus_row=focus_row, focus_field=focus_field, results=handlers.latest_results(_ctx(), found.id),
        has_draft=any(s.get("text") for s in (found.document_sections or [])),
        letter_address=domain.letter_address(found.organiser, found.postal_address),
    )
    return html, status


def _refusal_words(exc: Refused, found: Any) -> str:
    if isinstance(exc.details, dict) and "closes_at" in exc.details:
        deadline = deadline_text(found.closes_at)
        return _("The deadline for comments was %(date)s. Your comments have not been accepted.", date=deadline["date"])
    if "web" not in (found.channels or []):
        return _("This consultation does not accept comments through the web form. Please use one of the other ways listed on this page.")
    return exc.message


# --- error pages ---------------------------------------------------------------------

_ERROR_TITLES = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Not allowed"), N_("This action is not allowed.")),
    404: (N_("Page not found"), N_("There is no page at this address. Check the address or go back to the list of consultations.")),
    405: (N_("Method not allowed"), N_("This page cannot be used this way.")),
    409: (N_("Not possible now"), N_("This action is not possible at the moment.")),
    413: (N_("The form is too large"), N_("The text you sent is too long. Please shorten it or send it by e-mail.")),
    429: (N_("Too many attempts"), N_("Too many forms were sent from your connection in a short time. Please wait a minute and try again.")),
    500: (N_("Something went wrong"), N_("An error occurred on our side. It has been logged. Please try again later.")),
}


def error_page(status: int, detail: str | None = None) -> Any:
    title, description = _ERROR_TITLES.get(status, _ERROR_TITLES[500 if status >= 500 else 400])
    return render_template("intake/error.html", status=status, title=_(title), description=detail or _(description)), status


@blp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> Any:
    message = _("Your form has expired or did not come from this page. Nothing was sent. "
                "Check your text below and send the form again.")
    if request.endpoint == "intake_pages.consultation" and request.view_args:
        try:
            found = handlers.get_consultation(_ctx(), request.view_args["consultation_id"])
        except NotFound:
            return error_page(404)
        # The text is kept (escaped) so a resident whose session expired does not lose it.
        return _consultation_page(found, CommentForm.from_request(request.form), problem=message, status=400)
    return error_page(400, message)


@blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    return error_page(exc.status)


@blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    return error_page(exc.code or 500)


@blp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Any:
    log.exception("unhandled error on a public page")
    return error_page(500)
