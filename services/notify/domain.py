"""Notify rules, free of I/O: which templates exist, how a cause is keyed, decisions in words, retry limits."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from typing import Any, Mapping

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"


class Template(str, enum.Enum):
    """One per kind of e-mail; the value is the folder under `templates/`."""

    SUBMISSION_RECEIPT = "submission_receipt"
    COMMENT_DECISION = "comment_decision"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_REMINDER = "booking_reminder"
    STAFF_PASSWORD_LINK = "staff_password_link"
    # One e-mail per submission when the report is published: every comment's outcome.
    OUTCOME_SUMMARY = "outcome_summary"
    # A decision changed after the outcome was told.
    OUTCOME_CORRECTION = "outcome_correction"
    # Staff transcribed or corrected the sender's comments and asked to send them as now registered.
    COMMENTS_REGISTERED = "comments_registered"
    # Review's morning summary for a staff user of the work waiting for them.
    STAFF_DIGEST = "staff_digest"
    # The submitter's consent to publish their name changed (on their status page, or recorded by staff).
    CONSENT_CHANGED = "consent_changed"


class NotificationStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a mailer (`claim_key`)
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"  # sent, then reported undeliverable by a mail server (`mail.delivery_failed`)


STATUSES = tuple(s.value for s in NotificationStatus)
TEMPLATES = tuple(t.value for t in Template)

# What the city tells a submitter about each decision, in the words of the official report form.
DECISION_WORDS: dict[str, dict[str, str]] = {
    "pl": {
        "accepted": "uwzględniona",
        "partially_accepted": "uwzględniona częściowo",
        "rejected": "nieuwzględniona",
        "not_considered": "nierozpatrzona",
    },
    "en": {
        "accepted": "accepted",
        "partially_accepted": "partially accepted",
        "rejected": "rejected",
        "not_considered": "not considered",
    },
}

# One first try plus five retries. The row counts attempts, so no restart makes the bound endless.
MAX_RETRIES = 5
MAX_DELIVERY_ATTEMPTS = MAX_RETRIES + 1

# The backoff after a transient failure doubles from this (10, 20, 40, 80, 160 s, each between half and all of
# it): it rides out a mail server restart, where retrying within a second would give up within half a minute.
RETRY_BASE = timedelta(seconds=10)
RETRY_MAX = timedelta(minutes=10)


def retry_delay(attempts_made: int, random_fraction: float) -> timedelta:
    """How long a deferred notification waits; `random_fraction` in [0, 1) spreads retries of a burst apart."""
    ceiling = min(RETRY_MAX, RETRY_BASE * 2 ** max(0, attempts_made - 1))
    return ceiling * (0.5 + 0.5 * random_fraction)


# Context values that open something (a one-time password link): kept only until the message is settled,
# so the delivery log never holds a usable link.
SECRET_CONTEXT_KEYS: dict[str, tuple[str, ...]] = {Template.STAFF_PASSWORD_LINK.value: ("url",)}
REDACTED = "(removed after sending)"


def without_secrets(template: str, context: dict) -> dict:
    secrets = SECRET_CONTEXT_KEYS.get(template, ())
    return {key: (REDACTED if key in secrets else value) for key, value in context.items()}


def normalize_language(language: str | None) -> str:
    """Producers may send anything here (booking's field is free text); fall back to Polish."""
    value = (language or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def decision_in_words(decision: str, language: str) -> str:
    try:
        return DECISION_WORDS[normalize_language(language)][decision]
    except KeyError:
        raise ValueError(f"unknown decision {decision!r}") from None


OFFICE_FIELDS = ("organiser", "contact_email", "contact_phone", "postal_address")


def office_from(announcement: Mapping[str, Any]) -> dict[str, str]:
    """What the e-mails of a consultation say about the office running it, from `consultation.published`."""
    return {name: " ".join(str(announcement.get(name) or "").split()) if name != "postal_address"
            else str(announcement.get(name) or "").strip() for name in OFFICE_FIELDS}


def sender_for(context: Mapping[str, Any], fallback: str) -> str:
    """The From of a message: the consultation's contact address (named after the office), else UWAGI_MAIL_FROM.

    Replies then reach the people running the consultation rather than an unread mailbox.
    """
    office = context.get("office") or {}
    address = (office.get("contact_email") or "").strip()
    if not address or "@" not in address or any(c in address for c in "\r\n<>,;\""):
        return fallback
    try:
        return str(Address(display_name=office.get("organiser") or "", addr_spec=address))
    except (ValueError, IndexError):  # not an address the header parser accepts
        return fallback


def normalize_recipient(address: str) -> str:
    return address.strip()


@dataclass(frozen=True)
class Cause:
    """What happened that deserves one e-mail: an event type and the business id it concerns.

    Keyed by the business identity rather than the envelope id, so that the same
    fact published twice (a producer retrying with a fresh event id) still
    sends one e-mail. `revision` separates later decisions on the same comment.
    """

    event_type: str
    subject_id: str
    revision: int | None = None

    def key(self, template: Template, recipient: str) -> str:
        subject = self.subject_id if self.revision is None else f"{self.subject_id}@{self.revision}"
        # E-mail addresses are compared case-insensitively here: "Anna@X.pl" and
        # "anna@x.pl" reach the same person and must not get two copies.
        return f"{self.event_type}:{subject}:{template.value}:{normalize_recipient(recipient).lower()}"


def readdressed(cause_key: str, recipient: str) -> str:
    """The key of the same cause for another address (`Cause.key` ends with the address; addresses hold no ':')."""
    return f"{cause_key.rsplit(':', 1)[0]}:{normalize_recipient(recipient).lower()}"


# The right-hand side of our Message-IDs. It is fixed rather than taken from
# UWAGI_MAIL_FROM because the id is written with the row inside the consumer's
# transaction, where no settings are at hand, and must never change afterwards.
MESSAGE_ID_DOMAIN = "notify.uwagi"


def message_id_for(cause_key: str) -> str:
    """A Message-ID that depends only on the cause, stored with the row before any send.

    Delivery is at least once: if the process dies after the SMTP server
    accepted a message but before the row is marked sent, the message is sent
    again. Because the resend carries the same Message-ID, mail servers and
    clients that deduplicate on it show one message, and an operator can match
    both copies to one notification row.
    """
    digest = hashlib.sha256(cause_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def should_send_decision(revision: int, last_notified_revision: int) -> bool:
    """Only a newer revision is news: a redelivery or a stale one arriving late is not mailed."""
    return revision > last_notified_revision


AT_PUBLICATION = "at_publication"
PER_DECISION = "per_decision"
OUTCOME_NOTICES = (AT_PUBLICATION, PER_DECISION)


class DecisionMail(str, enum.Enum):
    """What a decision on a comment calls for, by the consultation's choice of how the outcome is told."""

    DECISION = "decision"  # per_decision: the decision itself, as it is taken
    CORRECTION = "correction"  # at_publication, after publication: the outcome the submitter was told changed
    WAIT = "wait"  # at_publication, before publication: the summary e-mail will carry it
    NONE = "none"  # nothing new: a redelivery or a stale revision


def decision_mail(*, outcome_notice: str, published: bool, revision: int, last_notified_revision: int) -> DecisionMail:
    if not should_send_decision(revision, last_notified_revision):
        return DecisionMail.NONE
    if outcome_notice == PER_DECISION:
        return DecisionMail.DECISION
    return DecisionMail.CORRECTION if published else DecisionMail.WAIT


def summary_comments(comments: list[dict]) -> tuple[list[dict], list[dict]]:
    """Split a submission's comments into those decided (told in the summary) and those still without a decision.

    A comment whose decision reaches notify after the publication is told by its own e-mail then.
    """
    ordered = sorted(comments, key=lambda c: c["comment_number"])
    return [c for c in ordered if c.get("decision")], [c for c in ordered if not c.get("decision")]


def is_last_attempt(attempts_made: int) -> bool:
    return attempts_made >= MAX_DELIVERY_ATTEMPTS


class ResendRefused(ValueError):
    pass


def check_resend(status: str) -> None:
    """Only a failed or returned message is sent again, as a new attempt of the same row: a delivered one never
    twice (a mailbox that was full may take it now; the clerk judges by the server's words)."""
    if status not in (NotificationStatus.FAILED.value, NotificationStatus.BOUNCED.value):
        raise ResendRefused(f"only a failed or returned message can be re-sent (this one is {status})")
