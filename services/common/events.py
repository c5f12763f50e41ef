"""The event envelope and the contract of every (type, version) on the bus.

Producers and consumers validate against the same marshmallow schemas, so a
payload that breaks a contract is refused where it is written (the outbox) and
dead-lettered where it is read. Payload changes are additive; a breaking change
is a new version registered next to the old one, with an upcaster.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Sequence

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from services.common.bulk import id_stream



_CONTRACT_EMAIL = validate.Email()  # what fields.Email of the contracts below accepts


def is_contract_email(address: str) -> bool:
    """Whether an event's e-mail field would take `address`: producers check what they did not validate themselves
    (a mail's From:, a spreadsheet's cell) before putting it in a payload."""
    try:
        _CONTRACT_EMAIL(address)
    except ValidationError:
        return False
    return True

class ContractError(ValueError):
    """An envelope or payload does not satisfy its contract (permanent: dead-letter it)."""


class UnknownEvent(ContractError):
    """No contract is registered for this (type, version)."""


# Files a publication makes public: the report in three formats, and the new version clean and tracked.
PUBLISHED_FILE_KINDS = ("report_docx", "report_xlsx", "report_csv", "version_clean", "version_tracked")
DECISIONS = ("accepted", "partially_accepted", "rejected", "not_considered")
CHANNELS = ("web", "email", "letter", "duty_hours")
OUTCOME_NOTICES = ("at_publication", "per_decision")
CONSULTATION_STATES = ("open", "closed", "in_review", "report_published")  # drafts are never announced


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True, validate=validate.Length(min=1, max=40))
    correlation_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    data = fields.Dict(required=True)


class _Payload(Schema):
    class Meta:
        # Additive evolution: consumers ignore fields newer producers add.
        unknown = EXCLUDE


class SubmitterSchema(_Payload):
    name = fields.String(required=True)
    organization = fields.String(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)
    publish_consent = fields.Boolean(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["person", "organization"]))


class SubmittedCommentSchema(_Payload):
    comment_id = fields.String(required=True)
    number = fields.Integer(required=True)
    section = fields.String(required=True)
    current_text = fields.String(load_default="")
    proposal = fields.String(required=True)
    justification = fields.String(load_default="")
    topic = fields.String(load_default=None, allow_none=True)


class ProvenanceSchema(_Payload):
    """Who put a submission into the system, and from what: staff enter letters and duty-hour notes by hand."""

    entered_by = fields.String(load_default=None, allow_none=True, metadata={"description": "staff e-mail"})
    entered_at = fields.AwareDateTime(load_default=None, allow_none=True)
    postmarked_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "a letter's postmark (or receipt) date, which decided whether it was late"})
    booking_id = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the duty-hour booking the conversation took place in"})
    booking_starts_at = fields.AwareDateTime(load_default=None, allow_none=True)
    scan_sha256 = fields.String(load_default=None, allow_none=True, metadata={"description": "the stored scan"})


class SubmissionReceivedV1(_Payload):
    submission_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    consultation_title = fields.String(required=True)
    reference = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    received_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(required=True)
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))
    status_url = fields.String(required=True)
    submitter = fields.Nested(SubmitterSchema, required=True)
    comments = fields.List(fields.Nested(SubmittedCommentSchema), required=True, validate=validate.Length(min=1))
    # Added with e-mail intake: the comments are a placeholder (a scan, a PDF, a mail's body) that staff must
    # transcribe from the stored mail before deciding.
    needs_review = fields.Boolean(load_default=False)
    # Added with letters and duty-hour notes (additive): absent for what residents send themselves.
    provenance = fields.Nested(ProvenanceSchema, load_default=None, allow_none=True)
    # Added with signed forms by e-mail (additive): absent when nothing came signed.
    signed_by = fields.List(fields.String(validate=validate.Length(max=300)), load_default=list, metadata={
        "description": "who signed the files the submission came in electronically (a qualified signature, "
                       "gov.pl's podpis zaufany, a signed Word file), as the signatures name them; Uwagi does "
                       "not verify signatures"})


class SubmissionTranscribedV1(SubmissionReceivedV1):
    """Staff transcribed a `needs_review` submission (a scanned letter, a PDF or a mail's body sent by e-mail).

    The payload is the submission as `submission.received` describes it, with its comments as transcribed:
    the first keeps the placeholder comment's id (its text replaced), the others are new. A consumer
    updates the comments it knows and adds the rest, unless it holds a newer `revision` of them (a correction
    applied first): a redelivery, or one arriving after a correction, changes nothing. Chosen over a
    `submission.received` revision so that consumers which only ever add (the receipt e-mail) are not asked to
    tell a revision from a new submission.
    """

    transcribed_by = fields.String(required=True)
    transcribed_at = fields.AwareDateTime(required=True)
    # Added with corrections (additive): the submission's `comments_revision` (1 as received, 2 once
    # transcribed, +1 with each `submission.corrected`). A consumer keeps the comments of the highest revision:
    # one that comes after a newer correction changes nothing. Absent from older producers: the first transcription.
    revision = fields.Integer(load_default=2, strict=True, validate=validate.Range(min=2))
    # Added with the copy of registered comments (additive): staff asked that the sender be sent the comments as
    # they now stand in the register (notify, once per revision, to the address the receipt went to). Absent from
    # older producers: no e-mail, as before.
    tell_sender = fields.Boolean(load_default=False)


class SubmissionCorrectedV1(SubmissionTranscribedV1):
    """Staff corrected the comments of a submission they entered (a letter, duty-hour notes, a transcribed
    e-mail) before any decision on it reached intake: a typo, a row read into the wrong field, a comment entered
    twice. The payload is the whole submission as it now stands, with a higher `revision`: `comments` are all its
    comments (the changed, the unchanged and the added ones, under new ids), and `removed_comment_ids` those staff
    removed. A consumer that holds a newer revision ignores it; one that has not seen the submission retries it.
    `transcribed_by`/`transcribed_at` name who corrected it and when. The sender's own words (a web form, a form
    read from an e-mail) are never corrected."""

    removed_comment_ids = fields.List(fields.String(), load_default=list)


DISMISSAL_REASONS = ("question", "booking", "reply", "other")


class SubmissionDismissedV1(_Payload):
    """Staff found no comments on the draft in a `needs_review` e-mail (a question, a request to book a duty
    hour, a thank-you for the receipt): its placeholder comments are no comments. Review, documents and notify
    drop them from their read models (a placeholder awaiting transcription has no decision: review refuses one);
    an event that comes before the submission is retried until it has landed."""

    submission_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    reference = fields.String(required=True)
    comment_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True, validate=validate.OneOf(DISMISSAL_REASONS))
    note = fields.String(load_default="")
    dismissed_by = fields.String(required=True)
    dismissed_at = fields.AwareDateTime(required=True)


CONSENT_CHANGED_VIA = ("status_page", "staff")


class SubmissionConsentChangedV1(_Payload):
    """The submitter withdrew (or gave) their consent to publish their name: on their status page, or staff
    recorded it from a letter or an e-mail. `publish_consent` is the consent as it now stands; `revision` is
    1 as received, +1 with each change, so a consumer keeps the highest and ignores one that arrives late. The
    report names the person only with consent (an organisation is always named); a publication made before a
    withdrawal is published again without the name. One that comes before the submission is retried."""

    submission_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    reference = fields.String(required=True)
    publish_consent = fields.Boolean(required=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=2))
    changed_at = fields.AwareDateTime(required=True)
    via = fields.String(required=True, validate=validate.OneOf(CONSENT_CHANGED_VIA))


class SubmissionEmailCorrectedV1(_Payload):
    """Staff corrected the submitter's e-mail address (a typo on a letter, a closed mailbox: the person phoned or
    wrote), or removed it (`email` None: they are written to by post). `revision` is 1 as received, +1 with each
    correction; a consumer keeps the highest. Notify sends what came back undelivered to the new address once, and
    every later e-mail about the submission goes there. One that comes before the submission is retried."""

    submission_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    reference = fields.String(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=2))
    corrected_at = fields.AwareDateTime(required=True)


class SubmissionReopenedV1(SubmissionReceivedV1):
    """Staff reopened an e-mail they had closed as holding no comments (`submission.dismissed`): it waits for a
    transcription again. The payload is the submission as `submission.received` describes it, `needs_review`
    set, with one new placeholder comment (a new id, the dismissed placeholder's text) and the ids of the
    dismissed placeholders. Review and documents add the placeholder as a new comment; notify knows it, with the
    status link the receipt gave, and sends nothing. Review retries an event that comes before the dismissal
    has landed, so that the dismissed and the new placeholder are never listed together."""

    dismissed_comment_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    reopened_by = fields.String(required=True)
    reopened_at = fields.AwareDateTime(required=True)


class ConsultationPublishedV1(_Payload):
    consultation_id = fields.String(required=True)
    title = fields.String(required=True)
    stage = fields.String(load_default="")
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    topics = fields.List(fields.String(), load_default=list)
    channels = fields.List(fields.String(), load_default=list)
    contact_email = fields.String(load_default=None, allow_none=True)
    duty_days = fields.List(fields.Dict(), load_default=list, metadata={
        "description": "{date, starts, ends, place, room, booking_deadline, slot_minutes}; starts/ends local."})
    late_policy = fields.String(load_default="flag")
    # Added with the consultation console. The event is re-emitted on every edit and lifecycle step of a
    # published consultation with a higher `revision`: a consumer keeps the snapshot with the highest one.
    organiser = fields.String(load_default="")
    legal_basis = fields.String(load_default="")
    resolution = fields.String(load_default="", metadata={"description": "The resolution that governs consultations."})
    contact_phone = fields.String(load_default="")
    postal_address = fields.String(load_default="", metadata={"description": "Where letters with comments go."})
    decisions_need_approval = fields.Boolean(load_default=True, metadata={
        "description": "A reviewer's decision is a proposal until a coordinator approves it."})
    outcome_notice = fields.String(load_default="at_publication", validate=validate.OneOf(OUTCOME_NOTICES), metadata={
        "description": "at_publication: one e-mail per submission when the report is published; "
                       "per_decision: an e-mail per decision."})
    state = fields.String(load_default="open", validate=validate.OneOf(CONSULTATION_STATES))
    revision = fields.Integer(load_default=1)


class CommentDecidedV1(_Payload):
    comment_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    reference = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    justification = fields.String(load_default="")
    final_text = fields.String(load_default=None, allow_none=True)
    decided_by = fields.String(required=True)
    decided_at = fields.AwareDateTime(required=True)
    revision = fields.Integer(load_default=1)
    # Who approved this revision (the decider when no approval was needed); absent from older producers.
    approved_by = fields.String(load_default=None, allow_none=True)
    approved_at = fields.AwareDateTime(load_default=None, allow_none=True)


class ReviewCompletedV1(_Payload):
    consultation_id = fields.String(required=True)
    completed_at = fields.AwareDateTime(required=True)
    completed_by = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), load_default=dict)


class ReviewReopenedV1(_Payload):
    consultation_id = fields.String(required=True)
    reopened_at = fields.AwareDateTime(required=True)
    reopened_by = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))


class BookingV1(_Payload):
    booking_id = fields.String(required=True)
    consultation_id = fields.String(required=True)
    slot_starts_at = fields.AwareDateTime(required=True)
    slot_ends_at = fields.AwareDateTime(required=True)
    place = fields.String(load_default="")
    name = fields.String(required=True)
    email = fields.Email(required=True)
    language = fields.String(load_default="pl")
    # Added later (additive): what the e-mail and its calendar invitation need to stand on their own.
    room = fields.String(load_default="")
    topic = fields.String(load_default="")
    consultation_title = fields.String(load_default="")
    organiser = fields.String(load_default="")
    contact_email = fields.String(load_default="")
    cancel_url = fields.String(load_default="")


class DocumentVersionCreatedV1(_Payload):
    document_id = fields.String(required=True)
    version = fields.Integer(required=True)
    consultation_id = fields.String(load_default=None, allow_none=True)
    title = fields.String(load_default="")
    sha256 = fields.String(load_default=None, allow_none=True)
    # Each unit: {id, label, kind, parent, text}; `parent` and `text` are additive (older events lack them).
    units = fields.List(fields.Dict(), load_default=list)
    parent_version = fields.Integer(load_default=None, allow_none=True)
    comment_refs = fields.List(fields.String(), load_default=list)
    # Added for the public consultation page: the announced draft's clean DOCX, downloadable without a token.
    clean_url = fields.String(load_default="")


class PublishedFileSchema(_Payload):
    """One published file, downloadable without a token at `public_url`."""

    artifact_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PUBLISHED_FILE_KINDS))
    media_type = fields.String(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    public_url = fields.String(required=True)


class ReportPublishedV1(_Payload):
    consultation_id = fields.String(required=True)
    build_id = fields.String(required=True)
    sha256 = fields.String(required=True)
    download_url = fields.String(required=True)
    exports = fields.List(fields.Dict(), load_default=list)
    # Added with the console's publishing step (additive; older producers leave them out).
    publication_id = fields.String(load_default=None, allow_none=True)
    published_at = fields.AwareDateTime(load_default=None, allow_none=True)
    published_by = fields.String(load_default=None, allow_none=True)
    consultation_title = fields.String(load_default="")
    document_id = fields.String(load_default=None, allow_none=True)
    document_version = fields.Integer(load_default=None, allow_none=True)
    files = fields.List(fields.Nested(PublishedFileSchema), load_default=list)


class CouncilHandoverRecordedV1(_Payload):
    """Documents recorded (or corrected) when the draft resolution with the document after the consultation went to
    the City Council. Consumers keep the highest `revision` per consultation."""

    consultation_id = fields.String(required=True)
    handed_over_on = fields.Date(required=True)
    letter_reference = fields.String(load_default="", validate=validate.Length(max=200))  # the letter's sign
    print_number = fields.String(load_default="", validate=validate.Length(max=100))  # the council's "druk nr"
    # Added with the council's resolution (additive): absent or null until the council has adopted the document.
    adopted_on = fields.Date(load_default=None, allow_none=True)
    resolution_number = fields.String(load_default="", validate=validate.Length(max=100))  # "XII/123/24"
    revision = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    recorded_by = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)


class NotificationOutcomeV1(_Payload):
    notification_id = fields.String(required=True)
    cause_event_id = fields.String(required=True)
    template = fields.String(required=True)
    error = fields.String(load_default=None, allow_none=True)


class FailedRecipientSchema(_Payload):
    # As the mail server wrote it (lower case): a forwarding address may bounce at another address than ours
    address = fields.String(required=True, validate=validate.Length(min=3, max=254))
    status = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[245]\.\d{1,3}\.\d{1,3}$"))
    diagnostic = fields.String(load_default="", validate=validate.Length(max=500))


class MailDeliveryFailedV1(_Payload):
    """Intake's mailbox received a mail server's report that a message sent from it could not be delivered (a
    bounce: RFC 3464 or a server's letter). `original_message_id` is the failed message's Message-ID as the report
    returned it (angle brackets included), None when the report left it out; notify matches it to what it sent,
    else the newest message it sent to one of the addresses. A warning that delivery is only delayed is not sent."""

    mail_id = fields.String(required=True)
    received_at = fields.AwareDateTime(required=True)
    original_message_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=998))
    recipients = fields.List(fields.Nested(FailedRecipientSchema), required=True,
                             validate=validate.Length(min=1, max=50))


class NotificationBouncedV1(NotificationOutcomeV1):
    """A message notify sent was reported undeliverable (from `mail.delivery_failed`): the submitter or booker has
    not been told. `reference` or `booking_id` says what it was about; `error` holds the status code and the
    server's words. Intake shows it to the clerk beside the submission or booking."""

    recipient = fields.String(required=True)
    subject = fields.String(load_default="")
    bounced_at = fields.AwareDateTime(required=True)
    reference = fields.String(load_default=None, allow_none=True)
    booking_id = fields.String(load_default=None, allow_none=True)


STAFF_ROLES = ("reviewer", "coordinator", "admin")


class StaffChangedV1(_Payload):
    """A staff user was created or changed. Every service keeps the latest generation per user and refuses
    tokens and sessions issued for an older one (a role change, deactivation or new password revokes them)."""

    user_id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(load_default="")
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    active = fields.Boolean(required=True)
    generation = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class StaffPasswordLinkV1(_Payload):
    """Review asks notify to e-mail a staff user a one-time link to set a password (invitation or reset)."""

    link_id = fields.String(required=True)
    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    purpose = fields.String(required=True, validate=validate.OneOf(["invite", "reset"]))
    url = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))


DIGEST_KINDS = ("transcription", "assigned", "returned", "approvals", "unassigned", "complete")


class DigestLineSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    consultation_id = fields.String(required=True)
    title = fields.String(required=True)
    # transcription: e-mails waiting for staff to read their comments into the register (intake's mail pages);
    # assigned: comments assigned to the user awaiting a decision; returned: the user's decisions a coordinator
    # returned; approvals: decisions awaiting a coordinator's approval; unassigned: comments with no reviewer;
    # complete: every comment decided, the review can be completed (count: the comments)
    kind = fields.String(required=True, validate=validate.OneOf(DIGEST_KINDS))
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    url = fields.String(required=True)  # the console page where the work is done


class StaffDigestV1(_Payload):
    """Review's morning summary for one staff user of the work waiting for them; sent on working days only when
    there is something to do. One per user and day (`day`, local)."""

    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default="")
    day = fields.Date(required=True)
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))
    lines = fields.List(fields.Nested(DigestLineSchema), required=True, validate=validate.Length(min=1))
    console_url = fields.String(required=True)  # the review dashboard
    settings_url = fields.String(required=True)  # where the user turns the digest off


CONTRACTS: dict[tuple[str, int], type[Schema]] = {
    ("consultation.published", 1): ConsultationPublishedV1,
    ("submission.received", 1): SubmissionReceivedV1,
    ("submission.transcribed", 1): SubmissionTranscribedV1,
    ("submission.dismissed", 1): SubmissionDismissedV1,
    ("submission.reopened", 1): SubmissionReopenedV1,
    ("submission.corrected", 1): SubmissionCorrectedV1,
    ("submission.consent_changed", 1): SubmissionConsentChangedV1,
    ("submission.email_corrected", 1): SubmissionEmailCorrectedV1,
    ("booking.confirmed", 1): BookingV1,
    ("booking.cancelled", 1): BookingV1,
    ("booking.reminder", 1): BookingV1,
    ("comment.decided", 1): CommentDecidedV1,
    ("consultation.review_completed", 1): ReviewCompletedV1,
    ("consultation.review_reopened", 1): ReviewReopenedV1,
    ("document.version_created", 1): DocumentVersionCreatedV1,
    ("report.published", 1): ReportPublishedV1,
    ("council.handover_recorded", 1): CouncilHandoverRecordedV1,
    ("notification.sent", 1): NotificationOutcomeV1,
    ("notification.failed", 1): NotificationOutcomeV1,
    ("notification.bounced", 1): NotificationBouncedV1,
    ("mail.delivery_failed", 1): MailDeliveryFailedV1,
    ("staff.changed", 1): StaffChangedV1,
    ("staff.password_link", 1): StaffPasswordLinkV1,
    ("staff.digest", 1): StaffDigestV1,
}
LATEST_VERSION: dict[str, int] = {}
for _type, _version in CONTRACTS:
    LATEST_VERSION[_type] = max(_version, LATEST_VERSION.get(_type, 0))

# (type, from_version) -> function turning a payload of from_version into from_version + 1.
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


@dataclass(frozen=True)
class Event:
    """A validated envelope. `data` has passed its (type, version) schema."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    producer: str
    data: Mapping[str, Any]
    correlation_id: str | None = None

    def to_envelope(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "version": self.version, "occurred_at": self.occurred_at.isoformat(),
                "producer": self.producer, "correlation_id": self.correlation_id, "data": _json_ready(self.data)}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Set by the test suite (tests/conftest.py): every emitted payload is checked against its contract, also on
# the paths that skip the check in production.
VALIDATE_ALL_PRODUCERS = False


@functools.lru_cache(maxsize=None)
def _schema(schema_cls: type[Schema]) -> Schema:
    """One instance per contract: a schema keeps no state between loads, and building one (its fields copied
    from the class, nested schemas too) cost more than the load itself on every event a consumer takes."""
    return schema_cls()


def _validate_payload(event_type: str, version: int, data: Mapping[str, Any]) -> dict:
    schema_cls = CONTRACTS.get((event_type, version))
    if schema_cls is None:
        raise UnknownEvent(f"no contract for {event_type} v{version}")
    try:
        return _schema(schema_cls).load(dict(data))
    except ValidationError as exc:
        raise ContractError(f"{event_type} v{version} payload invalid: {exc.messages}") from None


def new_envelope(
    event_type: str,
    data: Mapping[str, Any],
    *,
    producer: str,
    correlation_id: str | None = None,
    version: int | None = None,
    occurred_at: datetime | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Build a JSON-ready envelope, validating the payload against its contract.

    `validate=False` is for hot paths whose payload is built only from input a request schema has already
    checked: consumers validate every envelope anyway (`parse_envelope`), and the test suite turns the check
    back on for every producer (`VALIDATE_ALL_PRODUCERS`), so a payload that breaks its contract fails a test.
    """
    version = version or LATEST_VERSION.get(event_type, 1)
    if validate or VALIDATE_ALL_PRODUCERS:
        _validate_payload(event_type, version, data)
    elif (event_type, version) not in CONTRACTS:
        raise UnknownEvent(f"no contract for {event_type} v{version}")
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": (occurred_at or utcnow()).isoformat(),
        "producer": producer,
        "correlation_id": correlation_id,
        "data": _json_ready(data),
    }
    return envelope


def payload_shape(value: Any) -> Any:
    """The structure of a payload: its keys, nesting and value types, not its values."""
    kind = type(value)
    if kind is dict or (kind not in _SCALARS and isinstance(value, Mapping)):
        return tuple(sorted((str(k), payload_shape(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("list", frozenset(payload_shape(v) for v in value))
    return kind.__name__


_SCALARS = frozenset({str, int, float, bool, type(None), datetime})


def new_envelopes(event_type: str, payloads: Iterable[Mapping[str, Any]], *, producer: str,
                  correlation_ids: Sequence[str | None] | None = None, occurred_at: datetime | None = None,
                  shape_of: Callable[[Mapping[str, Any]], Hashable] = payload_shape) -> Iterator[dict[str, Any]]:
    """Many envelopes of one type, lazily (a bulk import streams them into the outbox as they are built): the
    contract is run on the first payload of each shape, and every other payload must have one of the shapes
    that passed.

    `shape_of` may be a cheaper key than `payload_shape` when the caller builds every payload the same way
    and knows what can vary (which fields can be None): it must tell apart every payload shape it produces.
    What a shape cannot see are value rules (one of a list, an e-mail's form); a caller of this function
    must check those for every payload with the contract's own validators, as the bulk import does. Under
    the test suite (`VALIDATE_ALL_PRODUCERS`) every payload is validated in full.
    """
    version = LATEST_VERSION.get(event_type, 1)
    if (event_type, version) not in CONTRACTS:
        raise UnknownEvent(f"no contract for {event_type} v{version}")
    plain: dict[Hashable, bool] = {}  # shape → already JSON-ready (no datetimes, tuples or other mappings)
    at = (occurred_at or utcnow()).isoformat()
    ids = id_stream()
    for index, data in enumerate(payloads):
        shape = shape_of(data)
        if shape not in plain or VALIDATE_ALL_PRODUCERS:
            _validate_payload(event_type, version, data)
            plain[shape] = _json_ready(data) == data and "datetime" not in repr(shape)
        yield {"id": next(ids), "type": event_type, "version": version, "occurred_at": at,
               "producer": producer, "correlation_id": correlation_ids[index] if correlation_ids is not None else None,
               "data": data if plain[shape] else _json_ready(data)}


def _json_ready(value: Any) -> Any:
    kind = type(value)  # the common types first: isinstance against typing's Mapping is slow in bulk
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def parse_envelope(raw: Any) -> Event:
    """Validate a received envelope and its payload; upcast old versions. Raises ContractError."""
    if not isinstance(raw, Mapping):
        raise ContractError("envelope is not a JSON object")
    try:
        envelope = _schema(EnvelopeSchema).load(dict(raw))
    except ValidationError as exc:
        raise ContractError(f"envelope invalid: {exc.messages}") from None
    event_type, version, data = envelope["type"], envelope["version"], dict(envelope["data"])
    if (event_type, version) not in CONTRACTS:
        raise UnknownEvent(f"no contract for {event_type} v{version}")
    data = _validate_payload(event_type, version, data)
    latest = LATEST_VERSION[event_type]
    while version < latest:
        upcast = UPCASTERS.get((event_type, version))
        if upcast is None:
            break
        data = _validate_payload(event_type, version + 1, _json_ready(upcast(dict(data))))
        version += 1
    return Event(
        id=str(envelope["id"]),
        type=event_type,
        version=version,
        occurred_at=envelope["occurred_at"],
        producer=envelope["producer"],
        data=data,
        correlation_id=envelope.get("correlation_id"),
    )
