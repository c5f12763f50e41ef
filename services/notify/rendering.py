"""Turning a template and its context into an e-mail: Jinja2 text and HTML parts, UTF-8 headers.

Each message has `templates/<name>/<lang>/subject.txt`, `body.txt` and
`body.html`. HTML is autoescaped (submitters' text goes into it verbatim);
text is not. Templates only lay out what the context says; wording decisions
such as the decision in words are made in `domain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notify.calendar import booking_invitation
from services.notify.domain import Template, normalize_language, office_from

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    # An iCalendar invitation (.ics) and its iTIP method, for booked duty hours.
    calendar: bytes | None = None
    calendar_method: str | None = None


# Which e-mails carry a calendar invitation, and with which method.
CALENDAR_METHODS = {Template.BOOKING_CONFIRMED: "REQUEST", Template.BOOKING_CANCELLED: "CANCEL"}
# Booking e-mails gained these later; rows staged before that still render, without them.
BOOKING_TEMPLATES = (Template.BOOKING_CONFIRMED, Template.BOOKING_CANCELLED, Template.BOOKING_REMINDER)
BOOKING_OPTIONAL = {"recipient": "", "room": "", "topic": "", "consultation_title": "", "cancel_url": ""}


# Fields shown on one line of a letter (a greeting, a heading, an address line). A CR/LF or tab in them,
# from any channel, would start lines of its own in the plain-text body: they are folded to spaces.
ONE_LINE_FIELDS = frozenset({"name", "recipient", "recipient_name", "organization", "email", "reference",
                             "consultation_title", "organiser", "room", "place", "topic", "contact_email",
                             "section", "decision_label"})


def _one_line_fields(context: Mapping[str, Any]) -> dict[str, Any]:
    return {key: " ".join(value.split()) if key in ONE_LINE_FIELDS and isinstance(value, str) else value
            for key, value in context.items()}


class Renderer:
    def __init__(self, *, timezone: ZoneInfo, templates_dir: Path = TEMPLATES_DIR):
        self.timezone = timezone
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            # A missing variable is a bug to see, not an empty gap in an official letter.
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["local_datetime"] = self._local_datetime
        self.env.filters["local_time"] = self._local_time

    def _as_local(self, value: str | datetime) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime in an e-mail context: {value!r}")
        return moment.astimezone(self.timezone)

    def _local_datetime(self, value: str | datetime, language: str) -> str:
        return babel_format_datetime(self._as_local(value), "d MMMM y, HH:mm", locale=normalize_language(language))

    def _local_time(self, value: str | datetime) -> str:
        return self._as_local(value).strftime("%H:%M")

    def render(self, template: Template | str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
        name = Template(template).value
        language = normalize_language(language)
        defaults = BOOKING_OPTIONAL if Template(template) in BOOKING_TEMPLATES else {}
        values = {**defaults, **_one_line_fields(context), "language": language}
        if Template(template) in BOOKING_TEMPLATES and "office" not in values:
            # Staged before booking e-mails were signed like the receipt: the office's two fields were loose.
            values["office"] = office_from(context)
        folder = f"{name}/{language}"
        subject = self.env.get_template(f"{folder}/subject.txt").render(values)
        method = CALENDAR_METHODS.get(Template(template))
        return RenderedEmail(
            # A header is one line: newlines in the template or in a title must not split it.
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"{folder}/body.txt").render(values),
            html=self.env.get_template(f"{folder}/body.html").render(values),
            calendar=booking_invitation(values, method=method) if method else None,
            calendar_method=method,
        )


def build_message(rendered: RenderedEmail, *, sender: str, recipient: str, message_id: str,
                  date: datetime | None = None) -> EmailMessage:
    """A multipart/alternative message; the default policy encodes non-ASCII headers per RFC 2047."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders should stay quiet
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if rendered.calendar is not None:
        # As an attachment with its iTIP method, which Outlook, Gmail and Thunderbird all offer to add.
        message.add_attachment(rendered.calendar, maintype="text", subtype="calendar",
                               filename="zaproszenie.ics" if rendered.calendar_method == "REQUEST" else "odwolanie.ics",
                               params={"method": rendered.calendar_method, "charset": "utf-8"})
    return message
