"""The consultation form of the staff console: what the coordinator typed, kept as typed, and its errors.

Dates and times are entered as local (Europe/Warsaw) dates and hours, as the
announcement states them; a closing date without an hour means "until the end
of that day". Duty days are a fixed set of rows plus one blank row; "add another"
posts the form back with one more row, so nothing needs JavaScript. Errors are
stable codes per form field (``required``, ``date`` …) that the console puts into
words; the rules themselves stay in `domain`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.intake import domain

TEXT_FIELDS = {  # form field -> longest accepted length
    "title": 300, "stage": 100, "organiser": 300, "description": 20_000, "legal_basis": 2000, "resolution": 2000,
    "contact_email": 254, "contact_phone": 50, "postal_address": 1000, "topics": 10_000,
}
DATE_FIELDS = ("opens_on", "closes_on")
TIME_FIELDS = ("opens_time", "closes_time")
CHOICES = {
    "late_policy": tuple(p.value for p in domain.LatePolicy),
    "decisions_need_approval": ("yes", "no"),
    "outcome_notice": tuple(n.value for n in domain.OutcomeNotice),
}
DAY_FIELDS = ("date", "starts", "ends", "place", "room", "slot_minutes", "booking_date", "booking_time", "remove")
MAX_DAYS = 20
_DAY_KEY = re.compile(r"^day-(\d{1,2})-(" + "|".join(DAY_FIELDS) + r")$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Which form fields show (and take) each detail: frozen details are shown as text and their inputs ignored.
FORM_FIELDS_OF = {
    "title": ("title",), "stage": ("stage",), "organiser": ("organiser",), "description": ("description",),
    "legal_basis": ("legal_basis",), "resolution": ("resolution",), "opens_at": ("opens_on", "opens_time"),
    "closes_at": ("closes_on", "closes_time"), "channels": ("channels",), "topics": ("topics",),
    "duty_days": ("duty_days",), "contact_email": ("contact_email",), "contact_phone": ("contact_phone",),
    "postal_address": ("postal_address",), "late_policy": ("late_policy",),
    "decisions_need_approval": ("decisions_need_approval",), "outcome_notice": ("outcome_notice",),
}


# A copy for the next edition moves every date by whole steps of 52 weeks: a year later on the same weekday, so
# Tuesday's duty hours stay on a Tuesday and a Monday deadline on a Monday.
EDITION_STEP = timedelta(weeks=52)
# A year stands on its own: not inside a number ("120251"), a phone number ("56 611 2025") or a reference
# ("XII/2025/24").
_YEAR = re.compile(r"(?<![\d/])(?<!\d )(20\d\d)(?![\d/])")


def editions_ahead(opens_on: date, today: date) -> int:
    """How many 52-week steps put a copied consultation's opening after today (0 if it has not opened yet)."""
    steps = 0
    while opens_on + steps * EDITION_STEP <= today:
        steps += 1
    return steps


def years_moved(text: str, years: int) -> str:
    """The years 2000–2099 in a title or description moved on: "na 2027 r." becomes "na 2028 r."."""
    if not years:
        return text
    return _YEAR.sub(lambda match: str(int(match.group(1)) + years), text)


def blank_day() -> dict[str, str]:
    return {**dict.fromkeys(DAY_FIELDS, ""), "slot_minutes": "30", "starts": "09:00", "ends": "17:00"}


@dataclass
class ConsultationForm:
    values: dict[str, str] = field(default_factory=dict)
    channels: list[str] = field(default_factory=lambda: list(domain.CHANNEL_NAMES))
    days: list[dict[str, str]] = field(default_factory=lambda: [blank_day()])
    errors: dict[str, str] = field(default_factory=dict)

    # --- building ------------------------------------------------------------------

    @classmethod
    def empty(cls) -> ConsultationForm:
        return cls(values={"opens_time": "00:00", "late_policy": "flag", "decisions_need_approval": "yes",
                           "outcome_notice": "at_publication"})

    @classmethod
    def from_details(cls, details: domain.ConsultationDetails, tz: ZoneInfo) -> ConsultationForm:
        opens, closes = details.opens_at.astimezone(tz), details.closes_at.astimezone(tz)
        end_of_day = closes == domain.end_of_day(closes.date(), tz)
        values = {
            "title": details.title, "stage": details.stage, "organiser": details.organiser,
            "description": details.description, "legal_basis": details.legal_basis, "resolution": details.resolution,
            "opens_on": opens.date().isoformat(), "opens_time": opens.strftime("%H:%M"),
            "closes_on": closes.date().isoformat(), "closes_time": "" if end_of_day else closes.strftime("%H:%M"),
            "topics": "\n".join(details.topics), "contact_email": details.contact_email or "",
            "contact_phone": details.contact_phone, "postal_address": details.postal_address,
            "late_policy": domain.LatePolicy(details.late_policy).value,
            "decisions_need_approval": "yes" if details.decisions_need_approval else "no",
            "outcome_notice": domain.OutcomeNotice(details.outcome_notice).value,
        }
        days = [{
            "date": d.date.isoformat(), "starts": d.starts.strftime("%H:%M"), "ends": d.ends.strftime("%H:%M"),
            "place": d.place, "room": d.room, "slot_minutes": str(d.slot_minutes),
            "booking_date": d.booking_deadline.astimezone(tz).date().isoformat(),
            "booking_time": d.booking_deadline.astimezone(tz).strftime("%H:%M"), "remove": "",
        } for d in details.duty_days]
        return cls(values=values, channels=list(details.channels), days=days + [blank_day()])

    @classmethod
    def next_edition(cls, details: domain.ConsultationDetails, tz: ZoneInfo,
                     today: date) -> tuple[ConsultationForm, int]:
        """A new consultation's form filled from an earlier one (last year's, as a rule), and the years it moved.

        Everything the announcement says is copied. The dates move by 52-week steps until the opening is after
        today; the years written in the title and description move by as many years. The coordinator checks
        the result before saving: nothing is saved by copying."""
        form = cls.from_details(details, tz)
        steps = editions_ahead(details.opens_at.astimezone(tz).date(), today)
        shift = steps * EDITION_STEP
        values = form.values
        for name in ("opens_on", "closes_on"):
            values[name] = (date.fromisoformat(values[name]) + shift).isoformat()
        for name in ("title", "description"):
            values[name] = years_moved(values[name], steps)
        for day in form.days:
            for name in ("date", "booking_date"):
                if day[name]:
                    day[name] = (date.fromisoformat(day[name]) + shift).isoformat()
        return form, steps

    @classmethod
    def from_request(cls, form: Mapping[str, Any]) -> ConsultationForm:
        names = (*TEXT_FIELDS, *DATE_FIELDS, *TIME_FIELDS, *CHOICES)
        values = {name: str(form.get(name, "")).strip() for name in names}
        getlist = getattr(form, "getlist", None)
        channels = [c for c in (getlist("channels") if getlist else form.get("channels", []))
                    if c in domain.CHANNEL_NAMES]
        rows: dict[int, dict[str, str]] = {}
        for key, value in form.items():
            match = _DAY_KEY.match(key)
            if match and int(match.group(1)) < MAX_DAYS:
                rows.setdefault(int(match.group(1)), dict.fromkeys(DAY_FIELDS, ""))[match.group(2)] = str(value).strip()
        days = [rows[i] for i in sorted(rows)] or [blank_day()]
        return cls(values=values, channels=channels, days=days)

    def keep_frozen(self, current: ConsultationForm, frozen: frozenset[str]) -> None:
        """Frozen details are not on the page: take them from the consultation as it is."""
        for detail in frozen:
            for name in FORM_FIELDS_OF.get(detail, ()):
                if name == "channels":
                    self.channels = list(current.channels)
                elif name == "duty_days":
                    self.days = [dict(day) for day in current.days]
                else:
                    self.values[name] = current.values.get(name, "")

    def add_day(self) -> None:
        if len(self.days) < MAX_DAYS:
            self.days.append(blank_day())

    # --- reading ---------------------------------------------------------------------

    def to_fields(self, tz: ZoneInfo, *, frozen: frozenset[str] = frozenset()) -> dict[str, Any] | None:
        """The ConsultationDetails fields the form gives (frozen details left out), or None with `errors`."""
        self.errors = {}
        v = self.values
        for name, limit in TEXT_FIELDS.items():
            if len(v.get(name, "")) > limit:
                self.errors[name] = "too_long"
        if not v.get("title"):
            self.errors["title"] = "required"
        elif len(v["title"]) < 3:
            self.errors["title"] = "too_short"
        if v.get("contact_email") and not _EMAIL.match(v["contact_email"]):
            self.errors["contact_email"] = "email"
        for name, allowed in CHOICES.items():
            if v.get(name) not in allowed:
                self.errors[name] = "required"
        opens = self._moment("opens_on", "opens_time", tz, required=True)
        closes_day = self._date("closes_on", required=True)
        closes: datetime | None = None
        if closes_day is not None:
            closes_time = self._time("closes_time")
            if closes_time is not None:
                closes = datetime.combine(closes_day, closes_time, tzinfo=tz)
            elif not v.get("closes_time"):
                closes = domain.end_of_day(closes_day, tz)
        topics = [line.strip() for line in v.get("topics", "").splitlines() if line.strip()]
        if any(len(topic) > 200 for topic in topics):
            self.errors["topics"] = "too_long"
        days = self._duty_days(tz)
        if self.errors:
            return None
        out = {
            "title": v["title"], "stage": v["stage"], "organiser": v["organiser"], "description": v["description"],
            "legal_basis": v["legal_basis"], "resolution": v["resolution"], "opens_at": opens, "closes_at": closes,
            "channels": tuple(c for c in domain.CHANNEL_NAMES if c in self.channels), "topics": tuple(topics),
            "duty_days": tuple(days), "contact_email": v["contact_email"] or None,
            "contact_phone": v["contact_phone"], "postal_address": v["postal_address"],
            "late_policy": domain.LatePolicy(v["late_policy"]),
            "decisions_need_approval": v["decisions_need_approval"] == "yes",
            "outcome_notice": domain.OutcomeNotice(v["outcome_notice"]),
        }
        return {name: value for name, value in out.items() if name not in frozen}

    def _duty_days(self, tz: ZoneInfo) -> list[domain.DutyDay]:
        """The filled-in rows as duty days; `day_index` maps each to its row for error messages."""
        days: list[domain.DutyDay] = []
        self.day_index: list[int] = []
        for row_number, row in enumerate(self.days):
            if row.get("remove") or not any(row.get(name) for name in ("date", "place", "room", "booking_date")):
                continue
            key = f"day-{row_number}-"
            day = self._date(key + "date", row.get("date", ""), required=True)
            starts = self._time(key + "starts", row.get("starts", ""), required=True)
            ends = self._time(key + "ends", row.get("ends", ""), required=True)
            if not row.get("place"):
                self.errors[key + "place"] = "required"
            elif len(row["place"]) > 300:
                self.errors[key + "place"] = "too_long"
            if len(row.get("room", "")) > 100:
                self.errors[key + "room"] = "too_long"
            slot = row.get("slot_minutes", "") or "30"
            if not slot.isdecimal() or not 5 <= int(slot) <= 240:
                self.errors[key + "slot_minutes"] = "slot_range"
            booking_day = self._date(key + "booking_date", row.get("booking_date", ""), required=True)
            booking_time = self._time(key + "booking_time", row.get("booking_time", ""), required=True)
            if None in (day, starts, ends, booking_day, booking_time) or key + "place" in self.errors \
                    or key + "slot_minutes" in self.errors:
                continue
            days.append(domain.DutyDay(date=day, starts=starts, ends=ends, place=row["place"], room=row.get("room", ""),
                                       booking_deadline=datetime.combine(booking_day, booking_time, tzinfo=tz),
                                       slot_minutes=int(slot)))
            self.day_index.append(row_number)
        return days

    def _date(self, key: str, raw: str | None = None, *, required: bool = False) -> date | None:
        raw = self.values.get(key, "") if raw is None else raw
        if not raw:
            if required:
                self.errors[key] = "required"
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[key] = "date"
            return None

    def _time(self, key: str, raw: str | None = None, *, required: bool = False) -> time | None:
        raw = self.values.get(key, "") if raw is None else raw
        if not raw:
            if required:
                self.errors[key] = "required"
            return None
        try:
            return time.fromisoformat(raw.replace(".", ":"))
        except ValueError:
            self.errors[key] = "time"
            return None

    def _moment(self, date_key: str, time_key: str, tz: ZoneInfo, *, required: bool) -> datetime | None:
        day = self._date(date_key, required=required)
        hour = self._time(time_key) if self.values.get(time_key) else time(0)
        if day is None or hour is None:
            return None
        return datetime.combine(day, hour, tzinfo=tz)

    # --- problems found by the domain --------------------------------------------------

    def add_domain_problems(self, problems: Mapping[str, str]) -> None:
        """Put the domain's codes ("duty_days.1.ends", "closes_at" …) on the form fields they concern."""
        plain = {"opens_at": "opens_on", "closes_at": "closes_on"}
        day_fields = {"booking_deadline": "booking_date"}
        for name, code in problems.items():
            parts = name.split(".")
            if parts[0] == "duty_days" and len(parts) == 3 and parts[1].isdecimal():
                index = int(parts[1])
                row = self.day_index[index] if index < len(getattr(self, "day_index", [])) else index
                self.errors[f"day-{row}-{day_fields.get(parts[2], parts[2])}"] = code
            else:
                self.errors[plain.get(name, name)] = code
