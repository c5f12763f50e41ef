"""Console pages where staff enter a letter or the notes of a duty-hour conversation, as one submission.

Thin: parse the form (`PaperForm`), keep an uploaded scan (`handlers.store_scan`), show every problem at once
(the form's and `handlers.entry_problems`), call one handler, and show what was registered on its own page
(the reference to write on the paper, the receipt, the provenance). "Add a row" posts the form back (no
JavaScript); a scan already checked and stored travels on as its sha256, so it is not sent twice. Any staff
member may enter what came in.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from services.common.auth import current_staff
from services.common.ui import N_
from services.common.web import Conflict, DomainError, Invalid, Refused, file_response
from services.intake import consent, contact, domain
from services.intake import handlers as intake_handlers
from services.intake.console import CHANNEL_WORDS
from services.intake.mail.transcribe import Sender
from services.intake.paper import corrections, handlers, register
from services.intake.paper.domain import PAPER_CHANNELS

blp = Blueprint("intake_paper", __name__, url_prefix="/intake/staff/consultations")
JUST_REGISTERED = "intake.just_registered"  # the submission whose page follows its registration

MAX_ROWS = 100
ROW_FIELDS = ("section", "current_text", "proposal", "justification", "topic")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Where a handler's problem is shown on the form: at least one comment is asked for in the first row.
HANDLER_FIELDS = {"comments": "c-0-proposal"}
_LIMITS = {"name": 200, "organization": 300, "email": 254, "postal_address": 1000, "section": 500,
           "current_text": 10_000, "proposal": 10_000, "justification": 10_000, "topic": 200}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def paper_error(code: str) -> str:
    """A stable code from the form or the handler, in words."""
    return {
        "required": _("This field is required."),
        "too_long": _("This text is too long."),
        "email": _("Enter an e-mail address in the right format, like jan.kowalski@example.pl."),
        "date": _("Enter a date as year-month-day, like 2024-10-21."),
        "in_future": _("The date of receipt cannot be in the future."),
        "address_or_email": _("Enter the sender's postal address, or their e-mail address if they gave one."),
        "unknown": _("Choose from the list."),
        "cancelled": _("This booking was cancelled."),
        "empty": _("The scan file is empty."),
        "too_large": _("The scan is too large. Scan at a lower resolution or split it into parts."),
        "unknown_type": _("The scan must be a PDF or an image (PNG, JPEG or TIFF). The file's content is neither."),
        "active_content": _("The PDF contains scripts or embedded files and was refused. Scan the letter again "
                            "or print it to PDF."),
        "unknown_scan": _("The scan kept from the previous step is missing. Choose the file again."),
        "no_scan": _("Choose the scan to read first."),
        "comments": _("Enter at least one comment: the proposed change is required."),
        "proposal": _("The proposed change is required (or remove the other texts of this row)."),
    }.get(code, _("Check this field."))


@dataclass
class PaperForm:
    channel: str
    values: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field name -> code

    @classmethod
    def empty(cls, channel: str, booking_id: str = "") -> "PaperForm":
        return cls(channel, {"entry_id": str(uuid.uuid4()), "booking_id": booking_id},
                   [dict.fromkeys(ROW_FIELDS, "") for _ in range(3)])

    @classmethod
    def from_request(cls, channel: str, form: MultiDict) -> "PaperForm":
        values = {name: (form.get(name) or "").strip() for name in (
            "entry_id", "received_on", "name", "organization", "email", "postal_address", "booking_id",
            "kept_scan", "kept_scan_name")}
        values["publish_consent"] = "yes" if form.get("publish_consent") == "yes" else ""
        try:
            count = min(max(int(form.get("rows", "1")), 1), MAX_ROWS)
        except ValueError:
            count = 1
        rows = [{name: (form.get(f"c-{i}-{name}") or "").strip() for name in ROW_FIELDS} for i in range(count)]
        return cls(channel, values, rows)

    def add_row(self) -> None:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(dict.fromkeys(ROW_FIELDS, ""))

    def command(self, consultation_id: str, scan: dict | None) -> handlers.EnterPaperSubmission:
        """The handler's command; what the form itself finds wrong goes to `errors`."""
        v = self.values
        for name in ("name", "organization", "email", "postal_address"):
            if len(v[name]) > _LIMITS[name]:
                self.errors[name] = "too_long"
        if not v["name"]:
            self.errors["name"] = "required"
        if v["email"] and not _EMAIL.match(v["email"]):
            self.errors["email"] = "email"
        received_on = None
        if self.channel == "letter":
            try:
                received_on = date.fromisoformat(v["received_on"]) if v["received_on"] else None
            except ValueError:
                self.errors["received_on"] = "date"
        drafts = self.comment_drafts()
        try:
            entry_id = str(uuid.UUID(v["entry_id"]))
        except ValueError:
            entry_id = None
        return handlers.EnterPaperSubmission(
            consultation_id=consultation_id, channel=self.channel, received_on=received_on,
            submitter=domain.Submitter(name=v["name"], email=v["email"] or None,
                                       publish_consent=v["publish_consent"] == "yes",
                                       organization=v["organization"] or None),
            comments=tuple(drafts), postal_address=v["postal_address"], booking_id=v["booking_id"] or None,
            scan=scan, entry_id=entry_id)

    def add_problems(self, problems: dict[str, str]) -> None:
        """The handler's problems by field, after the form's own (which say more about the same field)."""
        for name, code in problems.items():
            self.errors.setdefault(HANDLER_FIELDS.get(name, name), code)

    def prefill_from_booking(self, bookings: list[dict]) -> None:
        """Notes opened from the schedule start with the person who booked, as the booking names them."""
        row = next((r for r in bookings if r["booking"].id == self.values["booking_id"]), None)
        if row is not None:
            self.values["name"], self.values["email"] = row["booking"].name, row["booking"].email or ""

    def fill_from(self, reading: handlers.ScanReading) -> int:
        """A scanned form's rows, or the rows a scan's text names a provision for, and the organisation the form
        or the letter's heading names, where the clerk has typed nothing yet (nothing typed is overwritten); how
        many rows were filled."""
        from services.intake.mail.suggest import suggested_organisation, suggested_rows

        if not self.values["organization"]:
            found = reading.organization or suggested_organisation(reading.text)
            self.values["organization"] = found[:_LIMITS["organization"]]
        if any(any(row.values()) for row in self.rows):
            return 0
        rows = list(reading.rows) or [(r.section, r.current_text, r.proposal, r.justification)
                                      for r in suggested_rows(reading.text)]
        if rows:
            self.rows = [dict(zip(ROW_FIELDS, (*row, ""))) for row in rows[:MAX_ROWS]]
        return len(rows[:MAX_ROWS])

    def sender(self) -> Sender:
        """The sender's name and organisation as staff left them on a transcription or a correction (the form's own
        checks, as for a letter)."""
        name, organization = self.values.get("name", ""), self.values.get("organization", "")
        if not name:
            self.errors["name"] = "required"
        elif len(name) > _LIMITS["name"]:
            self.errors["name"] = "too_long"
        if len(organization) > _LIMITS["organization"]:
            self.errors["organization"] = "too_long"
        return Sender(name, organization or None)

    def row_ids(self, form: MultiDict, known: set[str]) -> list[str]:
        """The comment each row corrects (its hidden `c-<i>-id`), "" for a row that adds one: an id of no comment
        of the submission, or one a row before already names (a forged or doubled form), names none."""
        ids, named = [], set()
        for index in range(len(self.rows)):
            comment_id = (form.get(f"c-{index}-id") or "").strip()
            ids.append(comment_id if comment_id in known and comment_id not in named else "")
            named.add(comment_id)
        return ids

    def comment_drafts(self) -> list[domain.CommentDraft]:
        """The filled rows as comments; a row's problems go to `errors`."""
        return [draft for _index, draft in self.indexed_drafts()]

    def indexed_drafts(self) -> list[tuple[int, domain.CommentDraft]]:
        """`comment_drafts` with the index of the row each comes from."""
        drafts = []
        for index, row in enumerate(self.rows):
            if not any(row.values()):
                continue
            for name in ROW_FIELDS:
                if len(row[name]) > _LIMITS[name]:
                    self.errors[f"c-{index}-{name}"] = "too_long"
            if not row["proposal"]:
                self.errors[f"c-{index}-proposal"] = "proposal"
                continue
            drafts.append((index, domain.CommentDraft(section=row["section"], current_text=row["current_text"],
                                                      proposal=row["proposal"], justification=row["justification"],
                                                      topic=row["topic"] or None)))
        if not drafts and not any(key.startswith("c-") for key in self.errors):
            self.errors["c-0-proposal"] = "comments"
        return drafts


def _uploaded(files: MultiDict) -> FileStorage | None:
    upload = files.get("scan")
    return upload if upload is not None and upload.filename else None


@blp.route("/<consultation_id>/letters/new", methods=["GET", "POST"], endpoint="letter")
@blp.route("/<consultation_id>/duty-notes/new", methods=["GET", "POST"], endpoint="duty_notes")
def enter(consultation_id: str) -> Any:
    channel = "letter" if request.endpoint == "intake_paper.letter" else "duty_hours"
    ctx = _ctx()
    consultation = intake_handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    if request.method == "GET":
        form = PaperForm.empty(channel, (request.args.get("booking") or "").strip()[:36])
        if form.values["booking_id"]:
            form.prefill_from_booking(handlers.bookings_for_notes(ctx, consultation.id))
        return _page(consultation, form)
    form = PaperForm.from_request(channel, request.form)
    scan = _scan(ctx, form)
    if request.form.get("action") == "add_row":
        form.add_row()
        return _page(consultation, form, scan=scan, focus=f"f-c-{len(form.rows) - 1}-section")
    if request.form.get("action") == "read_scan":
        if scan is None:
            form.errors.setdefault("scan", "no_scan")
            return _page(consultation, form, status=422)
        reading = handlers.read_scan(ctx, scan)
        filled = form.fill_from(reading)
        return _page(consultation, form, scan=scan, reading=reading, filled=filled,
                     focus="f-c-0-section" if filled else "scan-reading")
    command = form.command(consultation.id, scan)
    form.add_problems(handlers.entry_problems(ctx, command))  # every problem at once, not one post at a time
    if form.errors:
        return _page(consultation, form, scan=scan, status=422)
    try:
        entered = handlers.enter_paper_submission(ctx, command, actor=current_staff().email)
    except handlers.PaperInvalid as exc:
        form.add_problems(exc.problems)
        return _page(consultation, form, scan=scan, status=422)
    except (Refused, Conflict) as exc:
        return _page(consultation, form, scan=scan, status=exc.status, problem=_refusal(exc, consultation))
    if entered.repeated:  # a second post of the same form (a reload, a double click)
        flash(_("This form was already saved as %(reference)s; nothing new was recorded.",
                reference=entered.reference), "warning")
    session[JUST_REGISTERED] = entered.submission_id  # its page opens with the reference to write on the paper
    return redirect(url_for(".entered", consultation_id=consultation.id, submission_id=entered.submission_id),
                    code=303)


@blp.get("/<consultation_id>/submissions", endpoint="register")
def register_page(consultation_id: str) -> Any:
    """The consultation's submissions, every channel, found by reference, sender or address (register.register)."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    query, channel = (request.args.get("q") or "")[:register.MAX_QUERY], request.args.get("channel") or ""
    try:
        page = min(int(request.args.get("page", "1")), 100_000)
    except ValueError:
        page = 1
    undelivered = request.args.get("undelivered") == "1"
    found = register.register(_ctx(), consultation.id, query=query, channel=channel, page=page, undelivered=undelivered)
    return render_template("intake/staff/register.html", consultation=consultation, found=found, query=query,
                           channel=channel, undelivered=undelivered)


@blp.get("/<consultation_id>/submissions.csv", endpoint="register_csv")
def register_csv(consultation_id: str) -> Any:
    """The register as CSV for Excel (what the page finds, every page of it)."""
    ctx = _ctx()
    consultation = intake_handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    rows = register.every_row(ctx, consultation.id, query=(request.args.get("q") or "")[:register.MAX_QUERY],
                              channel=request.args.get("channel") or "",
                              undelivered=request.args.get("undelivered") == "1")
    content = register.register_csv(
        rows, headers=(_("Reference"), _("Received"), _("Channel"), _("Sender"), _("Organisation"),
                       _("E-mail address"), _("Comments"), _("late"), _("Entered by")),
        channel_words={key: _(word) for key, word in CHANNEL_WORDS.items()}, late_word=_("late"),
        tz=ctx.settings.timezone)
    return file_response(content, "text/csv; charset=utf-8", f"rejestr-zgloszen-{consultation.id[:8]}.csv",
                         hashlib.sha256(content).hexdigest(), cache_control="no-store")


@blp.get("/<consultation_id>/submissions/<submission_id>", endpoint="entered")
def entered_page(consultation_id: str, submission_id: str) -> Any:
    """What was registered: the reference to write on the paper, the receipt, the provenance and the comments."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    return _entered_page(consultation, submission_id)


def _entered_page(consultation: Any, submission_id: str, *, consent_note: str = "", consent_error: str | None = None,
                  email_form: dict | None = None, email_errors: dict | None = None, status: int = 200) -> Any:
    entered = handlers.entered_submission(_ctx(), consultation.id, submission_id)
    return render_template("intake/staff/entered.html", consultation=consultation, s=entered.submission,
                           just_registered=session.pop(JUST_REGISTERED, None) == submission_id,
                           booking_starts_at=entered.booking_starts_at,
                           correctable=entered.correction_refusal is None, mail=entered.mail,
                           undelivered=entered.undelivered, consent_note=consent_note,
                           consent_error=consent_error, email_form=email_form or {}, email_errors=email_errors or {},
                           ), status


@blp.post("/<consultation_id>/submissions/<submission_id>/consent", endpoint="consent")
def change_consent(consultation_id: str, submission_id: str) -> Any:
    """Record a submitter's written request to withdraw (or give) their consent to publish their name."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    wanted = request.form.get("publish_consent")
    note = (request.form.get("note") or "")[:consent.MAX_NOTE + 1]
    if wanted not in ("yes", "no"):
        return _entered_page(consultation, submission_id, consent_note=note,
                             consent_error=_("Choose whether the name may be published."), status=422)
    try:
        outcome = consent.change_by_staff(_ctx(), consultation.id, submission_id, wanted == "yes",
                                          actor=current_staff().email, note=note)
    except Invalid as exc:
        code = (exc.details or {}).get("note", ["required"])[0]
        words = (_("Say on what basis you record the change: the letter or e-mail and its date.") if code == "required"
                 else _("This text is too long."))
        return _entered_page(consultation, submission_id, consent_note=note, consent_error=words, status=422)
    if not outcome.changed:
        flash(_("Nothing was changed: the consent already stood so."), "info")
    elif outcome.publish_consent:
        flash(_("Recorded: the name of %(reference)s may be published.", reference=outcome.reference), "success")
    else:
        flash(_("Recorded: the consent of %(reference)s to publish the name is withdrawn.",
                reference=outcome.reference), "success")
        if outcome.results_published:
            flash(_("The results of this consultation are already published: build the report again and publish "
                    "it in the documents console, so that the name is no longer published."), "warning")
    return redirect(url_for(".entered", consultation_id=consultation.id, submission_id=submission_id) + "#consent",
                    code=303)


EMAIL_PROBLEM_WORDS = {
    ("email", "invalid"): N_("Enter the e-mail address in the form name@example.pl, or leave it empty."),
    ("note", "required"): N_("Say on what basis you correct the address: a phone call, a letter, and its date."),
    ("note", "too_long"): N_("This text is too long."),
}


@blp.post("/<consultation_id>/submissions/<submission_id>/email", endpoint="email")
def correct_email(consultation_id: str, submission_id: str) -> Any:
    """Record the submitter's corrected e-mail address (or none), with its basis."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    form = {"email": (request.form.get("email") or "")[:contact.MAX_EMAIL + 1],
            "note": (request.form.get("note") or "")[:consent.MAX_NOTE + 1]}
    try:
        outcome = contact.correct_email(_ctx(), consultation.id, submission_id, form["email"],
                                        actor=current_staff().email, note=form["note"])
    except Invalid as exc:
        errors = {field: _(EMAIL_PROBLEM_WORDS[(field, codes[0])]) for field, codes in (exc.details or {}).items()}
        return _entered_page(consultation, submission_id, email_form=form, email_errors=errors, status=422)
    if not outcome.changed:
        flash(_("Nothing was changed: the address already stood so."), "info")
    elif outcome.email:
        flash(_("Recorded: e-mails about %(reference)s go to %(email)s from now on; what came back undelivered is "
                "sent there.", reference=outcome.reference, email=outcome.email), "success")
    else:
        flash(_("Recorded: %(reference)s has no e-mail address; write to the sender by post.",
                reference=outcome.reference), "success")
    return redirect(url_for(".entered", consultation_id=consultation.id, submission_id=submission_id) + "#email",
                    code=303)


@blp.route("/<consultation_id>/submissions/<submission_id>/correct", methods=["GET", "POST"], endpoint="correct")
def correct(consultation_id: str, submission_id: str) -> Any:
    """Correct the comments staff entered: each row keeps the comment it holds (a hidden field names it), a row
    cleared removes its comment, a row added (posting the form back, no JavaScript) adds one."""
    ctx = _ctx()
    consultation = intake_handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    entered = handlers.entered_submission(ctx, consultation.id, submission_id)
    submission = entered.submission
    if entered.correction_refusal is not None:
        flash(_correction_refusal(entered.correction_refusal), "error")
        return redirect(url_for(".entered", consultation_id=consultation.id, submission_id=submission.id), code=303)
    if request.method == "GET":
        form = PaperForm("correction", {"name": submission.submitter_name,
                                        "organization": submission.organization or "",
                                        "revision": str(submission.comments_revision)})
        form.rows = [{name: getattr(c, name) or "" for name in ROW_FIELDS} for c in submission.comments]
        ids = [c.id for c in submission.comments]
        return _correction_page(consultation, submission, form, ids)
    form = PaperForm.from_request("correction", request.form)
    form.values["revision"] = (request.form.get("revision") or "").strip()[:10]
    ids = form.row_ids(request.form, {c.id for c in submission.comments})
    if request.form.get("action") == "add_row":
        form.add_row()
        return _correction_page(consultation, submission, form, ids + [""],
                                focus=f"f-c-{len(form.rows) - 1}-section")
    rows = tuple(corrections.CorrectedRow(draft, ids[index] or None) for index, draft in form.indexed_drafts())
    sender = form.sender()
    if form.errors:
        return _correction_page(consultation, submission, form, ids, status=422)
    try:
        done = corrections.correct_submission(ctx, consultation.id, submission.id, rows, actor=current_staff().email,
                                              sender=sender, revision=_whole_number(form.values["revision"]),
                                              tell_sender=request.form.get("tell_sender") == "yes")
    except Conflict as refused:
        flash(_correction_refusal((refused.details or {}).get("status", [""])[0]), "error")
    else:
        if done.anything:
            flash(_("The comments of %(reference)s are corrected: %(changed)s changed, %(added)s added, "
                    "%(removed)s removed.", reference=done.reference, changed=done.changed, added=done.added,
                    removed=done.removed), "success")
        else:
            flash(_("Nothing was changed."), "info")
    return redirect(url_for(".entered", consultation_id=consultation.id, submission_id=submission.id), code=303)


def _whole_number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _correction_refusal(code: str) -> str:
    return {
        "stale": _("These comments were corrected meanwhile (by a colleague, or by this form sent twice): nothing "
                   "was changed. They are shown below as they now stand; correct them again if need be."),
        "senders_words": _("These comments are the sender's own words (a web form, or a form read from an "
                           "e-mail): they are not corrected. Note a correction the sender asks for on the comment "
                           "in review."),
        "not_transcribed": _("This e-mail waits for its transcription, or was closed as holding no comments: "
                             "transcribe it on its page."),
        "decided": _("A decision on this submission has been taken, so its comments can no longer be corrected."),
    }.get(code, _("This submission's comments cannot be corrected."))


def _correction_page(consultation: Any, submission: Any, form: PaperForm, ids: list[str], *, status: int = 200,
                     focus: str | None = None) -> Any:
    errors = {name: paper_error(code) for name, code in form.errors.items()}
    return render_template("intake/staff/correct.html", consultation=consultation, s=submission, form=form,
                           ids=ids, errors=errors, focus=focus), status


@blp.get("/<consultation_id>/submissions/<submission_id>/scan", endpoint="scan")
def download_scan(consultation_id: str, submission_id: str) -> Any:
    stored = handlers.stored_scan(_ctx(), consultation_id, submission_id)
    return file_response(stored.content, stored.media_type, stored.filename, stored.sha256)


def _scan(ctx: Any, form: PaperForm) -> dict | None:
    """A newly chosen file is checked and stored; otherwise the one kept from an earlier post of the form."""
    upload = _uploaded(request.files)
    try:
        if upload is not None:
            scan = handlers.store_scan(ctx, handlers.ScanUpload(upload.filename or "", upload.read()))
        elif form.values["kept_scan"]:
            scan = handlers.kept_scan(ctx, form.values["kept_scan"], form.values["kept_scan_name"])
        else:
            return None
    except handlers.PaperInvalid as exc:
        form.add_problems(exc.problems)
        form.values["kept_scan"] = form.values["kept_scan_name"] = ""
        return None
    form.values["kept_scan"], form.values["kept_scan_name"] = scan["sha256"], scan["filename"]
    return scan


def _refusal(exc: DomainError, consultation: Any) -> str:
    if isinstance(exc, Conflict):
        return _("The consultation had not opened yet on that date, so the submission cannot be registered.")
    if "deadline" in str(exc):
        return _("The date of receipt is after the deadline and this consultation refuses late comments. "
                 "The letter cannot be registered as a submission.")
    return _("This consultation does not accept comments this way. Add the channel to the consultation first.")


def _page(consultation: Any, form: PaperForm, *, scan: dict | None = None, status: int = 200,
          problem: str | None = None, focus: str | None = None, reading: handlers.ScanReading | None = None,
          filled: int | None = None) -> Any:
    errors = {name: paper_error(code) for name, code in form.errors.items()}
    if reading is None and scan is not None:  # read at an earlier post of this form: still shown beside it
        reading = handlers.reading_before(_ctx(), scan)
    bookings = handlers.bookings_for_notes(_ctx(), consultation.id) if form.channel == "duty_hours" else []
    html = render_template("intake/staff/paper_form.html", consultation=consultation, form=form, errors=errors,
                           scan=scan, problem=problem, focus=focus, bookings=bookings, reading=reading,
                           filled=filled,
                           max_mb=_ctx().settings.max_upload_bytes // (1024 * 1024),
                           accepted=form.channel in consultation.channels, channels=PAPER_CHANNELS)
    return html, status
