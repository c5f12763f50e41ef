"""Booking duty hours, free of I/O: how a duty day splits into slots, and when booking is allowed.

A duty day (the announcement's "dyżur konsultacyjny") runs from `starts` to
`ends` local time and is split into slots of `slot_minutes`; each slot takes
`capacity` people (1 unless the coordinator says otherwise). Booking closes at
the day's own deadline (in the 2024 announcement: 15:30 and 15:00 the day
before), in local time, and never after the slot has begun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator

from services.intake.domain import DutyDay

DEFAULT_CAPACITY = 1
PHONE = re.compile(r"^[0-9 +()\-./]{6,30}$")


class BookingRefused(Exception):
    """A booking the rules do not allow; `code` is stable for the pages' wording and the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SlotPlan:
    """One bookable slot as the duty day defines it (times are aware, in the local zone)."""

    starts_at: datetime
    ends_at: datetime
    booking_deadline: datetime
    place: str
    room: str
    capacity: int = DEFAULT_CAPACITY


def plan_slots(day: DutyDay, tz: Any, capacity: int = DEFAULT_CAPACITY) -> list[SlotPlan]:
    """The day's slots; a last piece shorter than a slot is not offered (nobody can be seen in it)."""
    if day.slot_minutes <= 0:
        return []
    step = timedelta(minutes=day.slot_minutes)
    start = datetime.combine(day.date, day.starts, tzinfo=tz)
    end = datetime.combine(day.date, day.ends, tzinfo=tz)
    deadline = day.booking_deadline if day.booking_deadline.tzinfo else day.booking_deadline.replace(tzinfo=tz)
    return [SlotPlan(at, at + step, deadline, day.place, day.room, capacity) for at in _steps(start, end, step)]


def _steps(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    at = start
    while at + step <= end:
        yield at
        at += step


def check_open_for_booking(*, booking_deadline: datetime, starts_at: datetime, now: datetime) -> None:
    if now >= starts_at:
        raise BookingRefused("slot_past", "this slot has already begun")
    if now > booking_deadline:
        raise BookingRefused("deadline_passed", "booking for this duty day closed at its deadline")


@dataclass(frozen=True)
class BookSlot:
    consultation_id: str
    slot_id: str
    name: str
    email: str | None
    phone: str | None = None
    topic: str | None = None
    language: str = "pl"
    booked_by: str | None = None  # a staff member booking for a caller; None for the public
    mail_id: str | None = None  # the e-mail asking for it, when staff book its sender from the mail


def validate_booking(cmd: BookSlot) -> BookSlot:
    """Trim and check the person's data; staff may book for a caller without e-mail."""
    errors: dict[str, list[str]] = {}
    name = " ".join((cmd.name or "").split())
    if not name:
        errors["name"] = ["required"]
    elif len(name) > 200:
        errors["name"] = ["too_long"]
    email = (cmd.email or "").strip() or None
    if email is None and cmd.booked_by is None:
        errors["email"] = ["required"]
    elif email is not None and (len(email) > 254 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email)):
        errors["email"] = ["email"]
    phone = (cmd.phone or "").strip() or None
    if phone is not None and not PHONE.match(phone):
        errors["phone"] = ["phone"]
    topic = (cmd.topic or "").strip() or None
    if topic is not None and len(topic) > 500:
        errors["topic"] = ["too_long"]
    if errors:
        raise InvalidBooking(errors)
    return replace(cmd, name=name, email=email, phone=phone, topic=topic)


class InvalidBooking(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
