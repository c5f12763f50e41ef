"""Console pages for e-mail submissions staff must transcribe: the list of `needs_review` mails, and one
mail's text and attachments beside the form whose comments replace the placeholder (no JavaScript: a row
is added by posting the form back)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff
from services.common.ui import N_
from services.common.web import Conflict, Invalid
from services.intake import handlers as intake_handlers
from services.intake.mail import staff, transcribe
from services.intake.mail.importer import NEEDS_REVIEW, REJECTED
from services.intake.mail.links import shared_files
from services.intake.paper.views import ROW_FIELDS, PaperForm, paper_error

blp = Blueprint("intake_mail_pages", __name__, url_prefix="/intake/staff/mails")

REFUSED_SHOWN = 100  # the newest refused mails: each one is a person to write back to
REFUSAL_WORDS = {
    "hostile": N_("an attachment the system does not open (a program, or a document with macros)"),
    "unreadable_attachment": N_("an attachment that could not be read safely (damaged, encrypted or of another kind "
                                "than its name says)"),
    "no_consultation": N_("sent to an address no open consultation takes comments at"),
    "refused_by_consultation": N_("refused by the consultation's rules (after the deadline, or a channel it does not "
                                  "take)"),
    "empty": N_("no text, no form and no attachment"),
    "too_large": N_("larger than the mailbox takes"),
    "broken": N_("damaged: its parts cannot be told apart"),
    "no_sender": N_("no sender's address"),
    "other": N_("could not be registered"),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.get("")
def index() -> Any:
    consultation_id = (request.args.get("consultation") or "").strip()[:36] or None
    mails = staff.list_mails(_ctx(), consultation_id=consultation_id, status=NEEDS_REVIEW, limit=500)
    closed = staff.list_mails(_ctx(), consultation_id=consultation_id, status=transcribe.NO_COMMENTS, limit=500)
    refused = staff.list_mails(_ctx(), consultation_id=consultation_id, status=REJECTED, limit=REFUSED_SHOWN,
                               or_unassigned=True)
    titles = {c.id: c.title for c in intake_handlers.list_all_consultations(_ctx())}
    return render_template("intake/staff/mails.html", mails=mails, closed=closed, titles=titles,
                           reasons=_dismissal_labels(), refused=refused,
                           refusal=lambda reason: _(REFUSAL_WORDS[staff.refusal_kind(reason)]))


@blp.route("/<mail_id>", methods=["GET", "POST"])
def transcription(mail_id: str) -> Any:
    ctx = _ctx()
    mail, submission = transcribe.mail_for_transcription(ctx, mail_id)
    if request.method == "GET":
        return _first_page(mail, submission)
    if request.form.get("action") == "dismiss":
        return _dismiss(mail, submission)
    if request.form.get("action") == "reopen":
        return _reopen(mail)
    form = PaperForm.from_request("transcription", request.form)
    if request.form.get("action") == "add_row":
        form.add_row()
        return _page(mail, submission, form, focus=f"f-c-{len(form.rows) - 1}-section")
    drafts = form.comment_drafts()
    sender = form.sender() if "name" in request.form else None  # a form without the field changes no one
    if form.errors:
        return _page(mail, submission, form, status=422)
    try:
        done = transcribe.transcribe_mail(ctx, mail_id, tuple(drafts), actor=current_staff().email, sender=sender,
                                          tell_sender=request.form.get("tell_sender") == "yes")
    except Conflict:
        flash(_("This mail has already been transcribed, or a decision was taken on it; nothing was changed."),
              "error")
        return redirect(url_for(".transcription", mail_id=mail_id), code=303)
    flash(" ".join([_("Submission %(reference)s now has %(count)s transcribed comment(s).", reference=done.reference,
                      count=done.comments)] +
                   ([_("The transcribed comments are sent to %(email)s for the sender to check.",
                       email=submission.email)] if done.sender_told else [])), "success")
    return redirect(url_for("intake_paper.entered", consultation_id=submission.consultation_id,
                            submission_id=submission.id), code=303)


def _first_page(mail: Any, submission: Any, *, status: int = 200, dismissal: dict | None = None) -> Any:
    """The page as it opens: the rows read from the mail and its letters filled in for staff to check."""
    letters = staff.letter_texts(_ctx(), mail)
    start = transcribe.transcription_start(submission, staff.text_to_transcribe(mail, letters),
                                           [letter.text or "" for letter in letters], staff.scanned_form(mail))
    form = PaperForm("transcription", {"name": start.name, "organization": start.organization})
    form.rows = [{**dict.fromkeys(ROW_FIELDS, ""), **asdict(row)} for row in start.rows]
    form.rows += [dict.fromkeys(ROW_FIELDS, "") for _ in range(1 if start.rows else 3)]
    return _page(mail, submission, form, status=status, suggested=len(start.rows), letters=letters,
                 organisation_read="scan" if start.organization_from_scan else start.organization_read,
                 scanned_form=start.scanned_form, dismissal=dismissal)


# The values are services.common.events.DISMISSAL_REASONS
_DISMISSAL_LABELS = {"question": N_("A question or a request for information"),
                     "booking": N_("A request to book a duty hour"),
                     "reply": N_("A reply with no new comments (thanks, a confirmation)"),
                     "other": N_("Another message (an advertisement, a mail sent here by mistake)")}


def _dismissal_labels() -> dict[str, str]:
    return {value: _(label) for value, label in _DISMISSAL_LABELS.items()}


def _dismiss(mail: Any, submission: Any) -> Any:
    """The mail holds no comments on the draft: its placeholder is no comment (see `transcribe.dismiss_mail`)."""
    reason, note = request.form.get("reason", ""), request.form.get("note", "").strip()
    try:
        reference = transcribe.dismiss_mail(_ctx(), mail.id, reason, actor=current_staff().email, note=note)
    except Invalid as refused:
        field = next(iter(refused.details or {"reason": None}))
        message = _("Choose what the e-mail is.") if field == "reason" else \
            _("The note is too long (at most 2,000 characters).")
        return _first_page(mail, submission, status=422,
                           dismissal={"reason": reason, "note": note, "errors": {field: message}})
    except Conflict:
        flash(_("This mail has already been transcribed, or a decision was taken on it; nothing was changed."),
              "error")
        return redirect(url_for(".transcription", mail_id=mail.id), code=303)
    flash(_("Submission %(reference)s holds no comments on the draft; it will not be reviewed as a comment.",
            reference=reference), "success")
    return redirect(url_for(".index"), code=303)


def _reopen(mail: Any) -> Any:
    """A mail closed by mistake waits for its transcription again (see `transcribe.reopen_mail`)."""
    try:
        reference = transcribe.reopen_mail(_ctx(), mail.id, actor=current_staff().email)
    except Conflict:
        flash(_("This mail is not closed as holding no comments; nothing was changed."), "error")
        return redirect(url_for(".transcription", mail_id=mail.id), code=303)
    flash(_("Submission %(reference)s waits for its transcription again.", reference=reference), "success")
    return redirect(url_for(".transcription", mail_id=mail.id), code=303)


def _page(mail: Any, submission: Any, form: PaperForm, *, status: int = 200, focus: str | None = None,
          suggested: int = 0, letters: list[staff.LetterText] | None = None,
          organisation_read: bool | str = False, scanned_form: str = "", dismissal: dict | None = None) -> Any:
    consultation = intake_handlers.get_consultation(_ctx(), mail.consultation_id, include_drafts=True) \
        if mail.consultation_id else None
    errors = {name: paper_error(code) for name, code in form.errors.items()}
    html = render_template("intake/staff/mail_transcription.html", mail=mail, submission=submission, form=form,
                           errors=errors, consultation=consultation, focus=focus, suggested=suggested,
                           letters=staff.letter_texts(_ctx(), mail) if letters is None else letters,
                           organisation_read=organisation_read, scanned_form=scanned_form,
                           shared=shared_files(mail.body_text or ""),
                           related=transcribe.related_submissions(_ctx(), mail, submission),
                           dismissal=dismissal or {}, reason_options=list(_dismissal_labels().items()),
                           open=mail.status == NEEDS_REVIEW and submission is not None)
    return html, status
