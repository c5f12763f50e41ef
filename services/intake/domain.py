"""Intake rules, free of I/O: timing of a submission, reference numbers, who the submitter is."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Timing(enum.Enum):
    NOT_YET_OPEN = "not_yet_open"
    ON_TIME = "on_time"
    LATE = "late"


class LatePolicy(str, enum.Enum):
    FLAG = "flag"  # accept and mark as late; reviewers usually decide "not considered"
    REFUSE = "refuse"


def classify_timing(received_at: datetime, opens_at: datetime, closes_at: datetime) -> Timing:
    if received_at < opens_at:
        return Timing.NOT_YET_OPEN
    if received_at > closes_at:
        return Timing.LATE
    return Timing.ON_TIME


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant of a local calendar day: "until 21 October" means 23:59:59.999999 that day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz) - timedelta(microseconds=1)


def format_reference(year: int, sequence: int) -> str:
    return f"UW/{year}/{sequence:06d}"


def submitter_kind(organization: str | None) -> str:
    return "organization" if organization and organization.strip() else "person"


def new_status_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


# --- commands -----------------------------------------------------------------

from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class Submitter:
    name: str
    email: str | None
    publish_consent: bool
    organization: str | None = None

    @property
    def kind(self) -> str:
        return submitter_kind(self.organization)


@dataclass(frozen=True)
class CommentDraft:
    section: str
    proposal: str
    current_text: str = ""
    justification: str = ""
    topic: str | None = None


@dataclass(frozen=True)
class SubmitComments:
    consultation_id: str
    submitter: Submitter
    comments: tuple[CommentDraft, ...]
    channel: str = "web"
    language: str = "pl"


@dataclass(frozen=True)
class DutyDay:
    date: date
    starts: time
    ends: time
    place: str
    booking_deadline: datetime
    slot_minutes: int = 30

    def as_json(self) -> dict:
        return {
            "date": self.date.isoformat(), "starts": self.starts.strftime("%H:%M"), "ends": self.ends.strftime("%H:%M"),
            "place": self.place, "booking_deadline": self.booking_deadline.isoformat(), "slot_minutes": self.slot_minutes,
        }


@dataclass(frozen=True)
class OpenConsultation:
    title: str
    opens_at: datetime
    closes_at: datetime
    stage: str = ""
    description: str = ""
    channels: tuple[str, ...] = ("web", "email", "letter", "duty_hours")
    topics: tuple[str, ...] = ()
    duty_days: tuple[DutyDay, ...] = field(default_factory=tuple)
    contact_email: str | None = None
    late_policy: LatePolicy = LatePolicy.FLAG
