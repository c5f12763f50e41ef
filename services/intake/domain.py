"""Intake rules, free of I/O: timing of a submission, reference numbers, who the submitter is."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.addresses import names_organiser
from services.common.events import CHANNELS
from services.common.workdays import is_working_day


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


def public_unit(unit: dict) -> dict:
    """What intake keeps of one unit of the announced draft (`document.version_created`)."""
    kept = {"id": unit.get("id"), "label": unit.get("label"), "kind": unit.get("kind"),
            "parent": unit.get("parent"), "text": unit.get("text") or ""}
    if unit.get("title"):
        kept["title"] = unit["title"]
    return kept


def find_unit(units: list[dict], unit_id: str) -> dict | None:
    return next((u for u in units if unit_id and u.get("id") == unit_id), None) if unit_id else None


def draft_outline(units: list[dict]) -> list[dict]:
    """The draft's units for reading: each with its depth (0 for chapters and top-level units) and an anchor.
    Units without text (a § whose text is all in its ustępy) are kept: they carry the label people cite."""
    by_id = {u.get("id"): u for u in units}
    outline = []
    for unit in units:
        depth, parent = 0, unit.get("parent")
        while parent in by_id and depth < 8:
            if by_id[parent].get("kind") != "chapter":
                depth += 1
            parent = by_id[parent].get("parent")
        outline.append({**unit, "depth": depth, "anchor": f"j-{unit.get('id')}"})
    return outline if any(u.get("text") for u in units) else []


def letter_address(organiser: str | None, postal_address: str | None) -> str | None:
    """The address residents write on a letter: the postal address, headed by the organiser unless it names it."""
    if not postal_address or not postal_address.strip():
        return None
    address = postal_address.strip()
    if not organiser or not organiser.strip() or names_organiser(organiser, address):
        return address
    return f"{organiser.strip()}\n{address}"


# --- commands -----------------------------------------------------------------

from dataclasses import dataclass, field  # noqa: E402
from dataclasses import fields as dataclass_fields  # noqa: E402


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


CHANNEL_NAMES = CHANNELS


@dataclass(frozen=True)
class Provenance:
    """What staff record about a submission they enter by hand: who and when, and what it came from."""

    entered_by: str
    entered_at: datetime
    postmarked_on: date | None = None  # a letter's stamp: decides whether it was late
    postal_address: str | None = None
    booking_id: str | None = None
    booking_starts_at: datetime | None = None
    scan: dict | None = None  # {filename, media_type, size, sha256, key}

    def columns(self) -> dict:
        """The submission's columns that keep it."""
        return {"entered_by": self.entered_by, "entered_at": self.entered_at, "postmarked_on": self.postmarked_on,
                "postal_address": self.postal_address, "booking_id": self.booking_id, "scan": self.scan}

    def as_event(self) -> dict:
        return {"entered_by": self.entered_by, "entered_at": self.entered_at,
                "postmarked_on": self.postmarked_on.isoformat() if self.postmarked_on else None,
                "booking_id": self.booking_id, "booking_starts_at": self.booking_starts_at,
                "scan_sha256": self.scan["sha256"] if self.scan else None}


class OutcomeNotice(str, enum.Enum):
    """How submitters learn what became of their comments (events.OUTCOME_NOTICES)."""

    AT_PUBLICATION = "at_publication"  # one e-mail per submission when the report is published (the city's practice)
    PER_DECISION = "per_decision"  # an e-mail as each decision is made


@dataclass(frozen=True)
class DutyDay:
    date: date
    starts: time
    ends: time
    place: str
    booking_deadline: datetime
    slot_minutes: int = 30
    room: str = ""

    def as_json(self) -> dict:
        return {
            "date": self.date.isoformat(), "starts": self.starts.strftime("%H:%M"), "ends": self.ends.strftime("%H:%M"),
            "place": self.place, "room": self.room, "booking_deadline": self.booking_deadline.isoformat(),
            "slot_minutes": self.slot_minutes,
        }

    @classmethod
    def from_json(cls, data: dict) -> "DutyDay":
        return cls(date=date.fromisoformat(data["date"]), starts=time.fromisoformat(data["starts"]),
                   ends=time.fromisoformat(data["ends"]), place=data.get("place", ""),
                   booking_deadline=datetime.fromisoformat(data["booking_deadline"]),
                   slot_minutes=int(data.get("slot_minutes", 30)), room=data.get("room", ""))


@dataclass(frozen=True)
class ConsultationDetails:
    """Everything the announcement of a consultation says, as the coordinator enters it."""

    title: str
    opens_at: datetime
    closes_at: datetime
    stage: str = ""
    description: str = ""
    organiser: str = ""
    legal_basis: str = ""
    resolution: str = ""
    channels: tuple[str, ...] = CHANNEL_NAMES
    topics: tuple[str, ...] = ()
    duty_days: tuple[DutyDay, ...] = field(default_factory=tuple)
    contact_email: str | None = None
    contact_phone: str = ""
    postal_address: str = ""
    late_policy: LatePolicy = LatePolicy.FLAG
    decisions_need_approval: bool = True
    outcome_notice: OutcomeNotice = OutcomeNotice.AT_PUBLICATION

    def __post_init__(self) -> None:
        # One shape whatever the caller passed (lists, plain strings), so that equality means "unchanged".
        for name in ("channels", "topics", "duty_days"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "late_policy", LatePolicy(self.late_policy))
        object.__setattr__(self, "outcome_notice", OutcomeNotice(self.outcome_notice))

    def as_json(self) -> dict:
        """A JSON-ready snapshot, for events and for the before/after of the audit log."""
        return {
            "title": self.title, "stage": self.stage, "description": self.description, "organiser": self.organiser,
            "legal_basis": self.legal_basis, "resolution": self.resolution, "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(), "channels": list(self.channels), "topics": list(self.topics),
            "duty_days": [d.as_json() for d in self.duty_days], "contact_email": self.contact_email,
            "contact_phone": self.contact_phone, "postal_address": self.postal_address,
            "late_policy": LatePolicy(self.late_policy).value,
            "decisions_need_approval": self.decisions_need_approval,
            "outcome_notice": OutcomeNotice(self.outcome_notice).value,
        }


@dataclass(frozen=True)
class OpenConsultation(ConsultationDetails):
    """Create a consultation: opened (announced) at once, or kept as a draft to finish and open later."""

    draft: bool = False


# --- validation -----------------------------------------------------------------
# Problems are stable codes per field ("duty_days.1.ends": "ends_before_start"); the edges put them into words.


def validate_details(details: ConsultationDetails, tz: ZoneInfo) -> dict[str, str]:
    """What is inconsistent in a consultation's details, whatever its state."""
    problems: dict[str, str] = {}
    if details.closes_at <= details.opens_at:
        problems["closes_at"] = "before_opening"
    if len(set(details.channels)) != len(details.channels):
        problems["channels"] = "duplicate"
    if any(channel not in CHANNEL_NAMES for channel in details.channels):
        problems["channels"] = "unknown"
    if len({t.strip().casefold() for t in details.topics}) != len(details.topics):
        problems["topics"] = "duplicate"
    for index, day in enumerate(details.duty_days):
        key = f"duty_days.{index}"
        if day.ends <= day.starts:
            problems[f"{key}.ends"] = "ends_before_start"
        elif _minutes(day.starts, day.ends) < day.slot_minutes:
            problems[f"{key}.slot_minutes"] = "slot_too_long"
        if day.booking_deadline > datetime.combine(day.date, day.starts, tzinfo=tz):
            problems[f"{key}.booking_deadline"] = "booking_after_start"
    return problems


def _minutes(starts: time, ends: time) -> int:
    return (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)


def readiness_warnings(details: ConsultationDetails) -> list[str]:
    """What the announcement lacks for the channels it offers. Opening is allowed; the console warns."""
    warnings = []
    if "email" in details.channels and not details.contact_email:
        warnings.append("email_channel_without_address")
    if "letter" in details.channels and not details.postal_address.strip():
        warnings.append("letter_channel_without_address")
    if "duty_hours" in details.channels and not details.duty_days:
        warnings.append("duty_hours_without_days")
    if not details.organiser.strip():
        warnings.append("no_organiser")
    return warnings


def days_off_ahead(details: ConsultationDetails, tz: ZoneInfo, today: date) -> list[tuple[str, date]]:
    """Duty days and a deadline still ahead that fall on a weekend or a public holiday, when the office is shut.

    Allowed (a Saturday duty can be the point), so the console only warns: most often it is a date copied
    from last year that landed on 11 November, or a deadline on a Sunday that letters cannot meet."""
    found = [("duty_day_off", day.date) for day in details.duty_days
             if day.date >= today and not is_working_day(day.date)]
    deadline = details.closes_at.astimezone(tz).date()
    if deadline >= today and not is_working_day(deadline):
        found.append(("deadline_day_off", deadline))
    return found


@dataclass(frozen=True)
class ProgressFacts:
    """What intake knows of a consultation's way from draft to the City Council."""
    state: State
    warnings: int  # readiness warnings still open
    document_published: bool
    submissions: int
    comments: int  # comments on the draft (placeholders of closed mails left out)
    decided: int  # of which a decision has been approved (intake hears of it from review)
    mails_waiting: int  # e-mails still waiting for a transcription
    results_published: bool
    handed_to_council_on: date | None = None  # recorded in documents once the draft went to the City Council
    adopted_by_resolution: str = ""  # the number of the council's resolution adopting the document, once passed
    not_told: int = 0  # submissions an e-mail to came back undelivered: their senders must be written to by post


@dataclass(frozen=True)
class ProgressStep:
    key: str
    done: bool
    current: bool = False


PROGRESS_KEYS = ("announcement", "document", "open", "comments", "close", "review", "results", "council")


def progress_steps(facts: ProgressFacts) -> list[ProgressStep]:
    """The consultation's steps, each done or not, and the one to do now (the first not done): a coordinator new to
    the yearly round sees where it stands and what comes next, across the services that each own a part of it."""
    after_opening = facts.state is not State.DRAFT
    closed = facts.state in (State.CLOSED, State.IN_REVIEW, State.REPORT_PUBLISHED)
    done = {
        "announcement": facts.warnings == 0 or after_opening,
        "document": facts.document_published,
        "open": after_opening,
        # taken in: the deadline has passed and no mail waits to be read into comments
        "comments": closed and facts.mails_waiting == 0,
        "close": closed,
        "review": facts.comments > 0 and facts.decided >= facts.comments or (closed and facts.comments == 0),
        "results": facts.results_published,
        "council": facts.handed_to_council_on is not None,  # sent outside Uwagi, recorded in documents
    }
    current = next((key for key in PROGRESS_KEYS if not done[key]), None)
    return [ProgressStep(key, done[key], key == current) for key in PROGRESS_KEYS]


# --- the lifecycle ----------------------------------------------------------------


class State(str, enum.Enum):
    DRAFT = "draft"  # being prepared; not public
    OPEN = "open"  # announced; takes comments between opens_at and closes_at
    CLOSED = "closed"  # the deadline has passed (or a coordinator closed it early)
    IN_REVIEW = "in_review"  # the comments are being decided on and the report prepared
    REPORT_PUBLISHED = "report_published"  # the report and the next version are public


class Step(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"
    START_REVIEW = "start_review"
    PUBLISH_REPORT = "publish_report"
    REOPEN_REVIEW = "reopen_review"  # a correction after publication


LIFECYCLE: dict[tuple[State, Step], State] = {
    (State.DRAFT, Step.OPEN): State.OPEN,
    (State.OPEN, Step.CLOSE): State.CLOSED,
    (State.CLOSED, Step.START_REVIEW): State.IN_REVIEW,
    (State.IN_REVIEW, Step.PUBLISH_REPORT): State.REPORT_PUBLISHED,
    (State.REPORT_PUBLISHED, Step.REOPEN_REVIEW): State.IN_REVIEW,
}
# The steps a coordinator takes by hand in the console; the others follow events (see handlers).
MANUAL_STEPS = (Step.OPEN, Step.CLOSE, Step.START_REVIEW)


class LifecycleRefused(Exception):
    """A step the lifecycle does not allow now; `code` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Transition:
    step: Step
    from_state: State
    to_state: State
    reason: str
    closes_at: datetime  # unchanged, or now when a consultation is closed early


def effective_state(state: State | str, closes_at: datetime, now: datetime) -> State:
    """An open consultation is closed once its deadline passes, before the sweep records it."""
    state = State(state)
    return State.CLOSED if state is State.OPEN and now > closes_at else state


def plan_step(state: State | str, step: Step | str, *, closes_at: datetime, channels: tuple[str, ...] | list[str],
              now: datetime, reason: str = "") -> Transition:
    """Check one step of the lifecycle and say what it changes. Raises LifecycleRefused."""
    current, step, reason = effective_state(state, closes_at, now), Step(step), reason.strip()
    if State(state) is State.OPEN and current is State.CLOSED and step is Step.CLOSE:
        current = State.OPEN  # the deadline passed; the sweep (or a coordinator) records the close
    target = LIFECYCLE.get((current, step))
    if target is None:
        raise LifecycleRefused("not_allowed", f"cannot {step.value} a consultation that is {current.value}")
    if step is Step.OPEN:
        if closes_at <= now:
            raise LifecycleRefused("closes_in_past", "the closing date has passed; set a later one first")
        if not channels:
            raise LifecycleRefused("no_channels", "choose at least one way of sending comments first")
    if step is Step.CLOSE and now < closes_at and not reason:
        raise LifecycleRefused("reason_required", "closing before the deadline needs a reason")
    if step is Step.REOPEN_REVIEW and not reason:
        raise LifecycleRefused("reason_required", "reopening the review needs a reason")
    new_closes_at = min(closes_at, now) if step is Step.CLOSE else closes_at
    return Transition(step, current, target, reason, new_closes_at)


def available_steps(state: State | str, closes_at: datetime, now: datetime) -> list[Step]:
    current = effective_state(state, closes_at, now)
    steps = [step for step in MANUAL_STEPS if (current, step) in LIFECYCLE]
    if State(state) is State.OPEN and current is State.CLOSED:
        steps = [Step.CLOSE, *steps]
    return steps


# --- what may change in each state --------------------------------------------------

INFORMATIONAL = ("description", "organiser", "legal_basis", "resolution", "contact_email", "contact_phone",
                 "postal_address")
EDITABLE_AFTER_CLOSING: dict[State, tuple[str, ...]] = {
    State.CLOSED: (*INFORMATIONAL, "decisions_need_approval", "outcome_notice"),
    State.IN_REVIEW: (*INFORMATIONAL, "outcome_notice"),
    State.REPORT_PUBLISHED: INFORMATIONAL,
}
EDITABLE_FIELDS = tuple(f.name for f in dataclass_fields(ConsultationDetails))


def edit_violations(state: State | str, current: ConsultationDetails, proposed: ConsultationDetails, *,
                    now: datetime, tz: ZoneInfo) -> dict[str, str]:
    """Changes the state does not allow, by field.

    A draft may change freely. An open consultation was announced: people may
    have planned around it, and comments already refer to its topics. So the
    deadline may be extended but not shortened (close early instead, with a
    reason), channels and topics may be added but not withdrawn, the late policy
    and a start that has passed stay, and duty days that have passed stay as they
    were. After closing only what informs people (contacts, texts) may change,
    plus the policies that still lie ahead.
    """
    state = State(state)
    changed = [name for name in EDITABLE_FIELDS if getattr(current, name) != getattr(proposed, name)]
    if state is State.DRAFT:
        return {}
    if state is not State.OPEN:
        allowed = EDITABLE_AFTER_CLOSING[state]
        return {name: "frozen" for name in changed if name not in allowed}
    problems: dict[str, str] = {}
    if "late_policy" in changed:
        problems["late_policy"] = "frozen"
    if "opens_at" in changed and (current.opens_at <= now or proposed.opens_at < now):
        problems["opens_at"] = "frozen"
    if proposed.closes_at < current.closes_at:
        problems["closes_at"] = "only_extend"
    if set(current.channels) - set(proposed.channels):
        problems["channels"] = "cannot_remove"
    if {t.casefold() for t in current.topics} - {t.casefold() for t in proposed.topics}:
        problems["topics"] = "cannot_remove"
    today = now.astimezone(tz).date()
    past_before = {day for day in current.duty_days if day.date < today}
    past_after = {day for day in proposed.duty_days if day.date < today}
    if past_before != past_after:
        problems["duty_days"] = "past_day_changed"
    return problems


# What an open consultation may change only in one direction (the console shows these as hints).
OPEN_RULES = {"closes_at": "only_extend", "channels": "only_add", "topics": "only_add", "duty_days": "past_days_kept"}


def frozen_fields(state: State | str, opens_at: datetime, now: datetime) -> frozenset[str]:
    """The details that may not change at all in `state` (see `edit_violations` for the partial rules)."""
    state = State(state)
    if state is State.DRAFT:
        return frozenset()
    if state is State.OPEN:
        return frozenset({"late_policy", *(("opens_at",) if opens_at <= now else ())})
    return frozenset(EDITABLE_FIELDS) - set(EDITABLE_AFTER_CLOSING[state])


def changed_fields(before: ConsultationDetails, after: ConsultationDetails) -> dict[str, dict]:
    """The audit log's before/after of an edit."""
    old, new = before.as_json(), after.as_json()
    return {name: {"before": old[name], "after": new[name]} for name in EDITABLE_FIELDS
            if getattr(before, name) != getattr(after, name)}
