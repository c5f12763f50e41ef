"""The staff console's consultation pages under /intake/staff/consultations: list, new, detail, edit, steps.

Thin views: parse the form (`console_forms.ConsultationForm`), call one handler,
render. Reviewers read; coordinators create, edit and move a consultation along its
lifecycle. Every form carries a CSRF token (the shared gate checks it for
cookie-authenticated requests).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.common.events import utcnow
from services.common.ui import N_, local_date
from services.intake import domain, handlers
from services.intake.console_forms import ConsultationForm

blp = Blueprint("intake_console", __name__, url_prefix="/intake/staff/consultations")

STATE_WORDS = {
    "draft": N_("draft"),
    "open": N_("open"),
    "closed": N_("closed"),
    "in_review": N_("in review"),
    "report_published": N_("report published"),
}
CHANNEL_WORDS = {
    "web": N_("web form"),
    "email": N_("e-mail"),
    "letter": N_("letter"),
    "duty_hours": N_("duty hours"),
}
STEP_WORDS = {  # (button, log entry)
    "open": (N_("Open the consultation"), N_("opening")),
    "close": (N_("Close the consultation"), N_("closing")),
    "start_review": (N_("Start the review"), N_("start of the review")),
    "publish_report": ("", N_("publication of the report")),
    "reopen_review": ("", N_("reopening of the review")),
    "created": ("", N_("creation")),
    "edited": ("", N_("change of details")),
}
# What notify's messages (its templates) are, for the returned ones shown beside a submission or booking
MAIL_WORDS = {
    "submission_receipt": N_("the receipt of the comments"),
    "comments_registered": N_("the comments as registered"),
    "comment_decision": N_("the decision on a comment"),
    "outcome_summary": N_("the outcome of the consultation"),
    "outcome_correction": N_("the correction of an outcome"),
    "consent_changed": N_("the confirmation of a change of consent"),
    "booking_confirmed": N_("the confirmation of the booking"),
    "booking_cancelled": N_("the cancellation of the booking"),
    "booking_reminder": N_("the reminder of the booking"),
}
LATE_POLICY_WORDS = {
    "flag": N_("accept and mark as late"),
    "refuse": N_("refuse"),
}
OUTCOME_NOTICE_WORDS = {
    "at_publication": N_("one e-mail per submission when the report is published"),
    "per_decision": N_("an e-mail as each decision is made"),
}
FIELD_WORDS = {
    "title": N_("Title"), "stage": N_("Stage"), "description": N_("Description"), "organiser": N_("Organiser"),
    "legal_basis": N_("Legal basis"), "resolution": N_("Resolution governing consultations"),
    "opens_at": N_("Opens"), "closes_at": N_("Closes"), "channels": N_("Channels"), "topics": N_("Topics"),
    "duty_days": N_("Duty days"), "contact_email": N_("Contact e-mail"), "contact_phone": N_("Contact phone"),
    "postal_address": N_("Postal address for letters"), "late_policy": N_("Late comments"),
    "decisions_need_approval": N_("Decisions need approval"), "outcome_notice": N_("Outcome notice"),
}
SYSTEM_REASONS = {  # reasons the system writes into the log (handlers), in words
    "deadline passed": N_("deadline passed"),
    "review completed": N_("review completed"),
}
WARNING_WORDS = {
    "email_channel_without_address": N_("Comments by e-mail are accepted, but no contact e-mail address is given."),
    "letter_channel_without_address": N_("Letters are accepted, but no postal address is given."),
    "duty_hours_without_days": N_("Duty hours are offered, but no duty day is planned."),
    "no_organiser": N_("The organiser (department) is not given."),
}
DAY_OFF_WORDS = {
    "duty_day_off": N_("The duty day %(day)s falls on a weekend or a public holiday, when the office is closed."),
    "deadline_day_off": N_("The deadline, %(day)s, falls on a weekend or a public holiday: letters delivered by "
                           "post or in person cannot arrive that day."),
}
RULE_WORDS = {
    "only_extend": N_("Can only be extended. To end the consultation early, close it with a reason."),
    "only_add": N_("New ones can be added; the announced ones cannot be withdrawn."),
    "past_days_kept": N_("Duty days that have passed stay as they were."),
}


def field_error(code: str | None) -> str | None:
    """A form or domain error code in words."""
    if not code:
        return None
    words = {
        "required": _("This field is required."),
        "too_long": _("This text is too long."),
        "too_short": _("This text is too short."),
        "email": _("Enter an e-mail address in the right format, like konsultacje@um.torun.pl."),
        "date": _("Enter a date as year-month-day, like 2024-10-21."),
        "time": _("Enter an hour as hours:minutes, like 15:30."),
        "slot_range": _("Enter a slot length between 5 and 240 minutes."),
        "before_opening": _("The consultation must close after it opens."),
        "duplicate": _("Each entry may appear only once."),
        "unknown": _("Choose from the list."),
        "ends_before_start": _("The duty must end after it starts."),
        "slot_too_long": _("The slot is longer than the duty."),
        "booking_after_start": _("The booking deadline must come before the duty starts."),
        "frozen": _("This can no longer be changed in the consultation's current state."),
        "only_extend": _("The closing date can only be extended. To end the consultation early, close it with a reason."),
        "cannot_remove": _("Announced entries cannot be withdrawn; new ones can be added."),
        "past_day_changed": _("Duty days that have passed cannot be changed or removed."),
    }
    return words.get(code, _("Check this field."))


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _actor() -> str:
    staff = current_staff()
    return staff.email if staff else ""


@blp.app_context_processor
def _console_words() -> dict:
    def words(table: dict, key: Any) -> str:
        value = table.get(key)
        return _(value) if value else str(key)

    def step_button(step: str) -> str:
        return _(STEP_WORDS[step][0])

    def log_action(action: str) -> str:
        return _(STEP_WORDS[action][1]) if action in STEP_WORDS else action

    return {"console_words": words, "STATE_WORDS": STATE_WORDS, "CHANNEL_WORDS": CHANNEL_WORDS,
            "LATE_POLICY_WORDS": LATE_POLICY_WORDS, "OUTCOME_NOTICE_WORDS": OUTCOME_NOTICE_WORDS,
            "FIELD_WORDS": FIELD_WORDS, "SYSTEM_REASONS": SYSTEM_REASONS, "MAIL_WORDS": MAIL_WORDS,
            "step_button": step_button, "log_action": log_action}


# --- pages -------------------------------------------------------------------------------


@blp.get("")
def index() -> Any:
    now = utcnow()
    rows = [(c, domain.effective_state(c.state, c.closes_at, now).value) for c in handlers.list_all_consultations(_ctx())]
    return render_template("intake/staff/consultations.html", rows=rows,
                           handovers=handlers.council_handovers(_ctx()))


@blp.route("/new", methods=["GET", "POST"])
@requires_role("coordinator")
def new() -> Any:
    if request.method == "GET":
        if request.args.get("from"):
            return _next_edition_page(request.args["from"])
        return _form_page(ConsultationForm.empty(), consultation=None)
    form = ConsultationForm.from_request(request.form)
    if request.form.get("action") == "add_day":
        form.add_day()
        return _form_page(form, consultation=None, focus=f"f-day-{len(form.days) - 1}-date")
    fields = form.to_fields(_ctx().settings.timezone)
    if fields is None:
        return _form_page(form, consultation=None, status=422)
    try:
        created = handlers.create_consultation(_ctx(), domain.OpenConsultation(**fields, draft=True), actor=_actor())
    except handlers.DetailsInvalid as exc:
        form.add_domain_problems(exc.details)
        return _form_page(form, consultation=None, status=422)
    flash(_("The consultation has been saved as a draft. Check it, upload the draft document, and open it."),
          "success")
    return redirect(url_for(".detail", consultation_id=created.id), code=303)


def _next_edition_page(source_id: str) -> Any:
    """The new consultation's form, filled from an earlier one: the yearly consultation is mostly last year's."""
    ctx = _ctx()
    source = handlers.get_consultation(ctx, source_id[:64], include_drafts=True)
    tz = ctx.settings.timezone
    form, years = ConsultationForm.next_edition(handlers.details_of(source), tz, utcnow().astimezone(tz).date())
    return _form_page(form, consultation=None, source=source, years_moved=years)


@blp.get("/<consultation_id>")
def detail(consultation_id: str) -> Any:
    ctx = _ctx()
    consultation = handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    now = utcnow()
    details = handlers.details_of(consultation)
    state = domain.effective_state(consultation.state, consultation.closes_at, now)
    tz = ctx.settings.timezone
    readiness = domain.readiness_warnings(details)
    warnings = [_(WARNING_WORDS[w]) for w in readiness]
    warnings += [_(DAY_OFF_WORDS[code], day=local_date(day))
                 for code, day in domain.days_off_ahead(details, tz, now.astimezone(tz).date())]
    staff = current_staff()
    steps = [s.value for s in domain.available_steps(consultation.state, consultation.closes_at, now)] \
        if staff and staff.has_role("coordinator") else []
    progress = handlers.progress_facts(ctx, consultation, state=state, warnings=len(readiness))
    return render_template(
        "intake/staff/consultation.html", consultation=consultation, details=details, state=state.value,
        progress=progress, progress_steps=domain.progress_steps(progress),
        warnings=warnings, steps=steps,
        closing_early=now < consultation.closes_at, log=handlers.consultation_log(ctx, consultation_id),
        can_edit=bool(staff and staff.has_role("coordinator")),
    )


@blp.route("/<consultation_id>/edit", methods=["GET", "POST"])
@requires_role("coordinator")
def edit(consultation_id: str) -> Any:
    ctx = _ctx()
    consultation = handlers.get_consultation(ctx, consultation_id, include_drafts=True)
    tz, now = ctx.settings.timezone, utcnow()
    current = ConsultationForm.from_details(handlers.details_of(consultation), tz)
    state = domain.effective_state(consultation.state, consultation.closes_at, now)
    frozen = domain.frozen_fields(state, consultation.opens_at, now)
    if request.method == "GET":
        return _form_page(current, consultation=consultation, state=state, frozen=frozen)
    form = ConsultationForm.from_request(request.form)
    form.keep_frozen(current, frozen)
    if request.form.get("action") == "add_day":
        form.add_day()
        return _form_page(form, consultation=consultation, state=state, frozen=frozen,
                          focus=f"f-day-{len(form.days) - 1}-date")
    fields = form.to_fields(tz, frozen=frozen)
    if fields is None:
        return _form_page(form, consultation=consultation, state=state, frozen=frozen, status=422)
    try:
        handlers.edit_consultation(ctx, consultation_id, fields, actor=_actor())
    except handlers.DetailsInvalid as exc:
        form.add_domain_problems(exc.details)
        return _form_page(form, consultation=consultation, state=state, frozen=frozen, status=422)
    flash(_("The changes have been saved."), "success")
    return redirect(url_for(".detail", consultation_id=consultation_id), code=303)


@blp.post("/<consultation_id>/step")
@requires_role("coordinator")
def step(consultation_id: str) -> Any:
    wanted = request.form.get("step", "")
    if wanted not in {s.value for s in domain.MANUAL_STEPS}:
        flash(_("Unknown action."), "error")
        return redirect(url_for(".detail", consultation_id=consultation_id), code=303)
    try:
        handlers.take_step(_ctx(), consultation_id, wanted, actor=_actor(), reason=request.form.get("reason", "")[:2000])
    except handlers.LifecycleConflict as exc:
        flash(_step_refusal(exc.code), "error")
        return redirect(url_for(".detail", consultation_id=consultation_id), code=303)
    flash({"open": _("The consultation is open and announced."), "close": _("The consultation is closed."),
           "start_review": _("The review has started.")}[wanted], "success")
    return redirect(url_for(".detail", consultation_id=consultation_id), code=303)


def _step_refusal(code: str) -> str:
    return {
        "closes_in_past": _("The closing date has passed. Set a later closing date first."),
        "no_channels": _("Choose at least one way of sending comments first."),
        "reason_required": _("Closing before the deadline needs a reason. Enter it and try again."),
    }.get(code, _("This step is not possible in the consultation's current state."))


def _form_page(form: ConsultationForm, *, consultation: Any, state: domain.State | None = None,
               frozen: frozenset[str] = frozenset(), status: int = 200, focus: str | None = None,
               source: Any = None, years_moved: int = 0) -> Any:
    errors = {name: field_error(code) for name, code in form.errors.items()}
    rules = domain.OPEN_RULES if state is domain.State.OPEN else {}
    html = render_template(
        "intake/staff/consultation_form.html", form=form, consultation=consultation, errors=errors, frozen=frozen,
        state=state.value if state else "draft", rules={name: _(RULE_WORDS[rule]) for name, rule in rules.items()},
        channel_names=domain.CHANNEL_NAMES, focus=focus, source=source, years_moved=years_moved,
    )
    return html, status
