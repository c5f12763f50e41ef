"""The admin's console pages where the city's part of the public site's notices is kept: the accessibility
statement (`/intake/staff/accessibility`) and the privacy notice (`/intake/staff/privacy`), whose public pages are
`views.accessibility_statement` and `views.privacy_notice`; and the page that answers a person's request for
access to their data (`/intake/staff/privacy/person`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.intake import accessibility, data_access, privacy

blp = Blueprint("intake_accessibility", __name__, url_prefix="/intake/staff/accessibility")
privacy_blp = Blueprint("intake_privacy", __name__, url_prefix="/intake/staff/privacy")


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _today() -> Any:
    return datetime.now(_ctx().settings.timezone).date()


@blp.route("", methods=["GET", "POST"])
@requires_role("admin")
def edit() -> Any:
    return _keep(accessibility, lambda values: accessibility.read_form(values, _today()),
                 "intake/staff/accessibility_form.html", _("The accessibility statement is saved and published."),
                 ".edit", lambda saved: {
                     "review_due": bool(saved) and saved[0].review_due(_today()), "today": _today().isoformat(),
                     "statuses": [(code, status_words(code)) for code in accessibility.STATUSES]})


@privacy_blp.route("", methods=["GET", "POST"])
@requires_role("admin")
def edit_privacy() -> Any:
    return _keep(privacy, privacy.read_form, "intake/staff/privacy_form.html",
                 _("The information on personal data is saved and published."), ".edit_privacy", lambda saved: {})


@privacy_blp.get("/person")
@requires_role("coordinator")
def person() -> Any:
    """A person's request for access to their data (GDPR art. 15): what intake holds under an address or a name."""
    query = (request.args.get("q") or "").strip()[:data_access.MAX_QUERY + 1]
    problem = data_access.query_problem(query) if query else None
    found = data_access.find_person(_ctx(), query) if query and problem is None else None
    return render_template("intake/staff/personal_data.html", query=query, found=found,
                           problem=_("Enter at least 3 characters of the address or the name.") if problem else None
                           ), 422 if problem else 200


def _keep(record: Any, read: Callable[[dict[str, str]], tuple[Any, dict[str, str]]], template: str, saved_words: str,
          endpoint: str, context: Callable[[Any], dict[str, Any]]) -> Any:
    """A site record's form: shown as saved (or with the suggestions), every problem at once (422), saved (303)."""
    saved = record.current(_ctx())
    if request.method == "GET":
        values, problems, status = record.form_values(saved[0] if saved else None), {}, 200
    else:
        values = {name: (request.form.get(name) or "")[:record.LIMITS.get(name, 20) + 1]
                  for name in record.form_values(None)}
        found, problems = read(values)
        if found is not None:
            record.save(_ctx(), found, actor=current_staff().email)
            flash(saved_words, "success")
            return redirect(url_for(endpoint), code=303)
        status = 422
    return render_template(template, values=values, saved=saved,
                           errors={name: _problem(code) for name, code in problems.items()}, **context(saved)), status


def status_words(code: str) -> str:
    """The compliance status in the statement's words ("częściowo zgodna"), on the form and the public page."""
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
