"""The public pages' plumbing: language, CSRF, rate limit, date formatting and the comment form.

`init_web_ui(app, ctx)` is called by the intake app factory after the JSON API
is set up. Everything here is about the HTML edge; the rules stay in `domain`
and `handlers`. Form errors are stable codes (``required``, ``email`` …) that
the templates put into words, so the wording lives in the message catalogs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.runtime import ServiceContext
from services.common.ui import (  # noqa: F401  (re-exported for the views and templates)
    DEFAULT_LANGUAGE,
    LANGUAGES,
    _as_local,
    current_language,
    local_date,
    local_datetime,
    local_time,
    paragraphs,
    select_language,
    weekday,
)
from services.intake import domain

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
MAX_ROWS = 50  # one web submission; the JSON API allows 100 comments
TEXT = 10_000
HONEYPOT = "website"

# Defaults an operator may override in app.config before the first request.
DEFAULTS: Mapping[str, Any] = {
    # Generous per client IP: a volunteer may send several submissions from one office.
    "INTAKE_FORM_RATE_LIMIT": "30/minute",
}


# --- extensions ------------------------------------------------------------------


def init_web_ui(app: Flask, ctx: ServiceContext, *blueprints: Any) -> None:
    """The rate limit and the HTML 404 of `blueprint` (the public pages); Babel and CSRF come from `init_ui`."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # One limiter per app, memory storage: counts are per process, so with N gunicorn workers a
    # client gets up to N times the limit, and a restart forgets them. Good enough against a
    # script hammering the form; use a shared storage (RATELIMIT_STORAGE_URI, e.g. redis://)
    # when that matters. Behind the gateway the client IP is the gateway's unless the app is
    # wrapped in werkzeug's ProxyFix.
    limiter = Limiter(get_remote_address, storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    for blueprint in blueprints:
        limiter.limit(lambda: current_app.config["INTAKE_FORM_RATE_LIMIT"], methods=["POST"])(blueprint)
    limited = frozenset(blueprint.name for blueprint in blueprints)

    # Flask-Limiter resolves its limits on every request of the app; only the pages above have any,
    # so every other request (the JSON API above all) skips the check instead of paying for it.
    @limiter.request_filter
    def _not_rate_limited() -> bool:
        return request.blueprint not in limited

    limiter.init_app(app)
    app.extensions["intake_limiter"] = limiter
    _html_not_found(app)
    app.jinja_env.globals.update(deadline_text=deadline_text)


def _html_not_found(app: Flask) -> None:
    """Unknown addresses outside the JSON API get the HTML 404 page; the API keeps its JSON errors."""
    from werkzeug.exceptions import HTTPException

    from services.intake.views import error_page

    json_handler = app.error_handler_spec[None][None].get(HTTPException)

    def not_found(exc: HTTPException) -> Any:
        if json_handler is not None and (request.path.startswith("/intake/api/")
                                         or request.accept_mimetypes.best == "application/json"):
            return json_handler(exc)
        if request.path.startswith("/intake/staff/"):
            return json_handler(exc)  # the staff shell's own error page
        return error_page(404)

    app.register_error_handler(404, not_found)


def deadline_text(closes_at: datetime) -> dict:
    """The deadline as people say it: a date when it closes at the end of the local day."""
    local = _as_local(closes_at)
    end_of_day = local.time() >= time(23, 59)
    return {"date": local_date(local), "time": None if end_of_day else local_time(local), "moment": local.isoformat()}


# --- the comment form ------------------------------------------------------------
# Error codes, put into words by templates/intake/_macros.html.


class _Text(fields.String):
    """A form string: trimmed, with "" meaning "not given"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs).strip()


_REQUIRED = {"required": "required", "null": "required"}


class SubmitterForm(Schema):
    class Meta:
        unknown = EXCLUDE

    name = _Text(required=True, error_messages=_REQUIRED, validate=[
        validate.Length(min=1, error="required"), validate.Length(max=200, error="too_long")])
    organization = _Text(load_default="", validate=validate.Length(max=300, error="too_long"))
    # Optional: a resident without e-mail still comments; the reference is then shown on screen only.
    email = _Text(load_default="", validate=[
        validate.Length(max=254, error="too_long"), lambda value: value == "" or validate.Email(error="email")(value)])
    publish_consent = fields.Boolean(load_default=False, truthy={"yes", "on", "1"}, falsy={"", "no", "0"},
                                     error_messages={"invalid": "invalid"})


class CommentRowForm(Schema):
    class Meta:
        unknown = EXCLUDE

    section = _Text(required=True, error_messages=_REQUIRED, validate=[
        validate.Length(min=1, error="required"), validate.Length(max=500, error="too_long")])
    current_text = _Text(load_default="", validate=validate.Length(max=TEXT, error="too_long"))
    proposal = _Text(required=True, error_messages=_REQUIRED, validate=[
        validate.Length(min=1, error="required"), validate.Length(max=TEXT, error="too_long")])
    justification = _Text(load_default="", validate=validate.Length(max=TEXT, error="too_long"))
    topic = _Text(load_default="", validate=validate.Length(max=200, error="too_long"))


ROW_FIELDS = ("section", "current_text", "proposal", "justification", "topic")
_ROW_KEY = re.compile(r"^c-(\d{1,3})-(section|current_text|proposal|justification|topic)$")


@dataclass
class CommentForm:
    """What the person typed, kept as typed, plus the errors found in it."""

    name: str = ""
    organization: str = ""
    email: str = ""
    publish_consent: bool = False
    rows: list[dict[str, str]] = field(default_factory=lambda: [dict.fromkeys(ROW_FIELDS, "")])
    errors: dict[str, Any] = field(default_factory=dict)
    row_errors: dict[int, dict[str, str]] = field(default_factory=dict)
    honeypot_filled: bool = False

    @classmethod
    def from_request(cls, form: Mapping[str, str]) -> CommentForm:
        rows: dict[int, dict[str, str]] = {}
        for key, value in form.items():
            match = _ROW_KEY.match(key)
            if match and int(match.group(1)) < MAX_ROWS:
                rows.setdefault(int(match.group(1)), dict.fromkeys(ROW_FIELDS, ""))[match.group(2)] = value
        ordered = [rows[i] for i in sorted(rows)] or [dict.fromkeys(ROW_FIELDS, "")]
        try:
            wanted = int(form.get("rows", len(ordered)))
        except ValueError:
            wanted = len(ordered)
        while len(ordered) < min(max(wanted, 1), MAX_ROWS):
            ordered.append(dict.fromkeys(ROW_FIELDS, ""))
        return cls(
            name=form.get("name", ""), organization=form.get("organization", ""), email=form.get("email", ""),
            publish_consent=form.get("publish_consent") in {"yes", "on", "1"}, rows=ordered,
            honeypot_filled=bool(form.get(HONEYPOT, "").strip()),
        )

    def add_row(self) -> None:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(dict.fromkeys(ROW_FIELDS, ""))

    def remove_row(self) -> None:
        if len(self.rows) > 1:
            self.rows.pop()

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.row_errors)

    def validate(self, topics: list[str]) -> domain.SubmitComments | None:
        """Check the form; return the command, or None with `errors`/`row_errors` filled in."""
        self.errors, self.row_errors = {}, {}
        try:
            submitter = SubmitterForm().load({
                "name": self.name, "organization": self.organization, "email": self.email,
                "publish_consent": "yes" if self.publish_consent else "",
            })
        except ValidationError as err:
            self.errors = {k: v[0] for k, v in err.normalized_messages().items()}  # type: ignore[union-attr]
            submitter = None
        drafts = []
        filled = [(i, row) for i, row in enumerate(self.rows) if any(str(row.get(f, "")).strip() for f in ROW_FIELDS if f != "topic")]
        if not filled:  # what the first comment needs, all at once
            self.row_errors[0] = {"section": "required", "proposal": "no_comment"}
        for index, row in filled:
            try:
                data = CommentRowForm().load(row)
            except ValidationError as err:
                self.row_errors[index] = {k: v[0] for k, v in err.normalized_messages().items()}  # type: ignore[union-attr]
                continue
            if data["topic"] and data["topic"] not in topics:
                self.row_errors[index] = {"topic": "invalid"}
                continue
            drafts.append(domain.CommentDraft(section=data["section"], proposal=data["proposal"],
                                              current_text=data["current_text"], justification=data["justification"],
                                              topic=data["topic"] or None))
        if self.has_errors or submitter is None:
            return None
        return domain.SubmitComments(
            consultation_id="",  # the view fills it in
            submitter=domain.Submitter(name=submitter["name"], email=submitter["email"] or None,
                                       publish_consent=submitter["publish_consent"],
                                       organization=submitter["organization"] or None),
            comments=tuple(drafts), channel="web", language=current_language(),
        )
