"""Turning a template and its context into an e-mail: Jinja2 text and HTML parts, UTF-8 headers.

Each message has `templates/<name>/<lang>/subject.txt`, `body.txt` and
`body.html`. HTML is autoescaped (submitters' text goes into it verbatim);
text is not. Templates only lay out what the context says; wording decisions
such as the decision in words are made in `domain`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.common.addresses import names_organiser
from services.common.locales import babel_locale
from services.common.quotes import quoted
from services.notify.calendar import booking_invitation
from services.notify.domain import Template, normalize_language, office_from
from services.notify.senders import OutgoingMail

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


def _local_date(value: str | date, language: str) -> str:
    """A calendar day: "2 grudnia 2024 r." / "2 December 2024"."""
    language = normalize_language(language)
    day = babel_format_date(date.fromisoformat(value) if isinstance(value, str) else value, "d MMMM y",
                            locale=babel_locale(language))
    return f"{day} r." if language == "pl" else day


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
            # The templates ship with the code and change only with a deploy, which restarts the process: no
            # stat() of three files for every mail.
            auto_reload=False,
        )
        self.env.filters["local_datetime"] = self._local_datetime
        self.env.filters["local_time"] = self._local_time
        self.env.filters["local_date"] = _local_date
        self.env.filters["names_organiser"] = lambda address, organiser: names_organiser(organiser, address)
        self.env.filters["quoted"] = quoted
        self.env.filters["access_code"] = access_code

    def _as_local(self, value: str | datetime) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime in an e-mail context: {value!r}")
        return moment.astimezone(self.timezone)

    def _local_datetime(self, value: str | datetime, language: str) -> str:
        """The pages' form: "8 października 2024 r., godz. 9:30" / "8 October 2024, 9:30"."""
        language = normalize_language(language)
        moment = self._as_local(value)
        day = babel_format_datetime(moment, "d MMMM y", locale=babel_locale(language))
        if language == "pl":
            return f"{day} r., godz. {self._local_time(moment)}"
        return f"{day}, {self._local_time(moment)}"

    def _local_time(self, value: str | datetime) -> str:
        moment = self._as_local(value)
        return f"{moment.hour}:{moment.minute:02d}"

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


# --- the same message, written directly ---------------------------------------------------------------------


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 base64 words of at most 75 characters, never splitting a character's UTF-8 bytes."""
    words, chunk, size = [], [], 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > 39:  # 52 base64 characters; with "=?utf-8?b?", "?=" and "Subject: ", 73
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        words.append("".join(chunk))
    return [f"=?utf-8?b?{base64.b64encode(word.encode('utf-8')).decode('ascii')}?=" for word in words]


def _header(name: str, value: str) -> str:
    """One header, folded under 78 characters; non-ASCII text as encoded words (decoders join adjacent ones)."""
    if value.isascii():
        line, lines = f"{name}:", []
        for word in value.split(" "):
            if len(line) + 1 + len(word) > 76 and line != f"{name}:":
                lines.append(line)
                line = ""
            line += " " + word
        return "\r\n".join([*lines, line])
    return f"{name}: " + "\r\n ".join(_encoded_words(value))


def access_code(status_url: str) -> str:
    """The access code a status link carries, for the line that gives it on its own (for the status page's form,
    when a mail program breaks the link)."""
    return (parse_qs(urlsplit(status_url or "").query).get("token") or [""])[0]


@functools.lru_cache(maxsize=64)
def _envelope_sender(sender: str) -> str:
    return parseaddr(sender)[1]


@functools.lru_cache(maxsize=64)  # one sender per deployment and kind of mail: parsed once, not per message
def _from_header(sender: str) -> str | None:
    name, address = parseaddr(sender)
    if not address or not address.isascii() or "@" not in address:
        return None
    if not name:
        return f"From: {address}"
    if name.isascii():
        return _header("From", formataddr((name, address)))
    return "From: " + "\r\n ".join([*_encoded_words(name), f"<{address}>"])


def _text_part(subtype: str, text: str) -> bytes:
    body = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            .encode("ascii") + body)


def build_mail(rendered: RenderedEmail, *, sender: str, recipient: str, message_id: str,
               date: datetime | None = None) -> OutgoingMail:
    """`build_message`'s message as wire bytes, written directly (the e-mail package took ~10x the rest of a send).

    The plain multipart/alternative of text and HTML is written here; a calendar invitation, or an address
    that is not ASCII, takes `build_message` (both are rare).
    """
    from_header = _from_header(sender)
    if rendered.calendar is not None or from_header is None or not recipient.isascii() or not message_id.isascii():
        return OutgoingMail.from_message(build_message(rendered, sender=sender, recipient=recipient,
                                                       message_id=message_id, date=date))
    # '=' never occurs in quoted-printable text unescaped, so no part can contain the boundary.
    boundary = f"==============={random.getrandbits(63):019d}=="
    head = "\r\n".join([
        _header("Subject", rendered.subject), from_header, f"To: {recipient}", f"Message-ID: {message_id}",
        f"Date: {format_datetime(date or datetime.now(timezone.utc))}", "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0", f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
    ])
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    data = b"".join([head.encode("ascii"), b"\r\n", delimiter, _text_part("plain", rendered.text), delimiter,
                     _text_part("html", rendered.html), f"\r\n--{boundary}--\r\n".encode("ascii")])
    return OutgoingMail(_envelope_sender(sender), recipient, data)
