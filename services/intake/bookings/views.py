"""Booking pages: the public booking of a duty hour (no JavaScript), its confirmation and cancellation,
and the staff's printable day schedule with booking for a caller by phone."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, public
from services.common.events import utcnow
from services.common.ui import local_datetime
from services.common.web import Conflict, Invalid, NotFound
from services.intake import handlers as intake_handlers
from services.intake.bookings import handlers
from services.intake.bookings.domain import BookSlot, InvalidBooking, validate_booking
from services.intake.mail import transcribe
from services.intake.mail.importer import NEEDS_REVIEW
from services.intake.web_ui import current_language

blp = Blueprint("intake_bookings_pages", __name__, url_prefix="/intake")

FORM_FIELDS = ("slot_id", "name", "email", "phone", "topic")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def booking_error(name: str, code: str) -> str:
    """Stable error codes from the handlers, in words, next to the field they belong to."""
    words = {
        ("slot_id", "required"): _("Choose a time."),
        ("slot_id", "full"): _("Someone has just booked this time. Please choose another."),
        ("slot_id", "deadline_passed"): _("Booking for this day has closed."),
        ("slot_id", "slot_past"): _("This time has already passed."),
        ("slot_id", "unknown_slot"): _("Choose a time from the list."),
        ("slot_id", "no_duty_hours"): _("This consultation has no duty hours."),
        ("name", "required"): _("Enter your first name and surname."),
        ("email", "required"): _("Enter your e-mail address."),
        ("email", "email"): _("Enter an e-mail address in the right format, like jan.kowalski@example.pl."),
        ("phone", "phone"): _("Enter a phone number using digits, spaces and +, like 56 611 87 24."),
    }
    return words.get((name, code)) or _("Check this field.")


def _form_problems(cmd: BookSlot) -> dict[str, str]:
    """Every problem of a booking form at once: the time not chosen and the person's data (which the handler
    would report one kind at a time)."""
    problems = {} if cmd.slot_id else {"slot_id": booking_error("slot_id", "required")}
    try:
        validate_booking(cmd)
    except InvalidBooking as exc:
        problems.update({name: booking_error(name, codes[0]) for name, codes in exc.errors.items() if codes})
    return problems


def _errors_from(exc: Invalid | Conflict) -> dict[str, str]:
    details = exc.details or {}
    fields = details.get("json", details) if isinstance(details, dict) else {}
    return {name: booking_error(name, codes[0]) for name, codes in fields.items() if codes}


def _days(slots: list[dict]) -> list[dict]:
    tz = _ctx().settings.timezone
    days: dict[date, list[dict]] = {}
    for slot in slots:
        days.setdefault(slot["starts_at"].astimezone(tz).date(), []).append(slot)
    return [{"date": day, "slots": day_slots, "place": day_slots[0]["place"], "room": day_slots[0]["room"],
             "deadline": day_slots[0]["booking_deadline"], "open": any(s["open"] for s in day_slots)}
            for day, day_slots in sorted(days.items())]


# --- public ------------------------------------------------------------------------------------


@blp.route("/c/<consultation_id>/booking", methods=["GET", "POST"])
@public
def book(consultation_id: str) -> Any:
    if request.method == "POST":
        current_app.extensions["csrf"].protect()
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id)
    form = {name: request.form.get(name, "").strip() for name in FORM_FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        cmd = BookSlot(consultation_id=consultation.id, slot_id=form["slot_id"], name=form["name"], email=form["email"],
                       phone=form["phone"], topic=form["topic"], language=current_language())
        errors = _form_problems(cmd)
        if not errors:
            try:
                receipt = handlers.book_slot(_ctx(), cmd)
            except (Invalid, Conflict) as exc:
                errors = _errors_from(exc)
                status = 409 if isinstance(exc, Conflict) else 422
            else:
                return redirect(url_for(".manage", booking_id=receipt.booking_id, token=receipt.token, new=1), code=303)
        status = status if status != 200 else 422
    slots = handlers.list_slots(_ctx(), consultation.id)
    return render_template("intake/bookings/book.html", consultation=consultation, days=_days(slots), form=form,
                           errors=errors), status


@blp.route("/bookings/<booking_id>/cancel", methods=["GET", "POST"])
@public
def manage(booking_id: str) -> Any:
    token = (request.values.get("token") or "").strip()[:200]
    try:
        booking, slot = handlers.get_booking(_ctx(), booking_id, token)
    except NotFound:
        return _not_found()
    if request.method == "POST":
        current_app.extensions["csrf"].protect()
        booking = handlers.cancel_booking(_ctx(), booking_id, token=token)
    consultation = intake_handlers.get_consultation(_ctx(), booking.consultation_id)
    response = current_app.make_response(render_template(
        "intake/bookings/manage.html", booking=booking, slot=slot, consultation=consultation, token=token,
        just_booked=request.args.get("new") == "1" and booking.status == "confirmed", now=utcnow()))
    response.headers["Cache-Control"] = "no-store"  # the page carries the secret cancel link
    return response


def _not_found() -> Any:
    from services.intake.views import error_page

    return error_page(404, _("This booking link is not valid. Use the link from the confirmation e-mail."))


# --- staff -------------------------------------------------------------------------------------


@blp.route("/staff/consultations/<consultation_id>/bookings", methods=["GET", "POST"])
def schedule(consultation_id: str) -> Any:
    """The day's schedule to print, and booking for someone who phones in."""
    consultation = intake_handlers.get_consultation(_ctx(), consultation_id, include_drafts=True)
    dates = handlers.duty_dates(consultation)
    try:
        day = date.fromisoformat(request.values.get("day", "")) if request.values.get("day") else None
    except ValueError:
        day = None
    day = day if day in dates else (dates[0] if dates else None)
    mail, submission = _asking_mail(consultation.id, request.values.get("mail", ""))
    form = {name: request.form.get(name, "").strip() for name in FORM_FIELDS}
    if request.method == "GET" and submission is not None:  # the sender of the mail, to check and book
        form.update(name=submission.submitter_name or "", email=submission.email or "")
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and mail is not None and request.form.get("action") != "cancel":
        return _book_sender(consultation, day, dates, mail, submission, form)
    if request.method == "POST" and request.form.get("action") == "email":
        booking_id = request.form.get("booking_id", "")[:64]
        address = request.form.get("email", "")[:300]
        try:
            booking, changed = handlers.correct_booking_email(_ctx(), consultation.id, booking_id, address,
                                                              actor=current_staff().email)
        except Invalid:
            return _schedule_page(consultation, dates, day, form, {}, 422, email_errors={
                booking_id: (address, _("Enter the e-mail address in the form name@example.pl, or leave it empty."))})
        if changed and booking.email:
            flash(_("The confirmation with the invitation goes to %(email)s; so will the reminder.",
                    email=booking.email), "success")
        elif changed:
            flash(_("The booking has no e-mail address now: nothing more is sent to it."), "success")
        return redirect(url_for(".schedule", consultation_id=consultation.id, day=day), code=303)
    if request.method == "POST" and request.form.get("action") == "cancel":
        handlers.cancel_booking(_ctx(), request.form.get("booking_id", ""), staff=current_staff().email)
        flash(_("The booking has been cancelled and the time freed."), "success")
        return redirect(url_for(".schedule", consultation_id=consultation.id, day=day), code=303)
    if request.method == "POST":
        cmd = BookSlot(consultation_id=consultation.id, slot_id=form["slot_id"], name=form["name"],
                       email=form["email"] or None, phone=form["phone"], topic=form["topic"], language="pl",
                       booked_by=current_staff().email)
        errors = _form_problems(cmd)
        status = 422 if errors else status
        try:
            if not errors:
                handlers.book_slot(_ctx(), cmd)
        except (Invalid, Conflict) as exc:
            errors = _errors_from(exc) or {"slot_id": booking_error("slot_id", "required")}
            status = 409 if isinstance(exc, Conflict) else 422
        if not errors:
            flash(_("The time has been booked."), "success")
            return redirect(url_for(".schedule", consultation_id=consultation.id, day=day), code=303)
    return _schedule_page(consultation, dates, day, form, errors, status, mail=mail)


def _schedule_page(consultation: Any, dates: list[date], day: date | None, form: dict, errors: dict, status: int,
                   *, mail: Any = None, close_mail: bool = True, email_errors: dict | None = None) -> Any:
    rows = handlers.day_schedule(_ctx(), consultation.id, day)[1] if day else []
    free = [r["slot"] for r in rows if r["slot"].booked < r["slot"].capacity and r["slot"].starts_at > utcnow()]
    return render_template("intake/bookings/schedule.html", consultation=consultation, dates=dates, day=day,
                           rows=rows, free=free, form=form, errors=errors, mail=mail,
                           mail_waits=mail is not None and mail.status == NEEDS_REVIEW, close_mail=close_mail,
                           email_errors=email_errors or {}), status


def _asking_mail(consultation_id: str, mail_id: str) -> tuple[Any, Any]:
    """The e-mail (and its submission) whose sender staff book, when they came from the mail's page."""
    if not mail_id:
        return None, None
    mail, submission = transcribe.mail_for_transcription(_ctx(), mail_id[:64])
    if mail.consultation_id != consultation_id:
        raise NotFound("the mail is about another consultation")
    return mail, submission


def _book_sender(consultation: Any, day: date | None, dates: list[date], mail: Any, submission: Any,
                 form: dict) -> Any:
    """Book the sender of a mail asking for a duty hour and, unless staff untick it, close the mail as that
    request (`transcribe.book_sender`): back to the list of mails, or to the mail when it still waits."""
    close = request.form.get("close_mail") == "yes" and mail.status == NEEDS_REVIEW
    cmd = BookSlot(consultation_id=consultation.id, slot_id=form["slot_id"], name=form["name"],
                   email=form["email"] or None, phone=form["phone"], topic=form["topic"], language="pl")
    try:
        receipt = transcribe.book_sender(
            _ctx(), mail.id, cmd, actor=current_staff().email, close=close,
            note=lambda slot: _("Booked for the duty hour on %(when)s.", when=local_datetime(slot.starts_at)))
    except (Invalid, Conflict) as exc:
        errors = _errors_from(exc) or {"slot_id": booking_error("slot_id", "required")}
        if isinstance(exc, Conflict) and "slot_id" not in (exc.details or {}):  # the mail refused its closing
            errors = {"close_mail": _("A colleague has meanwhile transcribed or closed this e-mail; nothing was "
                                      "booked. Untick closing the e-mail to book all the same.")}
        status = 409 if isinstance(exc, Conflict) else 422
        return _schedule_page(consultation, dates, day, form, errors, status, mail=mail, close_mail=close)
    booked = _("The time has been booked: %(when)s.", when=local_datetime(receipt.slot.starts_at))
    if cmd.email:
        booked += " " + _("The confirmation with a calendar invitation goes to %(email)s.", email=cmd.email)
    if close:
        flash(booked + " " + _("E-mail %(reference)s has been closed as a request to book a duty hour.",
                               reference=submission.reference if submission else ""), "success")
        return redirect(url_for("intake_mail_pages.index", consultation=consultation.id), code=303)
    flash(booked, "success")
    return redirect(url_for("intake_mail_pages.transcription", mail_id=mail.id), code=303)
