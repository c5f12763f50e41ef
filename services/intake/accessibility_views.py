"""The admin's console pages where the city's part of the public site's notices is kept: the accessibility
statement (`/intake/staff/accessibility`) and the privacy notice (`/intake/staff/privacy`); the public pages are
`views.accessibility_statement` and `views.privacy_notice`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.intake import accessibility, privacy

blp = Blueprint("intake_accessibility", __name__, url_prefix="/intake/staff/accessibility")
privacy_blp = Blueprint("intake_privacy", __name__, url_prefix="/intake/staff/privacy")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _today() -> Any:
    return datetime.now(_ctx().settings.timezone).date()


@blp.route("", methods=["GET", "POST"])
@requires_role("admin")
def edit() -> Any:
    saved = accessibility.current(_ctx())
    if request.method == "GET":
        return _form(accessibility.form_values(saved[0] if saved else None), {}, saved)
    values = {name: (request.form.get(name) or "")[:accessibility.LIMITS.get(name, 20) + 1]
              for name in accessibility.form_values(None)}
    statement, problems = accessibility.read_form(values, _today())
    if statement is None:
        return _form(values, problems, saved, status=422)
    accessibility.save(_ctx(), statement, actor=current_staff().email)
    flash(_("The accessibility statement is saved and published."), "success")
    return redirect(url_for(".edit"), code=303)


def _form(values: dict[str, str], problems: dict[str, str], saved: Any, *, status: int = 200) -> Any:
    errors = {name: _problem(code) for name, code in problems.items()}
    return render_template("intake/staff/accessibility_form.html", values=values, errors=errors, saved=saved,
                           review_due=bool(saved) and saved[0].review_due(_today()), today=_today().isoformat(),
                           statuses=[(code, _status_words(code)) for code in accessibility.STATUSES]), status


@privacy_blp.route("", methods=["GET", "POST"])
@requires_role("admin")
def edit_privacy() -> Any:
    saved = privacy.current(_ctx())
    if request.method == "GET":
        return _privacy_form(privacy.form_values(saved[0] if saved else None), {}, saved)
    values = {name: (request.form.get(name) or "")[:privacy.LIMITS[name] + 1] for name in privacy.LIMITS}
    notice, problems = privacy.read_form(values)
    if notice is None:
        return _privacy_form(values, problems, saved, status=422)
    privacy.save(_ctx(), notice, actor=current_staff().email)
    flash(_("The information on personal data is saved and published."), "success")
    return redirect(url_for(".edit_privacy"), code=303)


def _privacy_form(values: dict[str, str], problems: dict[str, str], saved: Any, *, status: int = 200) -> Any:
    return render_template("intake/staff/privacy_form.html", values=values, saved=saved,
                           errors={name: _problem(code) for name, code in problems.items()}), status


def _status_words(code: str) -> str:
    return {"full": _("compliant"), "partial": _("partially compliant"), "none": _("not compliant")}[code]


def _problem(code: str) -> str:
    return {
        "required": _("This field is required."),
        "too_long": _("This text is too long."),
        "unknown": _("Choose from the list."),
        "email": _("Enter an e-mail address in the right format, like jan.kowalski@example.pl."),
        "phone": _("Enter a phone number with at least 9 digits, like 56 611 88 88."),
        "date": _("Enter a date as year-month-day, like 2024-10-21."),
        "in_future": _("The date cannot be in the future."),
        "before_publication": _("The last significant update cannot come before the site was published."),
        "before_preparation": _("The last review cannot come before the statement was prepared."),
    }.get(code, _("Check this field."))
